// Data (see diff.py diff_data): funcs {name, file (index into files), line, kind,
// st (0 both, 1 new, 2 removed)}; a, b: per function {n calls, s self, c cumulative}
// in seconds; tree {f, p, an, as, at, bn, bs, bt}: the merged calling-context tree,
// node 0 the root, parents first, counters in each side's own ticks (tick[0], tick[1]).
const TR = D.tree, NN = TR.f.length;
const TA = D.tick[0], TB = D.tick[1];

// ---- formatting ----------------------------------------------------------------------
function fmtDelta(s) { return s === 0 ? "0" : (s > 0 ? "+" : "\u2212") + fmtSec(Math.abs(s)); }
function fmtRatio(a, b) {
  if (a > 0) { const r = b / a; return r < 100 ? r.toFixed(2) + "x" : r.toFixed(0) + "x"; }
  return b > 0 ? "new" : "\u2013";
}

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

// The merged tree laid out with widths from one side. Nodes of width 0 (not on that
// side) are `absent`: neither drawn nor counted among the frames too narrow to draw.
function buildTree(side) {
  const t = side === "a" ? TR.at : TR.bt;
  const name = (i) => TR.f[i] >= 0 ? FN.name[TR.f[i]] : (i === 0 ? "all" : "?");
  return Object.assign({ t, size: NN, name, f: TR.f, p: TR.p, absent: true }, layout(NN, TR.p, t, name));
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
// Search hits outlined, the rest faded; labels white on strong colours.
function frameLook(i, f, w, dim) {
  const [fill, k] = colourOf(i);
  const hit = !S.match || (f >= 0 && S.match[f] === 1);
  const alpha = dim ? 0.55 : hit ? 1 : 0.25;
  return { fill, alpha, outline: S.match && hit && f >= 0 && w > 2 ? "#6a1b9a" : null,
           textAlpha: alpha, ink: k > 0.75 ? "#fff" : "#111" };
}

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
function runDetail(run) { return null; }
function frameClicked(i) { }

// ---- search ----------------------------------------------------------------------------------
// time under matching frames in A and B, each counted once
function matchSummary() {
  let sa = 0, sb = 0;
  eachTopMatch((i) => { sa += nodeSec.at(i); sb += nodeSec.bt(i); });
  const what = S.focusFunc >= 0 ? FN.name[S.focusFunc] + ": " : "Matched: ";
  return [what + fmtSec(sa) + " \u2192 " + fmtSec(sb) + " (" + fmtDelta(sub(sb, sa)) + ")", sb];
}

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
function tableRows() { const rows = []; for (let f = 0; f < NF; f++) rows.push(f); return rows; }
function deltaCell(d) { return el("td", fmtDelta(d), d > 0 ? "up" : d < 0 ? "down" : ""); }
function tableRow(f) {
  const [tr, name, where] = funcRow(f, f === S.focusFunc, funcColourCached(f));
  if (FN.st[f]) name.appendChild(el("span", FN.st[f] === 1 ? "new" : "removed", "tag " + (FN.st[f] === 1 ? "new" : "removed")));
  const ratio = FN.st[f] === 1 ? "new" : FN.st[f] === 2 ? "removed" : fmtRatio(A.s[f], B.s[f]);
  tr.append(name, where,
            el("td", FN.st[f] === 1 ? "\u2013" : fmtSec(A.s[f])), el("td", FN.st[f] === 2 ? "\u2013" : fmtSec(B.s[f])),
            deltaCell(sub(B.s[f], A.s[f])),
            el("td", FN.st[f] === 1 ? "\u2013" : fmtSec(A.c[f])), el("td", FN.st[f] === 2 ? "\u2013" : fmtSec(B.c[f])),
            deltaCell(sub(B.c[f], A.c[f])), el("td", ratio),
            el("td", FN.st[f] === 1 ? "\u2013" : fmtInt(A.n[f])), el("td", FN.st[f] === 2 ? "\u2013" : fmtInt(B.n[f])));
  return tr;
}
let funcMax = -1;
function funcColourCached(f) {
  if (funcMax < 0) { funcMax = 0; for (let g = 0; g < NF; g++) funcMax = Math.max(funcMax, Math.abs(sub(B.s[g], A.s[g]))); }
  const d = sub(B.s[f], A.s[f]);
  if (!funcMax || d === 0) return "rgb(" + NEUTRAL.join(",") + ")";
  return "rgb(" + mix(d > 0 ? RED : BLUE, Math.sqrt(Math.min(1, Math.abs(d) / funcMax))).join(",") + ")";
}
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
  if (trunc.length) warn("The call tree size cap was reached in " + trunc.join(", ") + ": deeper paths were merged.");
  $("hp-footer").textContent = "Generated by " + D.exporter + ". Self-contained: works offline.";
  computeScale();
  $("hp-width").addEventListener("change", (ev) => setWidth(ev.target.value));
  $("hp-colour").addEventListener("change", (ev) => setColour(ev.target.value));
  S.tree = buildTree("b");
  render(); renderTable();
  onResize(render);
  document.body.dataset.ready = "1";
}

window.hotpathDiff = { data: D, state: S, zoomTo, setSearch, focusFunction, sortBy, setWidth, setColour, frameAt, render, nodeDelta };
