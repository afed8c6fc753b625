// Every chain on the node, and a chart of committed transactions a second over the last five
// minutes, drawn from the Quants' own timestamps and counts (GET /chains/{id}/headers).
import { api, age, chainLink, chainPath, count, el, needsProof, table } from "./dom.js";

const windowSeconds = 300;
const bucketSeconds = 5;

/** Committed transactions by Quant timestamp, per chain, for the last `windowSeconds`. */
class Throughput {
  constructor() { this.quants = new Map(); this.heights = new Map(); this.hidden = new Set(); }

  /** Reads the Quants a chain committed since it was last read (at first, the last thousand). */
  async follow(stats) {
    const known = this.heights.get(stats.chain);
    if (stats.readersOnly || this.hidden.has(stats.chain) || stats.height === 0 || known === stats.height) return;
    // After a fork switch (a lower tip) the last thousand are read again.
    let from = known === undefined || stats.height < known ? Math.max(1, stats.height - 999) : known + 1;
    const list = (this.quants.get(stats.chain) ?? []).filter((q) => q.height < from);
    try {
      while (from <= stats.height) {
        const page = await api(`${chainPath(stats.chain)}/headers?from=${from}&limit=1000`);
        for (const h of page.headers) list.push({ height: h.height, at: h.timestamp, transactions: h.transactionCount });
        if (page.next === undefined || page.next === null || page.headers.length === 0) break;
        from = page.next;
      }
    } catch (error) {
      if (needsProof(error)) { this.hidden.add(stats.chain); return; }
      throw error;
    }
    this.quants.set(stats.chain, list);
    this.heights.set(stats.chain, stats.height);
  }

  /** Transactions a second in each bucket, oldest first, ending now. */
  buckets(now) {
    const values = new Array(windowSeconds / bucketSeconds).fill(0);
    for (const [chain, list] of this.quants) {
      const recent = list.filter((q) => q.at > now - windowSeconds * 1000);
      this.quants.set(chain, recent);
      for (const q of recent) {
        const back = Math.floor((now - q.at) / (bucketSeconds * 1000));
        const index = values.length - 1 - Math.max(0, back);
        if (index >= 0) values[index] += q.transactions / bucketSeconds;
      }
    }
    return values;
  }
}

function draw(canvas, values) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 800;
  const height = canvas.clientHeight || 180;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  g.clearRect(0, 0, width, height);
  const top = Math.max(1, ...values);
  const left = 48, bottom = height - 20, plot = width - left - 8;
  g.font = "12px system-ui, sans-serif";
  g.fillStyle = "#6b7280";
  g.fillText(top.toFixed(top < 10 ? 1 : 0), 4, 14);
  g.fillText("0", 4, bottom);
  g.fillText("−5 min", left, height - 4);
  g.fillText("now", width - 32, height - 4);
  g.strokeStyle = "#d1d5db";
  g.beginPath(); g.moveTo(left, bottom + 0.5); g.lineTo(width - 8, bottom + 0.5); g.stroke();
  const step = plot / values.length;
  g.fillStyle = "#2563eb";
  values.forEach((value, i) => {
    const h = (value / top) * (bottom - 8);
    g.fillRect(left + i * step + 1, bottom - h, Math.max(1, step - 2), h);
  });
}

export async function overview(_, main, page) {
  const chart = el("canvas", { id: "throughput", "aria-label": "Committed transactions a second over the last five minutes" });
  const rate = el("span", { id: "rate" }, "");
  const rows = el("tbody", {});
  main.append(
    el("h1", {}, "Chains"),
    el("section", {}, el("h2", {}, "Committed transactions a second, last five minutes ", rate), chart),
    el("section", {}, table(["Chain", "Engine", "Height", "Tip age", "Transactions", "Mempool", "Peers"], [], { id: "chains" })));
  main.querySelector("#chains tbody").replaceWith(rows);
  const throughput = new Throughput();

  async function refresh() {
    const chains = await api("/chains");
    rows.replaceChildren(...chains.map((c) => el("tr", {},
      el("td", {}, el("a", { href: chainLink(c.chain) }, c.name), c.readersOnly ? el("span", { class: "badge" }, "readers only") : null,
        c.fork ? el("span", { class: "badge" }, "fork") : null),
      el("td", {}, c.engine),
      el("td", { class: "number" }, count(c.height)),
      el("td", {}, c.height > 0 ? age(c.tipTimestamp) : "—"),
      el("td", { class: "number" }, count(c.transactions)),
      el("td", { class: "number" }, `${count(c.mempool)} / ${count(c.mempoolCapacity)}`),
      el("td", { class: "number" }, count(c.peers)))));
    for (const c of chains) await throughput.follow(c);
    const values = throughput.buckets(Date.now());
    const last = values.slice(-6).reduce((a, b) => a + b, 0) / 6;
    rate.replaceChildren(`(last 30 s: ${last.toFixed(1)} tx/s)`);
    draw(chart, values);
  }

  await refresh();
  page.every(2000, refresh);
}
