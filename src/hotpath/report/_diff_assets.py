"""Page template, CSS and JavaScript of the differential flame graph (see ``diff.py``).

Same rules as ``_html_assets``: ``PAGE`` is a ``str.format`` template with the fields
``title`` (escaped), ``css``, ``data`` (JSON made safe by ``html.json_for_script``) and
``js``, and holds no other braces; the script puts profile text into the page with
``textContent`` only, and the Content-Security-Policy allows nothing external.
"""
from ._html_assets import CSS as _BASE_CSS

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
    <label>Width <select id="hp-width">
      <option value="b">B (after)</option><option value="a">A (before)</option>
    </select></label>
    <label>Colour by <select id="hp-colour">
      <option value="s">self time</option><option value="t">total time</option>
    </select></label>
    <input id="hp-search" type="search" placeholder="Search functions and files (regular expression)" spellcheck="false">
    <span id="hp-match"></span>
    <button id="hp-reset" type="button">Reset zoom</button>
    <span class="legend"><span>faster</span><span class="bar"></span><span>slower</span></span>
  </div>
</header>
<main>
<section id="hp-flame-section">
  <div id="hp-crumbs"></div>
  <div id="hp-flame-box"><canvas id="hp-flame"></canvas></div>
  <div class="hint">Frames are as wide as their time in the chosen profile, red where B spends more time than A, blue where less. Click a frame to zoom, hover for details; all threads are merged by call path.</div>
</section>
<section id="hp-lower">
  <div id="hp-table-wrap">
    <table id="hp-table">
      <thead><tr>
        <th data-k="name" class="l">Function</th><th data-k="file" class="l">Location</th>
        <th data-k="sa">Self A</th><th data-k="sb">Self B</th><th data-k="sd">&Delta; self</th>
        <th data-k="ca">Total A</th><th data-k="cb">Total B</th><th data-k="cd">&Delta; total</th>
        <th data-k="r">Ratio</th><th data-k="na">Calls A</th><th data-k="nb">Calls B</th>
      </tr></thead>
      <tbody></tbody>
    </table>
    <button id="hp-more" type="button" hidden>Show more</button>
  </div>
</section>
</main>
<div id="hp-tip" hidden></div>
<footer id="hp-footer"></footer>
<script type="application/json" id="hp-data">{data}</script>
<script>{js}</script>
</body>
</html>
"""

CSS = _BASE_CSS + r"""
.legend{display:inline-flex;align-items:center;gap:4px;color:#555;font-size:12px;margin-left:auto}
.legend .bar{display:inline-block;width:120px;height:10px;border-radius:2px;
  background:linear-gradient(90deg,rgb(49,130,189),rgb(228,228,228),rgb(222,45,38))}
#hp-table td.l:first-child{max-width:360px}
td.up{color:#b2182b}
td.down{color:#2166ac}
td .tag{display:inline-block;font-size:10px;padding:0 4px;border-radius:3px;margin-left:4px;color:#fff;vertical-align:1px}
td .tag.new{background:#c0392b}
td .tag.removed{background:#2c6fad}
#hp-tip .up{color:#ff9c8f}
#hp-tip .down{color:#9cc8ff}
"""

JS = r"""
(function () {
"use strict";
// Data (see diff.py diff_data): funcs {name, file (index into files), line, kind,
// st (0 both, 1 new, 2 removed)}; a, b: per function {n calls, s self, c cumulative}
// in seconds; tree {f, p, an, as, at, bn, bs, bt}: the merged calling-context tree,
// node 0 the root, parents first, counters in each side's own ticks (tick[0], tick[1]).
const D = JSON.parse(document.getElementById("hp-data").textContent);
const FN = D.funcs, NF = FN.name.length, TR = D.tree, NN = TR.f.length;
const TA = D.tick[0], TB = D.tick[1];
const $ = (id) => document.getElementById(id);
const ROWH = 18, MAXROWS = 1500, ANCESTORS = 40, FONT = "12px system-ui,-apple-system,sans-serif";

// ---- formatting ----------------------------------------------------------------------
// Three significant digits in the largest unit that keeps them below 1000.
function fmtSec(s) {
  const a = Math.abs(s);
  if (s === 0) return "0";
  for (const [k, u] of [[1, " s"], [1e-3, " ms"], [1e-6, " \u00b5s"], [1e-9, " ns"]]) {
    if (a >= k * 0.9995 || k === 1e-9) { const v = s / k; return (Math.abs(v) >= 999.5 ? v.toFixed(0) : v.toPrecision(3)) + u; }
  }
}
function fmtDelta(s) { return s === 0 ? "0" : (s > 0 ? "+" : "\u2212") + fmtSec(Math.abs(s)); }
function fmtRatio(a, b) {
  if (a > 0) { const r = b / a; return r < 100 ? r.toFixed(2) + "x" : r.toFixed(0) + "x"; }
  return b > 0 ? "new" : "\u2013";
}
function fmtInt(n) { return n.toLocaleString("en-US"); }
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function loc(f) { return FN.kind[f] === 2 ? "(built-in)" : D.files[FN.file[f]] + ":" + FN.line[f]; }
function label(f) { return FN.kind[f] === 2 ? FN.name[f] : FN.name[f] + " (" + loc(f) + ")"; }

// ---- state -----------------------------------------------------------------------------
const S = { width: "b", colour: "s", tree: null, zoom: 0, match: null, focusFunc: -1,
            sortKey: "abs", sortDesc: true, limit: 200, visible: 0, layout: null };

// Seconds of node i: self or total, side "a" or "b".
const nodeSec = {
  as: (i) => TR.as[i] * TA, at: (i) => TR.at[i] * TA,
  bs: (i) => TR.bs[i] * TB, bt: (i) => TR.bt[i] * TB,
};
// b - a, or 0 when the difference is only rounding (the sides' ticks may differ)
function sub(b, a) { const d = b - a; return Math.abs(d) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b)) ? 0 : d; }
function nodeDelta(i, which) { return which === "s" ? sub(nodeSec.bs(i), nodeSec.as(i)) : sub(nodeSec.bt(i), nodeSec.at(i)); }

// The layout of the merged tree with widths from one side: children in CSR form sorted
// by name, x offsets in that side's ticks, depths. Nodes of width 0 are left out.
function buildTree(side) {
  const t = side === "a" ? TR.at : TR.bt, size = NN;
  const cnt = new Int32Array(size + 1);
  for (let i = 1; i < size; i++) cnt[TR.p[i] + 1]++;
  for (let i = 0; i < size; i++) cnt[i + 1] += cnt[i];
  const start = cnt.slice(), kids = new Int32Array(Math.max(size - 1, 0)), fill = cnt.slice();
  for (let i = 1; i < size; i++) kids[fill[TR.p[i]]++] = i;
  const name = (i) => TR.f[i] >= 0 ? FN.name[TR.f[i]] : (i === 0 ? "all" : "?");
  for (let i = 0; i < size; i++) {
    const a = start[i], b = start[i + 1];
    if (b - a > 1) {
      const part = Array.from(kids.subarray(a, b));
      part.sort((x, y) => { const nx = name(x), ny = name(y); return nx < ny ? -1 : nx > ny ? 1 : x - y; });
      kids.set(part, a);
    }
  }
  const x = new Float64Array(size), d = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    let cx = x[i];
    for (let k = start[i]; k < start[i + 1]; k++) { const c = kids[k]; x[c] = cx; d[c] = d[i] + 1; cx += t[c]; }
  }
  return { t, x, d, start, kids, size, name, f: TR.f, p: TR.p };
}

// ---- colours -----------------------------------------------------------------------------
const NEUTRAL = [228, 228, 228], RED = [222, 45, 38], BLUE = [49, 130, 189];
let maxAbs = { s: 0, t: 0 };
function computeScale() {
  for (const which of ["s", "t"]) {
    let m = 0;
    for (let i = 1; i < NN; i++) { const v = Math.abs(nodeDelta(i, which)); if (v > m) m = v; }
    maxAbs[which] = m;
  }
}
function mix(to, k) {
  return [0, 1, 2].map((j) => Math.round(NEUTRAL[j] + (to[j] - NEUTRAL[j]) * k));
}
// [fill, strength 0..1] of node i
function colourOf(i) {
  if (i === 0 || TR.f[i] < 0) return ["rgb(205,205,205)", 0];
  const d = nodeDelta(i, S.colour), m = maxAbs[S.colour];
  if (!m || d === 0) return ["rgb(" + NEUTRAL.join(",") + ")", 0];
  const k = Math.sqrt(Math.min(1, Math.abs(d) / m));
  return ["rgb(" + mix(d > 0 ? RED : BLUE, k).join(",") + ")", k];
}
// ---- flame graph ---------------------------------------------------------------------------
const canvas = $("hp-flame"), box = $("hp-flame-box"), tip = $("hp-tip");
function chainOf(i) { const T = S.tree, out = []; while (i >= 0) { out.push(i); i = T.p[i]; } return out.reverse(); }

function render() {
  const T = S.tree; if (!T) return;
  const W = Math.max(200, box.clientWidth - 2);
  const chain = chainOf(S.zoom).slice(-ANCESTORS);
  const baseRow = chain.length - 1, z = S.zoom;
  const scale = T.t[z] > 0 ? W / T.t[z] : 0, x0 = T.x[z];
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
    if (row < MAXROWS) {
      let run = null;
      for (let k = T.start[i]; k <= T.start[i + 1]; k++) {
        const c = k < T.start[i + 1] ? T.kids[k] : -1;
        if (c >= 0 && T.t[c] > 0 && T.t[c] * scale < 0.5) {
          if (!run) run = { x: T.x[c], t: 0, count: 0, row: row + 1 };
          run.t += T.t[c]; run.count++;
        } else if (run && (c < 0 || T.t[c] > 0)) {
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
  const frame = (i, px, w, row, dim) => {
    const f = T.f[i], y = row * ROWH;
    const [fill, k] = colourOf(i);
    const hit = !S.match || (f >= 0 && S.match[f] === 1);
    ctx.globalAlpha = dim ? 0.55 : hit ? 1 : 0.25;
    ctx.fillStyle = fill; ctx.fillRect(px, y + 1, Math.max(w - 0.5, 0.5), ROWH - 2);
    if (S.match && hit && f >= 0 && w > 2) {
      ctx.strokeStyle = "#6a1b9a"; ctx.lineWidth = 2;
      ctx.strokeRect(px + 1, y + 2, Math.max(w - 2.5, 0.5), ROWH - 4);
    }
    if (w > 3 * charW + 6) {
      const name = f >= 0 ? label(f) : T.name(i);
      const fits = Math.floor((w - 6) / charW);
      ctx.fillStyle = k > 0.75 ? "#fff" : "#111";
      ctx.fillText(name.length <= fits ? name : name.slice(0, Math.max(fits - 1, 1)) + "\u2026", px + 3, y + ROWH / 2 + 0.5);
    }
    ctx.globalAlpha = 1;
  };
  for (let r = 0; r < chain.length - 1; r++) frame(chain[r], 0, W, r, true);
  for (const i of vis) frame(i, (T.x[i] - x0) * scale, T.t[i] * scale, baseRow + T.d[i] - T.d[z], false);
  ctx.fillStyle = "rgb(190,190,190)";
  for (const r of runs) ctx.fillRect((r.x - x0) * scale, r.row * ROWH + 1, Math.max(r.t * scale - 0.5, 0.5), ROWH - 2);
  S.visible = vis.length;
  S.layout = { chain, baseRow, scale, x0, W, runs };
  document.body.dataset.frames = String(vis.length);
  renderCrumbs(chain);
}

function frameAt(x, y) {
  const T = S.tree, L = S.layout; if (!T || !L || !L.scale) return -1;
  const row = Math.floor(y / ROWH);
  if (row < 0) return -1;
  if (row < L.baseRow) return L.chain[row];
  let cur = S.zoom; const tick = L.x0 + x / L.scale;
  if (tick < T.x[cur] || tick >= T.x[cur] + T.t[cur]) return -1;
  for (let r = L.baseRow; r < row; r++) {
    let lo = T.start[cur], hi = T.start[cur + 1] - 1, found = -1;
    while (lo <= hi) {               // children are laid out left to right (0-wide ones too)
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
  chain.forEach((i, k) => {
    if (k) c.appendChild(document.createTextNode(" \u203a "));
    const a = el("a", S.tree.f[i] >= 0 ? FN.name[S.tree.f[i]] : S.tree.name(i));
    a.addEventListener("click", () => zoomTo(i));
    c.appendChild(a);
  });
}
function zoomTo(i) { S.zoom = i; render(); box.scrollTop = 0; }

function line(parent, text, cls) { parent.appendChild(el("div", text, cls)); }
function showTip(i, ev) {
  const f = TR.f[i];
  tip.textContent = "";
  tip.appendChild(el("b", f >= 0 ? FN.name[f] : S.tree.name(i)));
  if (f >= 0) line(tip, loc(f));
  const at = nodeSec.at(i), bt = nodeSec.bt(i), as = nodeSec.as(i), bs = nodeSec.bs(i);
  if (TR.an[i] === 0 && TR.at[i] === 0 && i) line(tip, "New in B (not on this path in A)", "up");
  else if (TR.bn[i] === 0 && TR.bt[i] === 0 && i) line(tip, "Removed in B (only on this path in A)", "down");
  line(tip, "Total: " + fmtSec(at) + " \u2192 " + fmtSec(bt) + " (" + fmtDelta(sub(bt, at)) + ", " + fmtRatio(at, bt) + ")",
       sub(bt, at) > 0 ? "up" : sub(bt, at) < 0 ? "down" : "");
  if (i) {
    line(tip, "Self: " + fmtSec(as) + " \u2192 " + fmtSec(bs) + " (" + fmtDelta(sub(bs, as)) + ", " + fmtRatio(as, bs) + ")",
         sub(bs, as) > 0 ? "up" : sub(bs, as) < 0 ? "down" : "");
    line(tip, "Calls: " + fmtInt(TR.an[i]) + " \u2192 " + fmtInt(TR.bn[i]));
  }
  placeTip(ev);
}
function placeTip(ev) {
  tip.hidden = false;
  const tw = tip.offsetWidth, th = tip.offsetHeight;
  let x = ev.clientX + 14, y = ev.clientY + 14;
  if (x + tw > window.innerWidth - 4) x = Math.max(4, ev.clientX - tw - 10);
  if (y + th > window.innerHeight - 4) y = Math.max(4, ev.clientY - th - 10);
  tip.style.left = x + "px"; tip.style.top = y + "px";
}
function runAt(x, y) {
  const L = S.layout; if (!L || !L.scale) return null;
  const row = Math.floor(y / ROWH), tick = L.x0 + x / L.scale;
  return L.runs.find((r) => r.row === row && tick >= r.x && tick < r.x + r.t) || null;
}
canvas.addEventListener("mousemove", (ev) => {
  const r = canvas.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
  const i = frameAt(x, y);
  if (i >= 0) { showTip(i, ev); return; }
  const run = runAt(x, y);
  if (!run) { tip.hidden = true; return; }
  tip.textContent = "";
  tip.appendChild(el("b", fmtInt(run.count) + " frames too narrow to show"));
  tip.appendChild(el("div", "Use search or the table below to find them."));
  placeTip(ev);
});
canvas.addEventListener("mouseleave", () => { tip.hidden = true; });
canvas.addEventListener("click", (ev) => {
  const r = canvas.getBoundingClientRect(), i = frameAt(ev.clientX - r.left, ev.clientY - r.top);
  if (i < 0) return;
  zoomTo(i === S.zoom ? Math.max(S.tree.p[i], 0) : i);
});
$("hp-reset").addEventListener("click", () => zoomTo(0));

// ---- search ----------------------------------------------------------------------------------
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
    // time under matching frames in A and B, each counted once
    const under = new Uint8Array(NN); let sa = 0, sb = 0;
    for (let i = 1; i < NN; i++) {
      const hit = TR.f[i] >= 0 && S.match[TR.f[i]] === 1, up = under[TR.p[i]] === 1;
      if (hit && !up) { sa += nodeSec.at(i); sb += nodeSec.bt(i); }
      under[i] = hit || up ? 1 : 0;
    }
    const what = S.focusFunc >= 0 ? FN.name[S.focusFunc] + ": " : "Matched: ";
    out.appendChild(el("span", what + fmtSec(sa) + " \u2192 " + fmtSec(sb) + " (" + fmtDelta(sub(sb, sa)) + ")"));
    const x = el("span", "\u2715", "x"); x.title = "Clear";
    x.addEventListener("click", () => { $("hp-search").value = ""; setSearch(""); });
    out.appendChild(x);
    document.body.dataset.matched = String(sb);
  } else delete document.body.dataset.matched;
  S.limit = 200;
  render(); renderTable();
}
let searchTimer = 0;
$("hp-search").addEventListener("input", (ev) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => setSearch(ev.target.value), 150);
});

// ---- table -----------------------------------------------------------------------------------
const A = D.a, B = D.b;
const ratioKey = (f) => A.s[f] > 0 ? B.s[f] / A.s[f] : (B.s[f] > 0 ? Infinity : 0);
const KEYS = {
  name: (f) => FN.name[f], file: (f) => loc(f),
  sa: (f) => A.s[f], sb: (f) => B.s[f], sd: (f) => sub(B.s[f], A.s[f]),
  ca: (f) => A.c[f], cb: (f) => B.c[f], cd: (f) => sub(B.c[f], A.c[f]),
  r: ratioKey, na: (f) => A.n[f], nb: (f) => B.n[f],
  abs: (f) => Math.abs(sub(B.s[f], A.s[f])),
};
function sortBy(key, desc) {
  if (desc === undefined) desc = key === S.sortKey ? !S.sortDesc : !(key === "name" || key === "file");
  S.sortKey = key; S.sortDesc = desc; S.limit = 200; renderTable();
}
function deltaCell(d) { return el("td", fmtDelta(d), d > 0 ? "up" : d < 0 ? "down" : ""); }
function renderTable() {
  const get = KEYS[S.sortKey], sign = S.sortDesc ? -1 : 1;
  let rows = [];
  for (let f = 0; f < NF; f++) if (!S.match || S.match[f]) rows.push(f);
  const keyed = rows.map((f) => [get(f), f]);
  keyed.sort((a, b) => (a[0] < b[0] ? -sign : a[0] > b[0] ? sign : a[1] - b[1]));
  const body = document.querySelector("#hp-table tbody"), frag = document.createDocumentFragment();
  for (const [, f] of keyed.slice(0, S.limit)) {
    const tr = el("tr"); tr.dataset.f = String(f);
    if (f === S.focusFunc) tr.className = "sel";
    const name = el("td", FN.name[f], "l"), where = el("td", loc(f), "l");
    name.title = label(f); where.title = loc(f);
    const sw = el("span", null, "sw"); sw.style.background = funcColourCached(f); name.prepend(sw);
    if (FN.st[f]) name.appendChild(el("span", FN.st[f] === 1 ? "new" : "removed", "tag " + (FN.st[f] === 1 ? "new" : "removed")));
    const ratio = FN.st[f] === 1 ? "new" : FN.st[f] === 2 ? "removed" : fmtRatio(A.s[f], B.s[f]);
    tr.append(name, where,
              el("td", FN.st[f] === 1 ? "\u2013" : fmtSec(A.s[f])), el("td", FN.st[f] === 2 ? "\u2013" : fmtSec(B.s[f])),
              deltaCell(sub(B.s[f], A.s[f])),
              el("td", FN.st[f] === 1 ? "\u2013" : fmtSec(A.c[f])), el("td", FN.st[f] === 2 ? "\u2013" : fmtSec(B.c[f])),
              deltaCell(sub(B.c[f], A.c[f])), el("td", ratio),
              el("td", FN.st[f] === 1 ? "\u2013" : fmtInt(A.n[f])), el("td", FN.st[f] === 2 ? "\u2013" : fmtInt(B.n[f])));
    frag.appendChild(tr);
  }
  body.textContent = ""; body.appendChild(frag);
  const more = $("hp-more");
  more.hidden = keyed.length <= S.limit;
  more.textContent = "Show more (" + fmtInt(keyed.length - Math.min(S.limit, keyed.length)) + " hidden)";
  document.querySelectorAll("#hp-table th").forEach((th) => {
    th.classList.remove("asc", "desc");
    if (th.dataset.k === S.sortKey) th.classList.add(S.sortDesc ? "desc" : "asc");
  });
  document.body.dataset.rows = String(Math.min(S.limit, keyed.length));
}
let funcMax = -1;
function funcColourCached(f) {
  if (funcMax < 0) { funcMax = 0; for (let g = 0; g < NF; g++) funcMax = Math.max(funcMax, Math.abs(sub(B.s[g], A.s[g]))); }
  const d = sub(B.s[f], A.s[f]);
  if (!funcMax || d === 0) return "rgb(" + NEUTRAL.join(",") + ")";
  return "rgb(" + mix(d > 0 ? RED : BLUE, Math.sqrt(Math.min(1, Math.abs(d) / funcMax))).join(",") + ")";
}
document.querySelectorAll("#hp-table th").forEach((th) => th.addEventListener("click", () => sortBy(th.dataset.k)));
$("hp-more").addEventListener("click", () => { S.limit += 1000; renderTable(); });
document.querySelector("#hp-table tbody").addEventListener("click", (ev) => {
  const tr = ev.target.closest("tr"); if (tr) focusFunction(Number(tr.dataset.f));
});

// ---- start-up ----------------------------------------------------------------------------------
function setWidth(side) {
  S.width = side; S.tree = buildTree(side); S.zoom = 0; render();
}
function setColour(which) { S.colour = which; render(); }

function init() {
  $("hp-title").textContent = D.names[0] + " \u2192 " + D.names[1];
  const ta = TR.at[0] * TA, tb = TR.bt[0] * TB;
  const cmd = (k) => D.commands[k] ? D.commands[k] + ", " : "";
  const counts = [0, 0, 0]; for (let f = 0; f < NF; f++) counts[FN.st[f]]++;
  $("hp-meta").textContent = "A: " + cmd(0) + fmtSec(ta) + " \u00b7 B: " + cmd(1) + fmtSec(tb) +
    " \u00b7 change " + fmtDelta(sub(tb, ta)) + " (" + fmtRatio(ta, tb) + ") \u00b7 " +
    counts[1] + " new, " + counts[2] + " removed, " + counts[0] + " in both";
  const trunc = D.names.filter((_, k) => D.truncated[k]);
  if (trunc.length) {
    const w = $("hp-warn"); w.hidden = false;
    w.textContent = "The call tree size cap was reached in " + trunc.join(", ") + ": deeper paths were merged.";
  }
  $("hp-footer").textContent = "Generated by " + D.exporter + ". Self-contained: works offline.";
  computeScale();
  $("hp-width").addEventListener("change", (ev) => setWidth(ev.target.value));
  $("hp-colour").addEventListener("change", (ev) => setColour(ev.target.value));
  S.tree = buildTree("b");
  render(); renderTable();
  let pending = false;
  window.addEventListener("resize", () => {
    if (pending) return; pending = true;
    requestAnimationFrame(() => { pending = false; render(); });
  });
  document.body.dataset.ready = "1";
}

window.hotpathDiff = { data: D, state: S, zoomTo, setSearch, focusFunction, sortBy, setWidth, setColour, frameAt, render, nodeDelta };
try { init(); }
catch (e) { document.body.dataset.error = String(e && e.stack || e); throw e; }
})();
"""
