// ---- memory: the allocation flame graph and the temporal view ------------------------------
// Data from report/memflame.py:
// MEM.flame: {frames {name, file (index into files), line, user, files}, p (parent), fr
//   (frame index; -1 root, -2 native, -3 no Python frame), peak, peakN, leak, leakN, alloc,
//   allocN (inclusive amounts per node), pruned}; node 0 is the root, parents first.
// MEM.flameNoImports: the same without the import machinery's frames (the default view).
// MEM.temporal: {t, series [{name, file, line, stack, more, native, live}], other} or null.
// Both panels are built here inside the memory view; report.js calls memInit() once and
// memRedraw() when the view's width changes. An icicle: the root at the top, callees below.
const MF = { what: "peak", unit: "bytes", zoom: 0, lay: null, drawn: [], rows: 0, imports: false, F: null };
const MF_WHAT = { peak: "At the peak", leak: "Leaked (live at exit)", alloc: "All allocated" };

function mfKey() { return MF.what + (MF.unit === "blocks" ? "N" : ""); }
function mfAmount(v, unit) { return (unit || MF.unit) === "blocks" ? fmtInt(v) + " blocks" : fmtBytes(v); }
function mfName(i) {
  const F = MF.F, k = F.fr[i];
  return k === -1 ? "all" : k === -2 ? "[native]" : k === -3 ? "<no Python frame>" : F.frames.name[k];
}
function mfWhere(i) {
  const F = MF.F, k = F.fr[i];
  return k >= 0 ? F.frames.files[F.frames.file[k]] + ":" + F.frames.line[k] : "";
}
// Your code warm, libraries cool, native violet; the hue shifts a little with the name.
function mfColour(i) {
  const F = MF.F, k = F.fr[i];
  if (k === -1) return "rgb(200,200,200)";
  if (k === -2) return "rgb(170,130,210)";
  if (k === -3) return "rgb(180,180,180)";
  let h = 0; const n = F.frames.name[k];
  for (let c = 0; c < n.length; c++) h = (h * 31 + n.charCodeAt(c)) >>> 0;
  const j = (h % 1000) / 1000;
  return F.frames.user[k] ? "hsl(" + (10 + 30 * j) + ",80%," + (62 + 8 * j) + "%)"
                          : "hsl(" + (200 + 25 * j) + ",45%," + (72 + 8 * j) + "%)";
}

function memInit() {
  const view = $("hp-view-memory"), after = $("hp-mem-chart-panel");
  const panel = el("section", null, "panel"); panel.id = "hp-mf-panel";
  panel.appendChild(el("h2", "Allocation flame graph"));
  const ctl = el("div", null, "mf-controls");
  const what = el("select"); what.id = "hp-mf-what";
  for (const k in MF_WHAT) what.appendChild(new Option(MF_WHAT[k], k));
  const unit = el("select"); unit.id = "hp-mf-unit";
  unit.append(new Option("bytes", "bytes"), new Option("blocks", "blocks"));
  const reset = el("button", "Reset zoom"); reset.type = "button"; reset.id = "hp-mf-reset";
  const l1 = el("label", "Show "), l2 = el("label", "in "), l3 = el("label");
  const imp = el("input"); imp.type = "checkbox"; imp.id = "hp-mf-imports";
  l1.appendChild(what); l2.appendChild(unit); l3.append(imp, document.createTextNode(" import machinery frames"));
  ctl.append(l1, l2, l3, reset, el("span", null, "muted"));
  ctl.lastChild.id = "hp-mf-total";
  const legend = el("div", null, "mf-legend");
  for (const [name, c] of [["your code", "hsl(25,80%,66%)"], ["libraries and the standard library", "hsl(212,45%,76%)"], ["native (C extensions)", "rgb(170,130,210)"]]) {
    const s = el("span", null, "sw"); s.style.background = c; const item = el("span"); item.append(s, document.createTextNode(name)); legend.appendChild(item);
  }
  const crumbs = el("div"); crumbs.id = "hp-mf-crumbs";
  const box = el("div"); box.id = "hp-mf-box";
  const cv = el("canvas"); cv.id = "hp-mf"; box.appendChild(cv);
  panel.append(ctl, legend, crumbs, box, el("p", "Each allocation's full stack, outermost frame at the top and what it called below; a frame's width is its share of the amount shown. Click a frame to zoom, click it again to zoom out; hover for details. Frames of Python\u2019s import machinery (importlib) are left out unless asked for: what an import allocated hangs under the line that imported." +
    (MEM.flame.pruned ? " Frames too small to matter are left out (" + fmtInt(MEM.flame.pruned) + " with the import machinery shown, " + fmtInt(MEM.flameNoImports ? MEM.flameNoImports.pruned : 0) + " without)." : ""), "hint"));
  const tpanel = el("section", null, "panel"); tpanel.id = "hp-mt-panel";
  tpanel.append(el("h2", "Which stacks hold memory over time" + EST), el("div"), el("div", null, "mt-legend"),
                el("p", "Live bytes of the stacks that held the most at some moment, stacked (the largest at the bottom), each named by the innermost line of your code in it; the rest as \u201cother\u201d; the dashed line is the whole tracked heap, sampled far more often. The stacks are sampled while the program ran (" + fmtInt(MEM.temporal ? MEM.temporal.t.length : 0) + " samples, one bar each, one of them at the peak; a run with a large stack tree gets fewer, since a sample costs more); hover for the values at a moment.", "hint"));
  tpanel.children[1].id = "hp-mt"; tpanel.children[2].id = "hp-mt-legend";
  view.insertBefore(tpanel, after.nextSibling);
  view.insertBefore(panel, after.nextSibling);
  what.addEventListener("change", () => memFlameShow(what.value, MF.unit));
  unit.addEventListener("change", () => memFlameShow(MF.what, unit.value));
  imp.addEventListener("change", () => memFlameShow(MF.what, MF.unit, imp.checked));
  reset.addEventListener("click", () => mfZoom(0));
  cv.addEventListener("mousemove", (ev) => {
    const r = cv.getBoundingClientRect(), i = mfAt(ev.clientX - r.left, ev.clientY - r.top);
    if (i < 0) { tip.hidden = true; return; }
    mfTip(i); placeTip(ev);
  });
  cv.addEventListener("mouseleave", () => { tip.hidden = true; });
  cv.addEventListener("click", (ev) => {
    const r = cv.getBoundingClientRect(), i = mfAt(ev.clientX - r.left, ev.clientY - r.top);
    if (i >= 0) mfZoom(i === MF.zoom ? Math.max(MF.F.p[i], 0) : i);
  });
  memFlameShow("peak", "bytes");
}

// Show amount `what` (peak, leak, alloc) in `unit` (bytes, blocks), unzoomed; with
// `imports`, the import machinery's frames too (default: as before).
function memFlameShow(what, unit, imports) {
  if (imports !== undefined) MF.imports = !!imports;
  MF.what = what; MF.unit = unit; MF.zoom = 0;
  MF.F = MF.imports || !MEM.flameNoImports ? MEM.flame : MEM.flameNoImports;
  $("hp-mf-what").value = what; $("hp-mf-unit").value = unit; $("hp-mf-imports").checked = MF.imports;
  document.body.dataset.mfImports = MF.imports ? "1" : "0";
  const F = MF.F, t = F[mfKey()];
  MF.lay = layout(F.p.length, F.p, t, mfName);
  const total = t[0];
  $("hp-mf-total").textContent = total ? mfAmount(total) + EST + " in all" : "nothing to show: no " + MF_WHAT[what].toLowerCase() + " memory";
  document.body.dataset.mfWhat = what + "/" + unit;
  document.body.dataset.mfTotal = String(total);
  mfRender();
}
function mfZoom(i) { MF.zoom = i; mfRender(); }

function mfRender() {
  const F = MF.F, t = F[mfKey()], L = MF.lay, z = MF.zoom;
  const box = $("hp-mf-box"), cv = $("hp-mf");
  const W = Math.max(200, box.clientWidth - 2);
  const chain = []; for (let i = z; i >= 0; i = F.p[i]) chain.unshift(i);
  const scale = t[z] > 0 ? W / t[z] : 0, x0 = L.x[z], base = chain.length - 1;
  const items = [];               // [node, x, w, row]
  for (let r = 0; r < base; r++) items.push([chain[r], 0, W, r, true]);
  const stack = [z];
  while (stack.length && scale) {
    const i = stack.pop(), w = t[i] * scale;
    items.push([i, (L.x[i] - x0) * scale, w, base + L.d[i] - L.d[z], false]);
    for (let k = L.start[i]; k < L.start[i + 1]; k++) { const c = L.kids[k]; if (t[c] * scale >= 0.5) stack.push(c); }
  }
  const rows = items.reduce((m, it) => Math.max(m, it[3] + 1), 1), dpr = window.devicePixelRatio || 1;
  const H = rows * ROWH + 2;
  cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr);
  cv.style.width = W + "px"; cv.style.height = H + "px";
  const ctx = cv.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0); ctx.font = FONT; ctx.textBaseline = "middle";
  const charW = ctx.measureText("abcdefghijklmnopqrstuvwxyz").width / 26;
  for (const [i, x, w, row, dim] of items) {
    const y = row * ROWH;
    ctx.globalAlpha = dim ? 0.5 : 1;
    ctx.fillStyle = mfColour(i); ctx.fillRect(x, y + 1, Math.max(w - 0.5, 0.5), ROWH - 2);
    if (w > 3 * charW + 6) {
      const name = mfName(i), fits = Math.floor((w - 6) / charW);
      ctx.fillStyle = "#111";
      ctx.fillText(name.length <= fits ? name : name.slice(0, Math.max(fits - 1, 1)) + "\u2026", x + 3, y + ROWH / 2 + 0.5);
    }
  }
  ctx.globalAlpha = 1;
  MF.drawn = items; MF.rows = rows;
  document.body.dataset.mfFrames = String(items.length);
  document.body.dataset.mfZoom = String(z);
  const c = $("hp-mf-crumbs"); c.textContent = "";
  chain.forEach((i, k) => {
    if (k) c.appendChild(document.createTextNode(" \u203a "));
    const a = el("a", mfName(i)); a.addEventListener("click", () => mfZoom(i)); c.appendChild(a);
  });
}

// The node drawn under canvas coordinates (x, y), or -1.
function mfAt(x, y) {
  const row = Math.floor(y / ROWH);
  for (const [i, ix, w, r] of MF.drawn) if (r === row && x >= ix && x < ix + Math.max(w, 1)) return i;
  return -1;
}

function mfTip(i) {
  const F = MF.F;
  tip.textContent = "";
  tip.appendChild(el("b", mfName(i)));
  if (mfWhere(i)) tip.appendChild(el("div", mfWhere(i)));
  const k = mfKey(), tot = F[k][0];
  tip.appendChild(el("div", MF_WHAT[MF.what] + ": " + mfAmount(F[k][i]) + EST + (tot ? " (" + (100 * F[k][i] / tot).toFixed(1) + "%)" : "")));
  for (const w in MF_WHAT) if (w !== MF.what) tip.appendChild(el("div", MF_WHAT[w] + ": " + fmtBytes(F[w][i]) + ", " + fmtInt(F[w + "N"][i]) + " blocks", "muted"));
}

// ---- the temporal view: stacked bars of the stacks that held the most, per sample ----------
const MT_COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#86bcb6"];
function mtDraw() {
  const host = $("hp-mt"), leg = $("hp-mt-legend"); host.textContent = ""; leg.textContent = "";
  const TP = MEM.temporal;
  if (!TP || !TP.t.length) {
    host.appendChild(el("p", "No temporal samples in this profile (hotpath run --memory records them).", "muted"));
    document.body.dataset.temporal = "0"; return;
  }
  const N = TP.t.length, S2 = TP.series.concat(TP.other.some((v) => v > 0) ? [{ name: "other", file: "", line: 0, stack: [], live: TP.other, other: true }] : []);
  const W = Math.max(360, host.clientWidth || 900), H = 260, l = 64, r = 18, tp = 12, b = 30;
  const pw = W - l - r, ph = H - tp - b;
  const tMax = Math.max(TP.t[N - 1], (MEM.timeline && MEM.timeline.t.length ? MEM.timeline.t[MEM.timeline.t.length - 1] : 0), 1e-3);
  const cum = S2.map(() => new Float64Array(N));
  let yMax = 1;
  for (let j = 0; j < N; j++) { let s = 0; S2.forEach((se, k) => { s += se.live[j] || 0; cum[k][j] = s; }); yMax = Math.max(yMax, s); }
  const HL = MEM.timeline || { t: [], heap: [] };
  for (const h of HL.heap) yMax = Math.max(yMax, h);
  const unit = yMax >= 1.5 * 1073741824 ? [1073741824, "GiB"] : yMax >= 1.5 * 1048576 ? [1048576, "MiB"] : [1024, "KiB"];
  const step = niceStep(yMax / unit[0] * 1.05, 5) * unit[0];
  yMax = Math.ceil(yMax * 1.05 / step) * step;
  const X = (s) => l + pw * s / tMax, Y = (v) => tp + ph * (1 - v / yMax);
  const root = svg("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img" });
  svg("title", {}, root, "Which stacks hold memory over time");
  const grid = svg("g", { class: "grid" }, root), ax = svg("g", { class: "ax" }, root);
  for (let v = 0; v <= yMax + step / 2; v += step) {
    svg("line", { x1: l, x2: l + pw, y1: Y(v).toFixed(1), y2: Y(v).toFixed(1) }, grid);
    svg("text", { x: l - 6, y: (Y(v) + 4).toFixed(1), "text-anchor": "end" }, ax, +(v / unit[0]).toFixed(2) + " " + unit[1]);
  }
  const xs = niceStep(tMax, 8);
  for (let s = 0; s <= tMax * 1.0001; s += xs) svg("text", { x: X(s).toFixed(1), y: tp + ph + 16, "text-anchor": "middle" }, ax, +s.toFixed(6) + " s");
  // One stacked bar per sample, nothing drawn between samples (what the stacks held then
  // is not known); many samples make the bars touch.
  let gap = pw;
  for (let j = 1; j < N; j++) gap = Math.min(gap, X(TP.t[j]) - X(TP.t[j - 1]));
  const bw = Math.max(2, Math.min(gap * 0.9, 28));
  S2.forEach((se, k) => {
    let d = "";
    for (let j = 0; j < N; j++) {
      const top = Y(cum[k][j]), bot = Y(k ? cum[k - 1][j] : 0);
      if (bot - top < 0.05) continue;
      d += "M" + (X(TP.t[j]) - bw / 2).toFixed(1) + "," + bot.toFixed(1) + "V" + top.toFixed(1) + "h" + bw.toFixed(1) + "V" + bot.toFixed(1);
    }
    const colour = se.other ? "#bbb" : MT_COLOURS[k % MT_COLOURS.length];
    const area = svg("path", { d: d || "M0,0", fill: colour, "fill-opacity": 0.9, class: "mt-area" }, root);
    svg("title", {}, area, se.name + (se.file ? " (" + se.file + ":" + se.line + ")" : ""));
    if (k < 12) {
      const item = el("span", null, "mt-item"), sw = el("span", null, "sw"); sw.style.background = colour;
      item.append(sw, document.createTextNode(se.name + (se.file ? " " + se.file + ":" + se.line : "") + (se.native ? " [native]" : "") + (se.stacks > 1 ? " (" + se.stacks + " stacks)" : "")));
      item.title = se.stack.join("\n") + (se.more ? "\n\u2026 " + se.more + " more frames" : "");
      leg.appendChild(item);
    }
  });
  if (HL.t.length) {                 // the tracked heap, sampled every few ms: the true total
    let d = "";
    HL.t.forEach((s, j) => { d += (j ? "L" : "M") + X(s).toFixed(1) + "," + Y(HL.heap[j]).toFixed(1); });
    svg("path", { d, fill: "none", stroke: "#222", "stroke-width": 1.2, "stroke-dasharray": "4,3", class: "mt-heap" }, root);
    const item = el("span", null, "mt-item"), sw = el("span", null, "sw");
    sw.style.background = "repeating-linear-gradient(90deg,#222 0 4px,transparent 4px 7px)"; sw.style.height = "2px";
    item.append(sw, document.createTextNode("tracked heap (all stacks, sampled often)"));
    leg.appendChild(item);
  }
  svg("rect", { x: l, y: tp, width: pw, height: ph, fill: "none", stroke: "#ccc" }, root);
  const guide = svg("line", { y1: tp, y2: tp + ph, stroke: "#333", visibility: "hidden" }, root);
  const hit = svg("rect", { x: l, y: tp, width: pw, height: ph, fill: "transparent", class: "hit" }, root);
  hit.addEventListener("mousemove", (ev) => {
    const rc = root.getBoundingClientRect(), s = (ev.clientX - rc.left - l) / pw * tMax;
    let j = 0; for (let q = 1; q < N; q++) if (Math.abs(TP.t[q] - s) < Math.abs(TP.t[j] - s)) j = q;
    guide.setAttribute("x1", X(TP.t[j]).toFixed(1)); guide.setAttribute("x2", X(TP.t[j]).toFixed(1)); guide.setAttribute("visibility", "visible");
    tip.textContent = "";
    tip.appendChild(el("b", TP.t[j].toFixed(3) + " s: " + fmtBytes(cum[S2.length - 1][j]) + " held by these stacks"));
    S2.map((se) => [se.live[j] || 0, se]).filter((x) => x[0] > 0).sort((a, c) => c[0] - a[0]).slice(0, 8)
      .forEach(([v, se]) => tip.appendChild(el("div", fmtBytes(v) + " \u2014 " + se.name + (se.file ? " (" + se.file + ":" + se.line + ")" : ""))));
    placeTip(ev);
  });
  hit.addEventListener("mouseleave", () => { tip.hidden = true; guide.setAttribute("visibility", "hidden"); });
  host.appendChild(root);
  document.body.dataset.temporal = String(S2.length);
}

function memRedraw() { if (MEM && MEM.flame) { mfRender(); mtDraw(); } }
Object.assign(window.hotpath, { memFlame: MF, memFlameShow, memFlameZoom: mfZoom, memFlameAt: mfAt, mtDraw });
