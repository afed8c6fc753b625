// Building blocks shared by every view: elements, the node's API, and formatting.
// Everything that comes from the node is put into the page as text, never as markup: a payload,
// a content type or a chain name is data a stranger may have written.

/** An element with attributes and children; strings become text nodes. */
export function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A refusal from the node: its HTTP status and the API's `{error, message}`. */
export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** GET a JSON route of the node this page came from. */
export async function api(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (!response.ok) {
    throw new APIError(response.status, body?.error ?? `http_${response.status}`, body?.message ?? response.statusText);
  }
  return body;
}

/** True when the refusal is a readers-only chain asking for a reader's proof. */
export function needsProof(error) {
  return error instanceof APIError && error.status === 401;
}

/** The chain the reader last looked at: a height typed in search means one of its Quants. */
export const context = { chain: null };

export const chainPath = (chain) => `/chains/${encodeURIComponent(chain)}`;
export const chainLink = (chain) => `#/chain/${encodeURIComponent(chain)}`;
export const quantLink = (chain, ref) => `${chainLink(chain)}/quant/${encodeURIComponent(ref)}`;
export const txLink = (chain, id) => `${chainLink(chain)}/tx/${encodeURIComponent(id)}`;

/** A long hex value cut for a table cell; the whole value is its tooltip and stays searchable. */
export function short(hex) {
  const text = String(hex ?? "");
  return text.length > 20 ? el("span", { class: "hex", title: text }, `${text.slice(0, 10)}…${text.slice(-6)}`) : el("span", { class: "hex" }, text);
}

export function hex(value) { return el("span", { class: "hex full" }, String(value ?? "")); }

export function count(n) { return Number(n ?? 0).toLocaleString("en-US"); }

export function confirmations(n) { return `${count(n)} confirmation${Number(n) === 1 ? "" : "s"}`; }

export function time(ms) {
  if (!ms) return "—";
  return new Date(Number(ms)).toISOString().replace("T", " ").replace("Z", " UTC");
}

export function age(ms) {
  if (!ms) return "—";
  const seconds = Math.max(0, (Date.now() - Number(ms)) / 1000);
  if (seconds < 60) return `${Math.floor(seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/** A definition list of [term, value] pairs; pairs with an undefined value are left out. */
export function facts(pairs) {
  return el("dl", { class: "facts" }, pairs.filter(([, value]) => value !== undefined).map(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
}

export function table(headings, rows, attributes = {}) {
  return el("table", attributes,
    el("thead", {}, el("tr", {}, headings.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows));
}

export function notice(kind, ...text) { return el("p", { class: `notice ${kind}` }, ...text); }

/** What a refusal means to someone reading the page. */
export function explain(error) {
  if (needsProof(error)) {
    return notice("locked", "This chain is readers-only: the node shows its Quants and transactions only to a caller that proves it holds a reader's key (documentation/locks.md). The explorer shows nothing of its content.");
  }
  if (error instanceof APIError) return notice("error", `${error.message} (${error.code}, HTTP ${error.status})`);
  return notice("error", `The node did not answer: ${error.message ?? error}`);
}

/** How many bytes a payload holds, from its base64 alone (nothing decoded). */
export function payloadSize(base64) {
  const text = base64 ?? "";
  return Math.floor(text.length / 4) * 3 - (text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0);
}

/** Payload bytes from the API's base64. */
export function bytesOf(base64) {
  const binary = atob(base64 ?? "");
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
