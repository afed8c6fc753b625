// The explorer's entry: routes (the part after # in the address), the header, and search.
// Each view gets a fresh <main> and a Page; what a view starts (timers, event streams) it hands
// to the Page, which stops it when the reader moves on.
import { api, APIError, chainLink, context, el, explain, quantLink, txLink } from "./dom.js";
import { overview } from "./overview.js";
import { chainView } from "./chain.js";
import { quantView, txView, peersView } from "./records.js";

class Page {
  constructor() { this.stops = []; this.left = false; }
  /** Keeps `stop` to run when the page is left (at once if it already was). */
  own(stop) { if (this.left) stop(); else this.stops.push(stop); }
  every(milliseconds, action) {
    const timer = setInterval(() => { action().catch(() => {}); }, milliseconds);
    this.own(() => clearInterval(timer));
  }
  leave() { this.left = true; for (const stop of this.stops.splice(0)) stop(); }
}

const routes = [
  [/^#?\/?$/, overview],
  [/^#\/peers$/, peersView],
  [/^#\/chain\/([^/]+)$/, chainView],
  [/^#\/chain\/([^/]+)\/quant\/([^/]+)$/, quantView],
  [/^#\/chain\/([^/]+)\/tx\/([^/]+)$/, txView],
  [/^#\/search\/(.*)$/, searchView],
];

let current = new Page();

async function render() {
  current.leave();
  const page = current = new Page();
  const main = el("main", { id: "view" });
  document.getElementById("view").replaceWith(main);
  const hash = location.hash || "#/";
  for (const [pattern, view] of routes) {
    const match = hash.match(pattern);
    if (!match) continue;
    let parts;
    try { parts = match.slice(1).map(decodeURIComponent); } catch { break; }
    try { await view(parts, main, page); } catch (error) {
      if (!page.left) {
        main.replaceChildren(el("h1", {}, error?.status === 401 ? "Readers only" : "Not available"), explain(error),
          el("p", {}, el("a", { href: "#/" }, "See every chain.")));
      }
    }
    return;
  }
  main.append(el("h1", {}, "Not here"), el("p", {}, "There is no such page. ", el("a", { href: "#/" }, "See every chain.")));
}

/** Finds what the reader typed (GET /search): a transaction, a Quant (hash or height), or a chain. */
async function searchView([query], main, page) {
  const text = query.trim();
  main.append(el("h1", {}, "Search"), el("p", { class: "muted" }, `Looking for “${text}”…`));
  if (new TextEncoder().encode(text).length > 128) {
    main.lastChild.replaceWith(el("p", { class: "notice" }, "That is longer than anything search finds (at most 128 bytes)."));
    return;
  }
  const found = (await api(`/search?q=${encodeURIComponent(text)}`)).results;
  // A height names a Quant on every chain that tall: the one the reader was looking at first.
  const hit = found.find((h) => h.chain === context.chain) ?? found[0];
  const links = { chain: (h) => chainLink(h.chain), quant: (h) => quantLink(h.chain, h.ref), transaction: (h) => txLink(h.chain, h.ref) };
  if (hit && links[hit.kind]) {
    if (!page.left) location.replace(links[hit.kind](hit));
    return;
  }
  main.lastChild.replaceWith(el("p", { class: "notice" },
    `Nothing on this node matches “${text}”. Search takes a transaction id or Quant hash (64 hex digits), a height, or a chain name.`));
}

async function nodeLine() {
  const line = document.getElementById("node-line");
  try {
    const chains = await api("/chains");
    let ready = "ready";
    try { await api("/ready"); } catch (error) { ready = error instanceof APIError ? "not ready" : "unreachable"; }
    const first = chains[0];
    line.replaceChildren(first ? `node ${first.node.slice(0, 12)}… · v${first.version} · ${ready}` : ready);
    line.title = first ? `node key ${first.node}` : "";
  } catch {
    line.replaceChildren("node unreachable");
  }
}

document.getElementById("search").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("search-input");
  const query = input.value.trim();
  input.value = "";
  if (!query) return;
  const target = `#/search/${encodeURIComponent(query)}`;
  // The same search again changes no hash, so no hashchange would run it.
  if (location.hash === target) render(); else location.hash = target;
});
window.addEventListener("hashchange", render);
nodeLine();
setInterval(nodeLine, 10000);
render();
