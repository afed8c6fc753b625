// One chain: its facts, its latest Quants (live, from the node's event stream), its members and
// the changes that made them, its payload schema, and where it forked from and into.
import { api, APIError, age, chainLink, chainPath, confirmations, context, count, el, explain, facts, hex, quantLink, short, table, time } from "./dom.js";

const shown = 20;
/** Hashes go into selectors below: only 64 hex digits are looked for. */
const isHash = (value) => typeof value === "string" && /^[0-9a-f]{64}$/.test(value);

function quantRow(chain, header) {
  const finality = header.final ? "final" : header.confirmations ? confirmations(header.confirmations) : "";
  return el("tr", { "data-height": header.height, "data-hash": header.hash },
    el("td", { class: "number" }, el("a", { href: quantLink(chain, header.height) }, count(header.height))),
    el("td", {}, el("a", { href: quantLink(chain, header.hash) }, short(header.hash))),
    el("td", { class: "number" }, count(header.transactionCount)),
    el("td", {}, short(header.proposer)),
    el("td", {}, time(header.timestamp)),
    el("td", { class: "finality" }, finality));
}

function chainFacts(stats, bang) {
  return facts([
    ["Chain id", hex(stats.chain)],
    ["Engine", stats.engine + (stats.engine === "pow" ? ` (difficulty ${stats.difficultyBits} bits)` : "")],
    ["Height", count(stats.height)],
    ["Tip", stats.height === 0 ? "the Bang" : stats.readersOnly ? short(stats.tipHash) : el("a", { href: quantLink(stats.chain, stats.tipHash) }, short(stats.tipHash))],
    ["Tip age", stats.height > 0 ? age(stats.tipTimestamp) : "—"],
    ["Final up to", stats.finalHeight !== undefined ? count(stats.finalHeight) : undefined],
    ["Transactions", count(stats.transactions)],
    ["Mempool", `${count(stats.mempool)} waiting of ${count(stats.mempoolCapacity)}`],
    ["Peers", count(stats.peers)],
    ["Reads", stats.readersOnly ? "readers only (a reader's proof is required)" : "open to anyone who can reach the node"],
    ["Created", `${time(bang.timestamp)} by ${bang.creator.slice(0, 12)}…`],
    ["Admin quorum", count(bang.adminQuorum)],
    ["Equivocators", stats.equivocators?.length ? stats.equivocators.map((k) => short(k)) : undefined],
  ]);
}

function lineage(stats, bang, chains) {
  const byId = new Map(chains.map((c) => [c.chain, c]));
  const items = [];
  if (bang.fork) {
    const parent = byId.get(bang.fork.parent);
    items.push(el("li", {}, "Forked from ",
      parent ? el("a", { href: chainLink(parent.chain) }, parent.name) : short(bang.fork.parent),
      ` after height ${count(bang.fork.height)} (`, parent ? el("a", { href: quantLink(parent.chain, bang.fork.hash) }, short(bang.fork.hash)) : short(bang.fork.hash), ")"));
  }
  for (const child of chains.filter((c) => c.fork?.parent === stats.chain)) {
    items.push(el("li", {}, el("a", { href: chainLink(child.chain) }, child.name), ` forked from it after height ${count(child.fork.height)}`));
  }
  return items.length ? el("ul", {}, items) : el("p", { class: "muted" }, "No fork leads to or from this chain on this node.");
}

function schema(bang) {
  const parts = [];
  if (bang.contentType) parts.push(el("p", {}, "Content type of every transaction: ", el("code", {}, bang.contentType)));
  if (bang.schema) {
    let text = bang.schema;
    try { text = JSON.stringify(JSON.parse(bang.schema), null, 2); } catch { /* shown as stored */ }
    parts.push(el("pre", { class: "json" }, text));
  }
  return parts.length ? parts : el("p", { class: "muted" }, "Any payload: the chain sets no content type or schema.");
}

async function membership(main, id) {
  const [members, history] = await Promise.all([api(`${chainPath(id)}/members`), api(`${chainPath(id)}/governance`)]);
  main.append(
    el("h2", {}, `Members (admin quorum ${members.adminQuorum})`),
    table(["Key", "Roles"], members.members.map((m) => el("tr", {}, el("td", {}, hex(m.key)), el("td", {}, m.roles.join(", "))))),
    el("h2", {}, "Membership changes"),
    history.changes.length === 0
      ? el("p", { class: "muted" }, "None since the Bang.")
      : table(["Height", "Member", "Roles after", "Change"], history.changes.slice().reverse().map((c) => el("tr", {},
        el("td", { class: "number" }, el("a", { href: quantLink(id, c.height) }, count(c.height))),
        el("td", {}, short(c.member)),
        el("td", {}, c.roles.length ? c.roles.join(", ") : "removed"),
        el("td", {}, short(c.change))))));
}

/** Follows the chain's events: new Quants on top, disconnected ones struck out, final ones marked. */
function follow(id, rows, page, status) {
  let stream;
  const open = (from) => {
    stream = new EventSource(`${chainPath(id)}/events?from=${encodeURIComponent(from)}`);
    stream.onopen = () => status.replaceChildren("live");
    stream.onerror = () => status.replaceChildren("reconnecting…");
    stream.addEventListener("quant", async (event) => {
      const data = JSON.parse(event.data);
      if (!isHash(data.hash)) return;
      let header;
      try { header = (await api(`${chainPath(id)}/headers?from=${data.height}&limit=1`)).headers[0]; } catch { return; }
      if (!header || header.hash !== data.hash || page.left) return;
      rows.querySelector(`tr[data-hash="${data.hash}"]`)?.remove();
      rows.prepend(quantRow(id, header));
      while (rows.children.length > shown) rows.lastChild.remove();
      // Every Quant below the new tip gained a confirmation.
      for (const row of rows.querySelectorAll("tr:not(.disconnected)")) {
        const cell = row.querySelector(".finality");
        const below = header.height - Number(row.dataset.height) + 1;
        if (cell.textContent !== "final" && below > 0) cell.replaceChildren(confirmations(below));
      }
    });
    stream.addEventListener("disconnected", (event) => {
      const data = JSON.parse(event.data);
      if (!isHash(data.hash)) return;
      const row = rows.querySelector(`tr[data-hash="${data.hash}"]`);
      if (row) { row.classList.add("disconnected"); row.querySelector(".finality").replaceChildren("disconnected by a fork switch"); }
    });
    stream.addEventListener("final", (event) => {
      const data = JSON.parse(event.data);
      if (!isHash(data.hash)) return;
      rows.querySelector(`tr[data-hash="${data.hash}"] .finality`)?.replaceChildren("final");
    });
    stream.addEventListener("cutoff", (event) => { stream.close(); open(JSON.parse(event.data).resume); });
  };
  open("now");
  page.own(() => stream.close());
}

export async function chainView([id], main, page) {
  const [stats, bang, chains] = await Promise.all([api(`${chainPath(id)}/stats`), api(`${chainPath(id)}/bang`), api("/chains")]);
  context.chain = stats.chain;
  const factsBox = el("div", {}, chainFacts(stats, bang));
  main.append(el("h1", {}, stats.name, " ", el("span", { class: "badge" }, stats.engine)), factsBox);
  page.every(2000, async () => factsBox.replaceChildren(chainFacts(await api(`${chainPath(id)}/stats`), bang)));
  main.append(el("h2", {}, "Fork lineage"), lineage(stats, bang, chains));
  if (stats.readersOnly) {
    // Who may do what is public; what the chain holds is not.
    main.append(explain(new APIError(401, "proof_required", "")));
    await membership(main, stats.chain);
    return;
  }
  const status = el("span", { class: "live" }, "connecting…");
  const rows = el("tbody", { id: "quants" });
  main.append(el("h2", {}, "Latest Quants ", status), table(["Height", "Hash", "Transactions", "Proposer", "Time", "Finality"], []));
  main.lastChild.querySelector("tbody").replaceWith(rows);
  if (stats.height > 0) {
    const from = Math.max(1, stats.height - shown + 1);
    const recent = await api(`${chainPath(id)}/headers?from=${from}&limit=${shown}`);
    rows.replaceChildren(...recent.headers.slice().reverse().map((h) => quantRow(stats.chain, h)));
  }
  follow(stats.chain, rows, page, status);
  main.append(el("h2", {}, "Payload schema"), el("div", {}, schema(bang)));
  await membership(main, stats.chain);
}
