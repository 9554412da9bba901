"""Page template, CSS and JavaScript of the HTML report (see ``html.py``).

Kept as string constants so the report needs no package data files. ``PAGE`` is a
``str.format`` template with four fields: ``title`` (already escaped), ``css``,
``data`` (JSON made safe by ``html.json_for_script``) and ``js``; it holds no other
braces. The script never uses ``innerHTML`` with profile text: names, paths and
metadata reach the page through ``textContent`` only.
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header>
  <h1 id="hp-title"></h1>
  <div id="hp-meta"></div>
  <div id="hp-warn" class="warn" hidden></div>
  <div class="controls">
    <label>Thread <select id="hp-thread"></select></label>
    <input id="hp-search" type="search" placeholder="Search functions and files (regular expression)" spellcheck="false">
    <span id="hp-match"></span>
    <button id="hp-reset" type="button">Reset zoom</button>
  </div>
</header>
<main>
<section id="hp-flame-section">
  <div id="hp-crumbs"></div>
  <div id="hp-flame-box"><canvas id="hp-flame"></canvas></div>
  <div class="hint">Click a frame to zoom, click a lower frame to zoom out; hover for details.</div>
</section>
<section id="hp-lower">
  <div id="hp-table-wrap">
    <table id="hp-table">
      <thead><tr>
        <th data-k="name" class="l">Function</th><th data-k="file" class="l">Location</th>
        <th data-k="n">Calls</th><th data-k="s">Self</th><th data-k="s" data-pct="1">Self %</th>
        <th data-k="c">Total</th><th data-k="c" data-pct="1">Total %</th><th data-k="pc">Per call</th>
      </tr></thead>
      <tbody></tbody>
    </table>
    <button id="hp-more" type="button" hidden>Show more</button>
  </div>
  <aside id="hp-detail"><p class="muted">Select a function to see its callers and callees.</p></aside>
</section>
</main>
<div id="hp-tip" hidden></div>
<footer id="hp-footer"></footer>
<script type="application/json" id="hp-data">{data}</script>
<script>{js}</script>
</body>
</html>
"""

CSS = r"""
*{box-sizing:border-box}
body{margin:0;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;background:#fafafa}
header{padding:10px 16px 6px;background:#fff;border-bottom:1px solid #ddd;position:sticky;top:0;z-index:2}
h1{font-size:17px;margin:0 0 2px;word-break:break-all}
#hp-meta{color:#666;font-size:12px}
.warn{background:#fff3cd;border:1px solid #e0c36a;padding:4px 8px;margin:6px 0;border-radius:4px}
.controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-top:6px}
#hp-search{flex:1 1 260px;max-width:520px;padding:4px 6px;font:inherit}
select,button{font:inherit;padding:3px 8px}
#hp-match{color:#555}
#hp-match .x{cursor:pointer;color:#a00;margin-left:4px}
main{padding:8px 16px}
#hp-crumbs{font-size:12px;color:#555;margin:2px 0 4px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#hp-crumbs a{color:#1a5fb4;cursor:pointer}
#hp-flame-box{background:#fff;border:1px solid #ddd;max-height:62vh;overflow:auto;position:relative}
#hp-flame{display:block;cursor:pointer}
.hint{color:#888;font-size:11px;margin:2px 0 10px}
#hp-lower{display:flex;gap:12px;align-items:flex-start;flex-wrap:wrap}
#hp-table-wrap{flex:3 1 720px;min-width:0;overflow:auto;max-height:70vh;background:#fff;border:1px solid #ddd}
#hp-detail{flex:1 1 300px;min-width:0;background:#fff;border:1px solid #ddd;padding:8px 10px;max-height:70vh;overflow:auto}
table{border-collapse:collapse;width:100%}
th,td{padding:3px 6px;text-align:right;white-space:nowrap;border-bottom:1px solid #eee}
th.l,td.l{text-align:left}
td.l{max-width:260px;overflow:hidden;text-overflow:ellipsis}
thead th{position:sticky;top:0;background:#f0f0f0;cursor:pointer;user-select:none}
thead th.asc::after{content:" \25B2"}
thead th.desc::after{content:" \25BC"}
tbody tr{cursor:pointer}
tbody tr:hover{background:#eef4ff}
tbody tr.sel{background:#dbe8ff}
#hp-detail h2{font-size:15px;margin:2px 0;word-break:break-all}
#hp-detail h3{font-size:13px;margin:12px 0 2px}
#hp-detail .loc{color:#666;font-size:12px;word-break:break-all}
#hp-detail a{color:#1a5fb4;cursor:pointer}
#hp-detail table{font-size:12px;table-layout:fixed}
#hp-detail td{overflow:hidden;text-overflow:ellipsis}
#hp-detail th:nth-child(2){width:68px}
#hp-detail th:nth-child(3),#hp-detail th:nth-child(4){width:62px}
#hp-detail th:nth-child(5){width:60px}
#hp-detail th,#hp-detail td{padding:2px 4px}
.muted{color:#888}
#hp-tip{position:fixed;pointer-events:none;background:rgba(30,30,30,.94);color:#fff;padding:6px 8px;border-radius:4px;font-size:12px;max-width:520px;z-index:5;word-break:break-all}
#hp-tip b{color:#ffd27f}
footer{color:#999;font-size:11px;padding:8px 16px}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
"""

JS = r"""
(function () {
"use strict";
// Data (see html.py report_data): funcs {name, file (index into files), line, kind},
// threads [{name, truncated, nodes {f,p,n,s,t}, fs {f,n,p,s,c}, es {a,b,n,p,s,c}}].
// Node 0 of every tree is the root; parents come before children; t is the width.
const D = JSON.parse(document.getElementById("hp-data").textContent);
const FN = D.funcs, TS = D.tickSeconds, NF = FN.name.length;
const $ = (id) => document.getElementById(id);
const ROWH = 18, MAXROWS = 1500, ANCESTORS = 40, FONT = "12px system-ui,-apple-system,sans-serif";

// ---- formatting --------------------------------------------------------------------
// Three significant digits in the largest unit that keeps them below 1000: 999.96 µs
// is "1.00 ms", not "1.00e+3 µs".
function fmtSec(s) {
  const a = Math.abs(s);
  if (s === 0) return "0";
  for (const [k, u] of [[1, " s"], [1e-3, " ms"], [1e-6, " \u00b5s"], [1e-9, " ns"]]) {
    if (a >= k * 0.9995 || k === 1e-9) { const v = s / k; return (Math.abs(v) >= 999.5 ? v.toFixed(0) : v.toPrecision(3)) + u; }
  }
}
function fmtTime(ticks) { return fmtSec(ticks * TS); }
function fmtPct(x) { return (100 * x).toFixed(x >= 0.1 ? 1 : 2) + "%"; }
function fmtInt(n) { return n.toLocaleString("en-US"); }
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function loc(f) { return FN.kind[f] === 2 ? "(built-in)" : D.files[FN.file[f]] + ":" + FN.line[f]; }
function label(f) { return FN.kind[f] === 2 ? FN.name[f] : FN.name[f] + " (" + loc(f) + ")"; }

// ---- colours -----------------------------------------------------------------------
function hash(s) { let h = 2166136261; for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); } return h >>> 0; }
function baseColour(kind, name) {
  const v = hash(name), a = (v & 255) / 255, b = ((v >> 8) & 255) / 255;
  if (kind === 2) return "rgb(" + (80 + 60 * a | 0) + "," + (140 + 60 * b | 0) + "," + (200 + 55 * a | 0) + ")";
  if (kind === 1) return "rgb(" + (110 + 60 * a | 0) + "," + (185 + 40 * b | 0) + "," + (70 + 40 * a | 0) + ")";
  if (kind < 0) return "rgb(205,205,205)";
  return "rgb(" + (205 + 50 * b | 0) + "," + (80 + 130 * a | 0) + "," + (30 + 40 * b | 0) + ")";
}
const colourCache = new Map();
function colourOf(f) {
  let c = colourCache.get(f);
  if (c === undefined) { c = f < 0 ? baseColour(-1, "") : baseColour(FN.kind[f], FN.name[f]); colourCache.set(f, c); }
  return c;
}

// ---- state ---------------------------------------------------------------------------
const S = { sel: [], tree: null, zoom: 0, match: null, focusFunc: -1, stats: null,
            sortKey: "c", sortDesc: true, limit: 200, selected: -1, visible: 0, drawn: [] };

// The tree of the selected threads: one synthetic root; with several threads, one frame
// per thread under it (f = -2 - thread index). Arrays, children in CSR form.
function buildTree(sel) {
  const split = sel.length > 1;
  let size = 1 + (split ? sel.length : 0);
  for (const ti of sel) size += D.threads[ti].nodes.f.length - 1;
  const f = new Int32Array(size), p = new Int32Array(size), n = new Float64Array(size),
        s = new Float64Array(size), t = new Float64Array(size);
  f[0] = -1; p[0] = -1;
  let next = 1 + (split ? sel.length : 0);
  sel.forEach((ti, k) => {
    const N = D.threads[ti].nodes;
    let base = 0;
    if (split) { base = 1 + k; f[base] = -2 - ti; p[base] = 0; t[base] = N.t[0]; }
    t[0] += N.t[0];
    const off = next - 1;
    for (let j = 1; j < N.f.length; j++) {
      const i = off + j;
      f[i] = N.f[j]; p[i] = N.p[j] === 0 ? base : off + N.p[j];
      n[i] = N.n[j]; s[i] = N.s[j]; t[i] = N.t[j];
    }
    next += N.f.length - 1;
  });
  // children, sorted by label
  const cnt = new Int32Array(size + 1);
  for (let i = 1; i < size; i++) cnt[p[i] + 1]++;
  for (let i = 0; i < size; i++) cnt[i + 1] += cnt[i];
  const start = cnt.slice(), kids = new Int32Array(Math.max(size - 1, 0)), fill = cnt.slice();
  for (let i = 1; i < size; i++) kids[fill[p[i]]++] = i;
  const names = (i) => f[i] >= 0 ? FN.name[f[i]] : (f[i] === -1 ? "all" : D.threads[-2 - f[i]].name);
  for (let i = 0; i < size; i++) {
    const a = start[i], b = start[i + 1];
    if (b - a > 1) {
      const part = Array.from(kids.subarray(a, b));
      part.sort((x, y) => { const nx = names(x), ny = names(y); return nx < ny ? -1 : nx > ny ? 1 : x - y; });
      kids.set(part, a);
    }
  }
  const x = new Float64Array(size), d = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    let cx = x[i];
    for (let k = start[i]; k < start[i + 1]; k++) { const c = kids[k]; x[c] = cx; d[c] = d[i] + 1; cx += t[c]; }
  }
  return { f, p, n, s, t, x, d, start, kids, size, name: names };
}

// Flat stats and edges of the selected threads, merged.
function buildStats(sel) {
  const n = new Float64Array(NF), pc = new Float64Array(NF), s = new Float64Array(NF), c = new Float64Array(NF);
  const used = new Uint8Array(NF);
  for (const ti of sel) {
    const fs = D.threads[ti].fs;
    for (let j = 0; j < fs.f.length; j++) {
      const i = fs.f[j]; used[i] = 1;
      n[i] += fs.n[j]; pc[i] += fs.p[j]; s[i] += fs.s[j]; c[i] += fs.c[j];
    }
  }
  const rows = [];
  for (let i = 0; i < NF; i++) if (used[i]) rows.push(i);
  return { n, p: pc, s, c, rows };
}

// ---- flame graph ---------------------------------------------------------------------
const canvas = $("hp-flame"), box = $("hp-flame-box"), tip = $("hp-tip");

function chainOf(i) { const T = S.tree, out = []; while (i >= 0) { out.push(i); i = T.p[i]; } return out.reverse(); }

function render() {
  const T = S.tree; if (!T) return;
  const W = Math.max(200, box.clientWidth - 2);
  const chain = chainOf(S.zoom).slice(-ANCESTORS);
  const baseRow = chain.length - 1, z = S.zoom;
  const scale = T.t[z] > 0 ? W / T.t[z] : 0, x0 = T.x[z];
  // collect visible frames (pruned depth first)
  const vis = [], runs = [];
  let maxRow = baseRow;
  const stack = [z];
  while (stack.length) {
    const i = stack.pop();
    const row = baseRow + T.d[i] - T.d[z];
    if (row > MAXROWS) continue;
    vis.push(i);
    if (row > maxRow) maxRow = row;
    for (let k = T.start[i + 1] - 1; k >= T.start[i]; k--) {
      const c = T.kids[k];
      if (T.t[c] * scale >= 0.5) stack.push(c);
    }
    // runs of neighbouring children too narrow to draw become one grey "many" block
    if (row < MAXROWS) {
      let run = null;
      for (let k = T.start[i]; k <= T.start[i + 1]; k++) {
        const c = k < T.start[i + 1] ? T.kids[k] : -1;
        if (c >= 0 && T.t[c] * scale < 0.5) {
          if (!run) run = { x: T.x[c], t: 0, count: 0, row: row + 1 };
          run.t += T.t[c]; run.count++;
        } else if (run) {
          if (run.t * scale >= 1) { runs.push(run); if (run.row > maxRow) maxRow = run.row; }
          run = null;
        }
      }
    }
  }
  const H = (maxRow + 1) * ROWH + 2, dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
  canvas.style.width = W + "px"; canvas.style.height = H + "px";
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.font = FONT; ctx.textBaseline = "middle";
  const charW = ctx.measureText("abcdefghijklmnopqrstuvwxyz").width / 26;
  const drawn = [];
  const frame = (i, px, w, row, dim) => {
    const f = T.f[i], y = row * ROWH;
    let fill = colourOf(f);
    if (S.match) fill = (f >= 0 && S.match[f]) ? "rgb(238,80,230)" : "rgb(222,222,222)";
    ctx.globalAlpha = dim ? 0.55 : 1;
    ctx.fillStyle = fill; ctx.fillRect(px, y + 1, Math.max(w - 0.5, 0.5), ROWH - 2);
    ctx.globalAlpha = 1;
    if (w > 3 * charW + 6) {
      const name = f >= 0 ? label(f) : T.name(i);
      const fits = Math.floor((w - 6) / charW);
      ctx.fillStyle = "#111";
      ctx.fillText(name.length <= fits ? name : name.slice(0, Math.max(fits - 1, 1)) + "\u2026", px + 3, y + ROWH / 2 + 0.5);
    }
    drawn.push(i);
  };
  for (let r = 0; r < chain.length - 1; r++) frame(chain[r], 0, W, r, true);
  for (const i of vis) frame(i, (T.x[i] - x0) * scale, T.t[i] * scale, baseRow + T.d[i] - T.d[z], false);
  ctx.fillStyle = "rgb(190,190,190)";
  for (const r of runs) ctx.fillRect((r.x - x0) * scale, r.row * ROWH + 1, Math.max(r.t * scale - 0.5, 0.5), ROWH - 2);
  S.visible = vis.length; S.drawn = drawn;
  S.layout = { chain, baseRow, scale, x0, W, runs };
  document.body.dataset.frames = String(vis.length);
  renderCrumbs(chain);
}

// The frame under canvas coordinates (x, y), or -1.
function frameAt(x, y) {
  const T = S.tree, L = S.layout; if (!T || !L) return -1;
  const row = Math.floor(y / ROWH);
  if (row < 0) return -1;
  if (row < L.baseRow) return L.chain[row];
  let cur = S.zoom; const tick = L.x0 + x / L.scale;
  if (tick < T.x[cur] || tick >= T.x[cur] + T.t[cur]) return -1;
  for (let r = L.baseRow; r < row; r++) {
    let lo = T.start[cur], hi = T.start[cur + 1] - 1, found = -1;
    while (lo <= hi) {               // children are laid out left to right
      const mid = (lo + hi) >> 1, c = T.kids[mid];
      if (tick < T.x[c]) hi = mid - 1; else if (tick >= T.x[c] + T.t[c]) lo = mid + 1; else { found = c; break; }
    }
    if (found < 0 || T.t[found] * L.scale < 0.5) return -1;
    cur = found;
  }
  return cur;
}

function renderCrumbs(chain) {
  const c = $("hp-crumbs"); c.textContent = "";
  const T = S.tree;
  chain.forEach((i, k) => {
    if (k) c.appendChild(document.createTextNode(" \u203a "));
    const a = el("a", T.f[i] >= 0 ? FN.name[T.f[i]] : T.name(i));
    a.addEventListener("click", () => zoomTo(i));
    c.appendChild(a);
  });
}

function zoomTo(i) { S.zoom = i; render(); box.scrollTop = 0; }

function showTip(i, ev) {
  const T = S.tree, f = T.f[i];
  tip.textContent = "";
  tip.appendChild(el("b", f >= 0 ? FN.name[f] : T.name(i)));
  if (f >= 0) tip.appendChild(el("div", loc(f)));
  const total = T.t[0] || 1;
  tip.appendChild(el("div", "Total: " + fmtTime(T.t[i]) + " (" + fmtPct(T.t[i] / total) + ")"));
  if (f >= 0) {
    tip.appendChild(el("div", "Self: " + fmtTime(T.s[i]) + " (" + fmtPct(T.s[i] / total) + ")"));
    tip.appendChild(el("div", "Calls: " + fmtInt(T.n[i])));
  }
  placeTip(ev);
}

// A block of frames too narrow to draw under canvas coordinates (x, y), or null.
function runAt(x, y) {
  const L = S.layout; if (!L) return null;
  const row = Math.floor(y / ROWH), tick = L.x0 + x / L.scale;
  return L.runs.find((r) => r.row === row && tick >= r.x && tick < r.x + r.t) || null;
}
function placeTip(ev) {
  tip.hidden = false;
  const tw = tip.offsetWidth, th = tip.offsetHeight;
  let x = ev.clientX + 14, y = ev.clientY + 14;
  if (x + tw > window.innerWidth - 4) x = Math.max(4, ev.clientX - tw - 10);
  if (y + th > window.innerHeight - 4) y = Math.max(4, ev.clientY - th - 10);
  tip.style.left = x + "px"; tip.style.top = y + "px";
}
canvas.addEventListener("mousemove", (ev) => {
  const r = canvas.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
  const i = frameAt(x, y);
  if (i >= 0) { showTip(i, ev); return; }
  const run = runAt(x, y);
  if (!run) { tip.hidden = true; return; }
  tip.textContent = "";
  tip.appendChild(el("b", fmtInt(run.count) + " frames too narrow to show"));
  tip.appendChild(el("div", "Total: " + fmtTime(run.t) + " (" + fmtPct(run.t / (S.tree.t[0] || 1)) + ")"));
  tip.appendChild(el("div", "Use search or the table below to find them."));
  placeTip(ev);
});
canvas.addEventListener("mouseleave", () => { tip.hidden = true; });
canvas.addEventListener("click", (ev) => {
  const r = canvas.getBoundingClientRect(), i = frameAt(ev.clientX - r.left, ev.clientY - r.top);
  if (i < 0) return;
  zoomTo(i === S.zoom ? Math.max(S.tree.p[i], 0) : i);
  if (S.tree.f[i] >= 0) select(S.tree.f[i], false);
});
$("hp-reset").addEventListener("click", () => zoomTo(0));

// ---- search --------------------------------------------------------------------------
function setSearch(text) {
  S.focusFunc = -1;
  text = text.trim();
  document.body.dataset.search = text;      // what the graph and table now show
  if (!text) { S.match = null; updateMatch(); return; }
  let re;
  try { re = new RegExp(text, "i"); } catch (e) { re = new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i"); }
  const m = new Uint8Array(NF);
  for (let f = 0; f < NF; f++) if (re.test(FN.name[f]) || re.test(loc(f))) m[f] = 1;
  S.match = m; updateMatch();
}
function focusFunction(f) {
  S.focusFunc = f; const m = new Uint8Array(NF); m[f] = 1; S.match = m;
  $("hp-search").value = ""; updateMatch();
}
function updateMatch() {
  const out = $("hp-match"); out.textContent = "";
  if (S.match) {
    // time under matching frames, each counted once (not again under a matching ancestor)
    const T = S.tree, under = new Uint8Array(T.size); let sum = 0;
    for (let i = 1; i < T.size; i++) {
      const hit = T.f[i] >= 0 && S.match[T.f[i]] === 1, up = under[T.p[i]] === 1;
      if (hit && !up) sum += T.t[i];
      under[i] = hit || up ? 1 : 0;
    }
    const what = S.focusFunc >= 0 ? "Highlighted " + FN.name[S.focusFunc] + ": " : "Matched: ";
    out.appendChild(el("span", what + fmtTime(sum) + " (" + fmtPct(T.t[0] ? sum / T.t[0] : 0) + ")"));
    const x = el("span", "\u2715", "x"); x.title = "Clear";
    x.addEventListener("click", () => { $("hp-search").value = ""; setSearch(""); });
    out.appendChild(x);
    document.body.dataset.matched = String(sum);
  } else delete document.body.dataset.matched;
  S.limit = 200;
  render(); renderTable();
}
let searchTimer = 0;
$("hp-search").addEventListener("input", (ev) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => setSearch(ev.target.value), 150);
});

// ---- function table --------------------------------------------------------------------
const KEYS = {
  name: (f) => FN.name[f], file: (f) => loc(f),
  n: (f) => S.stats.n[f], s: (f) => S.stats.s[f], c: (f) => S.stats.c[f],
  pc: (f) => S.stats.p[f] ? S.stats.c[f] / S.stats.p[f] : 0,
};
function sortBy(key, desc) {
  if (desc === undefined) desc = key === S.sortKey ? !S.sortDesc : !(key === "name" || key === "file");
  S.sortKey = key; S.sortDesc = desc; S.limit = 200; renderTable();
}
function renderTable() {
  const st = S.stats, get = KEYS[S.sortKey], sign = S.sortDesc ? -1 : 1;
  let rows = st.rows;
  if (S.match) rows = rows.filter((f) => S.match[f]);
  const keyed = rows.map((f) => [get(f), f]);
  keyed.sort((a, b) => (a[0] < b[0] ? -sign : a[0] > b[0] ? sign : a[1] - b[1]));
  const body = document.querySelector("#hp-table tbody"), frag = document.createDocumentFragment();
  const total = S.tree.t[0] || 1;
  for (const [, f] of keyed.slice(0, S.limit)) {
    const tr = el("tr"); tr.dataset.f = String(f);
    if (f === S.selected) tr.className = "sel";
    const name = el("td", FN.name[f], "l"), where = el("td", loc(f), "l");
    name.title = label(f); where.title = loc(f);
    const sw = el("span", null, "sw"); sw.style.background = colourOf(f); name.prepend(sw);
    const calls = st.n[f] === st.p[f] ? fmtInt(st.n[f]) : fmtInt(st.n[f]) + "/" + fmtInt(st.p[f]);
    tr.append(name, where, el("td", calls), el("td", fmtTime(st.s[f])), el("td", fmtPct(st.s[f] / total)),
              el("td", fmtTime(st.c[f])), el("td", fmtPct(st.c[f] / total)),
              el("td", st.p[f] ? fmtTime(st.c[f] / st.p[f]) : "\u2013"));
    frag.appendChild(tr);
  }
  body.textContent = ""; body.appendChild(frag);
  const more = $("hp-more");
  more.hidden = keyed.length <= S.limit;
  more.textContent = "Show more (" + fmtInt(keyed.length - Math.min(S.limit, keyed.length)) + " hidden)";
  document.querySelectorAll("#hp-table th").forEach((th) => {
    th.classList.remove("asc", "desc");
    if (th.dataset.k === S.sortKey && !th.dataset.pct) th.classList.add(S.sortDesc ? "desc" : "asc");
  });
  document.body.dataset.rows = String(Math.min(S.limit, keyed.length));
}
document.querySelectorAll("#hp-table th").forEach((th) => th.addEventListener("click", () => sortBy(th.dataset.k)));
$("hp-more").addEventListener("click", () => { S.limit += 1000; renderTable(); });
document.querySelector("#hp-table tbody").addEventListener("click", (ev) => {
  const tr = ev.target.closest("tr"); if (tr) select(Number(tr.dataset.f), true);
});

// ---- callers / callees -------------------------------------------------------------------
function edgesOf(f) {
  const callers = new Map(), callees = new Map();
  const add = (m, k, es, j) => {
    let r = m.get(k); if (!r) { r = [0, 0, 0, 0]; m.set(k, r); }
    r[0] += es.n[j]; r[1] += es.p[j]; r[2] += es.s[j]; r[3] += es.c[j];
  };
  for (const ti of S.sel) {
    const es = D.threads[ti].es;
    for (let j = 0; j < es.a.length; j++) {
      if (es.b[j] === f) add(callers, es.a[j], es, j);
      if (es.a[j] === f) add(callees, es.b[j], es, j);
    }
  }
  return { callers, callees };
}
function edgeTable(title, m, total) {
  const wrap = el("div"); wrap.appendChild(el("h3", title + " (" + m.size + ")"));
  if (!m.size) { wrap.appendChild(el("p", "none", "muted")); return wrap; }
  const t = el("table"), head = el("tr");
  for (const h of ["Function", "Calls", "Self", "Total", "%"]) head.appendChild(el("th", h, h === "Function" ? "l" : ""));
  const thead = el("thead"); thead.appendChild(head); t.appendChild(thead);
  const body = el("tbody");
  [...m.entries()].sort((a, b) => b[1][3] - a[1][3]).forEach(([g, r]) => {
    const tr = el("tr"), td = el("td", null, "l"), a = el("a", FN.name[g]);
    a.title = label(g); a.addEventListener("click", () => select(g, true)); td.appendChild(a);
    tr.append(td, el("td", r[0] === r[1] ? fmtInt(r[0]) : fmtInt(r[0]) + "/" + fmtInt(r[1])),
              el("td", fmtTime(r[2])), el("td", fmtTime(r[3])), el("td", fmtPct(total ? r[3] / total : 0)));
    body.appendChild(tr);
  });
  t.appendChild(body); wrap.appendChild(t);
  return wrap;
}
function select(f, scrollTable) {
  if (!(f >= 0 && f < NF)) return;
  S.selected = f;
  const box = $("hp-detail"); box.textContent = "";
  const st = S.stats, total = S.tree.t[0] || 1;
  box.appendChild(el("h2", FN.name[f]));
  box.appendChild(el("div", FN.kind[f] === 2 ? "C function (built-in)" : loc(f), "loc"));
  const calls = st.n[f] === st.p[f] ? fmtInt(st.n[f]) : fmtInt(st.n[f]) + " (" + fmtInt(st.p[f]) + " primitive)";
  box.appendChild(el("p", "Calls " + calls + " \u00b7 self " + fmtTime(st.s[f]) + " (" + fmtPct(st.s[f] / total) +
                    ") \u00b7 total " + fmtTime(st.c[f]) + " (" + fmtPct(st.c[f] / total) + ")"));
  const hl = el("button", "Highlight in flame graph"); hl.type = "button";
  hl.addEventListener("click", () => focusFunction(f));
  box.appendChild(hl);
  const { callers, callees } = edgesOf(f);
  box.appendChild(edgeTable("Callers", callers, st.c[f]));
  box.appendChild(edgeTable("Callees", callees, st.c[f]));
  document.querySelectorAll("#hp-table tbody tr").forEach((tr) => {
    const on = Number(tr.dataset.f) === f; tr.classList.toggle("sel", on);
    if (on && scrollTable) tr.scrollIntoView({ block: "nearest" });
  });
}

// ---- threads and start-up ----------------------------------------------------------------
function selectThread(value) {
  S.sel = value === "all" ? D.threads.map((_, i) => i) : [Number(value)];
  S.tree = buildTree(S.sel); S.stats = buildStats(S.sel); S.zoom = 0; S.limit = 200;
  if (S.match) updateMatch(); else { render(); renderTable(); }
  if (S.selected >= 0) select(S.selected, false);
}

function init() {
  $("hp-title").textContent = D.title;
  $("hp-meta").textContent = D.summary.join(" \u00b7 ");
  const trunc = D.threads.filter((t) => t.truncated).map((t) => t.name);
  if (trunc.length) {
    const w = $("hp-warn"); w.hidden = false;
    w.textContent = "The call tree size cap was reached in " + trunc.join(", ") + ": deeper paths were merged.";
  }
  const sel = $("hp-thread");
  const totalOf = (t) => t.nodes.t[0];
  if (D.threads.length > 1) sel.appendChild(new Option("All threads (" + D.threads.length + ")", "all"));
  D.threads.forEach((t, i) => sel.appendChild(new Option(t.name + " \u2014 " + fmtTime(totalOf(t)), String(i))));
  sel.disabled = D.threads.length < 2;
  sel.addEventListener("change", () => selectThread(sel.value));
  $("hp-footer").textContent = "Generated by " + D.exporter + ". Self-contained: works offline.";
  if (!D.threads.length) { $("hp-crumbs").textContent = "This profile holds no threads."; }
  selectThread(D.threads.length > 1 ? "all" : "0");
  let pending = false;
  window.addEventListener("resize", () => {
    if (pending) return; pending = true;
    requestAnimationFrame(() => { pending = false; render(); });
  });
  document.body.dataset.ready = "1";
}

window.hotpath = { data: D, state: S, zoomTo, setSearch, focusFunction, sortBy, select, selectThread, frameAt, render };
try { if (D.threads.length) init(); else { document.body.dataset.ready = "1"; $("hp-title").textContent = D.title; } }
catch (e) { document.body.dataset.error = String(e && e.stack || e); throw e; }
})();
"""
