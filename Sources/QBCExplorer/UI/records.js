// One Quant, one transaction, and the node's peers.
import { age, api, bytesOf, chainLink, chainPath, confirmations, context, count, el, facts, hex, notice, payloadSize, quantLink, short, table, time, txLink } from "./dom.js";

const lockType = "application/vnd.qbc.lock";
/** Rows a Quant page lists; a Quant may hold tens of thousands. */
const listed = 1000;

export async function quantView([chain, ref], main) {
  const [quant, stats] = await Promise.all([api(`${chainPath(chain)}/quants/${encodeURIComponent(ref)}`), api(`${chainPath(chain)}/stats`)]);
  context.chain = stats.chain;
  const h = quant.header;
  const sealedBy = h.seal
    ? [["Seal", hex(h.seal)]]
    : [["Work", `difficulty ${h.difficultyBits} bits, nonce ${h.nonce}`]];
  main.append(
    el("h1", {}, `Quant ${count(h.height)} of `, el("a", { href: chainLink(stats.chain) }, stats.name)),
    el("p", { class: "pager" },
      h.height > 1 ? el("a", { href: quantLink(stats.chain, h.height - 1) }, "← previous") : el("span", { class: "muted" }, "first Quant"),
      h.height < stats.height ? el("a", { href: quantLink(stats.chain, h.height + 1) }, "next →") : el("span", { class: "muted" }, "the tip")),
    facts([
      ["Hash", hex(h.hash)],
      ["Previous", h.height > 1 ? el("a", { href: quantLink(stats.chain, h.previous) }, hex(h.previous)) : el("span", {}, hex(h.previous), " (the Bang)")],
      ["Time", time(h.timestamp)],
      ["Proposer", hex(h.proposer)],
      ...sealedBy,
      ["Merkle root", hex(h.merkleRoot)],
      ["Transactions", count(h.transactionCount)],
      ["Finality", h.final ? "final: a commit certificate of the authorities holds it" : `${confirmations(h.confirmations)} (a fork with more weight could still replace it)`],
      ["Certificate", h.certificate ? `${count(h.certificate.length / 2)} bytes` : undefined],
      ["Cumulative work", count(h.cumulativeWork)],
      ["Cumulative transactions", count(h.cumulativeTransactions)],
    ]),
    el("h2", {}, "Transactions"),
    quant.transactions.length === 0 ? el("p", { class: "muted" }, "None.") : table(["#", "Id", "Sender", "Content type", "Bytes"],
      quant.transactions.slice(0, listed).map((tx, i) => el("tr", {},
        el("td", { class: "number" }, i),
        el("td", {}, el("a", { href: txLink(stats.chain, tx.id) }, short(tx.id))),
        el("td", {}, short(tx.sender)),
        el("td", {}, tx.contentType === lockType ? el("span", { class: "badge locked" }, "locked") : el("code", {}, tx.contentType)),
        el("td", { class: "number" }, count(payloadSize(tx.payload)))))),
    quant.transactions.length > listed ? el("p", { class: "muted" }, `The first ${count(listed)} of ${count(quant.transactions.length)} are listed.`) : null);
}

/** Characters of a payload shown at most: a writer must not be able to freeze a reader's page. */
const shownText = 256 * 1024;

/** The deepest nesting of arrays and objects in JSON text (outside strings). */
function depth(text) {
  let deepest = 0, level = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) { if (c === "\\") i++; else if (c === '"') inString = false; continue; }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") deepest = Math.max(deepest, ++level);
    else if (c === "]" || c === "}") level--;
  }
  return deepest;
}

/** Text cut to `shownText` characters, saying so. */
function bounded(text) {
  return text.length <= shownText ? text : `${text.slice(0, shownText)}\n… (${count(text.length - shownText)} more characters not shown)`;
}

/** A payload as a reader wants it: JSON indented (flat when deeply nested), text as text, anything else as hex. */
function payloadView(tx) {
  const bytes = bytesOf(tx.payload);
  // Media types are case-insensitive and may carry parameters (application/json; charset=utf-8).
  const type = tx.contentType.split(";")[0].trim().toLowerCase();
  const text = () => new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  try {
    if (type === "application/json" || type.endsWith("+json")) {
      const raw = text();
      const value = JSON.parse(raw);
      // Indenting 500 levels deep turns 64 KB into 33 MB: past 32 levels it is shown flat.
      return el("pre", { class: "json", id: "payload" }, bounded(depth(raw) > 32 ? JSON.stringify(value) : JSON.stringify(value, null, 2)));
    }
    if (type.startsWith("text/")) return el("pre", { id: "payload" }, bounded(text()));
  } catch { /* not what its type says: shown as bytes */ }
  const shownBytes = bytes.slice(0, 512);
  const dump = Array.from(shownBytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
  return el("pre", { id: "payload", class: "bytes" }, dump + (bytes.length > shownBytes.length ? ` … (${count(bytes.length)} bytes)` : ""));
}

/** A locked payload: how it is locked and for whom, never its content (the node cannot read it). */
function lockView(tx, lock) {
  const size = payloadSize(tx.payload);
  if (!lock) return notice("locked", `Locked payload (${count(size)} bytes); its envelope does not decode.`);
  const holders = lock.holders ?? [];
  const how = {
    recipients: `sealed to ${holders.length} recipient${holders.length === 1 ? "" : "s"}`,
    passphrase: "locked with a passphrase",
    threshold: `split into ${holders.length} shares; any ${lock.threshold} open it`,
  }[lock.method] ?? lock.method;
  return el("div", { class: "notice locked", id: "payload" },
    el("p", {}, el("strong", {}, "Locked payload. "), `${how}; ${count(size)} bytes; content type inside: `, el("code", {}, lock.contentType), "."),
    holders.length ? el("ul", {}, holders.map((key) => el("li", {}, hex(key)))) : null,
    el("p", { class: "muted" }, "The node never decrypts it. A key holder opens it with: qbc unlock --tx ", tx.id, " --key FILE"));
}

export async function txView([chain, id], main) {
  const [found, stats] = await Promise.all([api(`${chainPath(chain)}/tx/${encodeURIComponent(id)}`), api(`${chainPath(chain)}/stats`)]);
  context.chain = stats.chain;
  const tx = found.transaction;
  const where = found.status === "committed"
    ? el("span", {}, "committed in ", el("a", { href: quantLink(stats.chain, found.height) }, `Quant ${count(found.height)}`),
      ` at position ${found.position}`, found.final ? ", final" : `, ${confirmations(found.confirmations)}`)
    : "waiting in the mempool";
  main.append(
    el("h1", {}, "Transaction on ", el("a", { href: chainLink(stats.chain) }, stats.name)),
    facts([
      ["Id", hex(tx.id)],
      ["Status", where],
      ["Sender", hex(tx.sender)],
      ["Time", time(tx.timestamp)],
      ["Nonce", hex(tx.nonce)],
      ["Content type", el("code", {}, tx.contentType)],
      ["Signature", hex(tx.signature)],
    ]),
    el("h2", {}, "Payload"),
    tx.contentType === lockType ? lockView(tx, found.lock) : payloadView(tx));
}

export async function peersView(_, main, page) {
  const rows = el("tbody", { id: "peers" });
  main.append(el("h1", {}, "Peers"), table(["Node", "Address", "Chains", "State", "Last answered", "Registered"], []));
  main.lastChild.querySelector("tbody").replaceWith(rows);
  async function refresh() {
    const [peers, chains] = await Promise.all([api("/peers"), api("/chains")]);
    const names = new Map(chains.map((c) => [c.chain, c.name]));
    rows.replaceChildren(...peers.peers.map((p) => el("tr", {},
      el("td", {}, short(p.node)),
      el("td", {}, el("code", {}, p.address)),
      el("td", {}, p.chains.map((c, i) => [i ? ", " : "", names.has(c) ? el("a", { href: chainLink(c) }, names.get(c)) : short(c)])),
      el("td", {}, el("span", { class: `state ${p.state}` }, p.state.replace("_", " "))),
      el("td", {}, p.lastAnswered ? age(p.lastAnswered) : "never"),
      el("td", {}, time(p.registered)))));
    if (peers.peers.length === 0) rows.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "This node knows no peers.")));
  }
  await refresh();
  page.every(5000, refresh);
}
