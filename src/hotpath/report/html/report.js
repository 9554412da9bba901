// Data (see html.py report_data): funcs {name, file (index into files), line, kind,
// user (1: the user's code), imp (1: import machinery), pkg (index into packages)},
// focus [packages counted as the user's], lineLeaves {f, line, hits, sec, src},
// threads [{name, truncated, nodes {f,p,n,s,t}, fs {f,n,p,s,c}, es {a,b,n,p,s,c}}].
// Node 0 of every tree is the root; parents come before children; t is the width.
const TS = D.tickSeconds;

// ---- formatting --------------------------------------------------------------------
function fmtTime(ticks) { return fmtSec(ticks * TS); }
function fmtPct(x) { return (100 * x).toFixed(x >= 0.1 ? 1 : 2) + "%"; }

// ---- colours -----------------------------------------------------------------------
function hash(s) { let h = 2166136261; for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); } return h >>> 0; }
function baseColour(kind, name) {
  const v = hash(name), a = (v & 255) / 255, b = ((v >> 8) & 255) / 255;
  if (kind === 2) return "rgb(" + (80 + 60 * a | 0) + "," + (140 + 60 * b | 0) + "," + (200 + 55 * a | 0) + ")";
  if (kind === 1) return "rgb(" + (110 + 60 * a | 0) + "," + (185 + 40 * b | 0) + "," + (70 + 40 * a | 0) + ")";
  if (kind < 0) return "rgb(205,205,205)";
  if (kind === 4) return "rgb(" + (175 + 30 * a | 0) + "," + (165 + 30 * b | 0) + "," + (200 + 30 * a | 0) + ")";
  return "rgb(" + (205 + 50 * b | 0) + "," + (80 + 130 * a | 0) + "," + (30 + 40 * b | 0) + ")";
}
const colourCache = new Map();
function colourOf(f) {
  let c = colourCache.get(f);
  if (c === undefined) { c = f < 0 ? baseColour(-1, "") : baseColour(kindOf(f), FN.name[f]); colourCache.set(f, c); }
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
  const names = (i) => f[i] >= 0 ? FN.name[f[i]] : (f[i] === -1 ? "all" : D.threads[-2 - f[i]].name);
  return Object.assign({ f, p, n, s, t, size, name: names }, layout(size, p, t, names));
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
function frameLook(i, f, w, dim) {
  let fill = colourOf(f);
  if (S.match) fill = (f >= 0 && S.match[f]) ? "rgb(238,80,230)" : "rgb(222,222,222)";
  return { fill, alpha: dim ? 0.55 : 1, outline: null, textAlpha: 1, ink: "#111" };
}

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
function runDetail(run) { return "Total: " + fmtTime(run.t) + " (" + fmtPct(run.t / (S.tree.t[0] || 1)) + ")"; }
function frameClicked(i) { if (S.tree.f[i] >= 0) select(S.tree.f[i], false); }

// ---- search --------------------------------------------------------------------------
function matchSummary() {
  const T = S.tree; let sum = 0;
  eachTopMatch((i) => { sum += T.t[i]; });
  const what = S.focusFunc >= 0 ? "Highlighted " + FN.name[S.focusFunc] + ": " : "Matched: ";
  return [what + fmtTime(sum) + " (" + fmtPct(T.t[0] ? sum / T.t[0] : 0) + ")", sum];
}

// ---- function table --------------------------------------------------------------------
const KEYS = {
  name: (f) => FN.name[f], file: (f) => loc(f),
  n: (f) => S.stats.n[f], s: (f) => S.stats.s[f], c: (f) => S.stats.c[f],
  pc: (f) => S.stats.p[f] ? S.stats.c[f] / S.stats.p[f] : 0,
};
function tableRows() { return S.stats.rows.filter(keepRow); }
function tableRow(f) {
  const st = S.stats, total = S.tree.t[0] || 1;
  const [tr, name, where] = funcRow(f, f === S.selected, colourOf(f));
  tr.tabIndex = 0;
  if (blockOfFunc.has(f)) {
    const bd = el("span", BLOCKS[blockOfFunc.get(f)].time ? "lines" : "memory", "srcbadge");
    bd.title = "Show the annotated source"; bd.dataset.b = String(blockOfFunc.get(f));
    name.appendChild(bd);
  }
  const calls = st.n[f] === st.p[f] ? fmtInt(st.n[f]) : fmtInt(st.n[f]) + "/" + fmtInt(st.p[f]);
  tr.append(name, where, el("td", calls), el("td", fmtTime(st.s[f])), el("td", fmtPct(st.s[f] / total)),
            el("td", fmtTime(st.c[f])), el("td", fmtPct(st.c[f] / total)),
            el("td", st.p[f] ? fmtTime(st.c[f] / st.p[f]) : "\u2013"));
  return tr;
}
document.querySelector("#hp-table tbody").addEventListener("click", (ev) => {
  const badge = ev.target.closest(".srcbadge");
  if (badge) { openSource(Number(badge.dataset.b)); return; }
  const tr = ev.target.closest("tr"); if (tr) select(Number(tr.dataset.f), true);
});
document.querySelector("#hp-table tbody").addEventListener("keydown", (ev) => {
  const tr = ev.target.closest("tr"); if (!tr) return;
  const f = Number(tr.dataset.f);
  if (ev.key === "Enter") { select(f, false); focusFunction(f); ev.preventDefault(); }
  else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
    const next = ev.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling;
    if (next) { next.focus(); ev.preventDefault(); }
  } else if (ev.key === "Escape" && S.match) { $("hp-search").value = ""; setSearch(""); }
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
  head.firstChild.title = "name, and where it is defined";
  const thead = el("thead"); thead.appendChild(head); t.appendChild(thead);
  const body = el("tbody");
  [...m.entries()].sort((a, b) => b[1][3] - a[1][3]).forEach(([g, r]) => {
    const tr = el("tr"), td = el("td", null, "l"), a = el("a", FN.name[g]);
    a.title = label(g); a.tabIndex = 0; a.addEventListener("click", () => select(g, true));
    a.addEventListener("keydown", (ev) => { if (ev.key === "Enter") select(g, true); });
    td.appendChild(a); td.appendChild(el("div", loc(g), "eloc")); td.title = label(g);
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
  if (blockOfFunc.has(f)) {
    const b = blockOfFunc.get(f), src = el("button", "Annotated source \u203a"); src.type = "button";
    src.id = "hp-detail-src"; src.className = "primary";
    src.title = BLOCKS[b].time ? "Per-line hits and time" + (BLOCKS[b].mem ? " and memory" : "") : "Per-line memory";
    src.addEventListener("click", () => openSource(b));
    box.append(" ", src);
  }
  const { callers, callees } = edgesOf(f);
  box.appendChild(edgeTable("Callers", callers, st.c[f]));
  box.appendChild(edgeTable("Callees", callees, st.c[f]));
  document.querySelectorAll("#hp-table tbody tr").forEach((tr) => {
    const on = Number(tr.dataset.f) === f; tr.classList.toggle("sel", on);
    if (on && scrollTable) tr.scrollIntoView({ block: "nearest" });
  });
}

// ---- annotated source ----------------------------------------------------------------------
// D.source: {unit (seconds per line time unit), mode, samples, error, blocks: [{name, file,
// path, line (first), f (function index or -1), no [line numbers], text [their source],
// missing (why there is no source, or null), time [[line, hits, time]] | null, total, hits,
// note, mem [[line, allocated, blocks, at peak, live at exit, native]] | null, memTotal,
// mp [[line, mem usage, increment, occurrences]] | null}]}.
const SRC = D.source && !D.source.error ? D.source : (D.source && D.source.blocks.length ? D.source : null);
const BLOCKS = SRC ? SRC.blocks : [];
const MEM = D.memory && !D.memory.error ? D.memory : null;
const blockOfFunc = new Map();
BLOCKS.forEach((b, i) => { if (b.f >= 0 && !blockOfFunc.has(b.f)) blockOfFunc.set(b.f, i); });
const EST = MEM && MEM.mode === "sampled" ? " (estimated)" : "";

function fmtBytes(n) {
  const sign = n < 0 ? "-" : ""; n = Math.abs(n);
  if (n < 1024) return sign + Math.round(n) + " B";
  for (const u of ["KiB", "MiB", "GiB", "TiB"]) {
    n /= 1024;
    if (n < 1024 || u === "TiB") return sign + (n < 100 ? n.toFixed(1) : n.toFixed(0)) + " " + u;
  }
}
function where(r) { return r.file ? r.file + ":" + r.line : r.name; }

// Python, lightly coloured: keywords, strings (triple-quoted ones across lines), comments,
// numbers, decorators. Every piece is a text node or a span holding text.
const KW = new Set(("False None True and as assert async await break class continue def del elif else " +
  "except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield").split(" "));
const BUILTIN = new Set("self cls print len range super isinstance".split(" "));
const TOKRE = /(#.*$)|([rRbBuUfF]{0,2}(?:"{3}|'{3}))|([rRbBuUfF]{0,2}(?:"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?))|([A-Za-z_][A-Za-z_0-9]*)|(\b\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?[jJ]?)|(@[A-Za-z_][\w.]*)/g;
function highlight(td, text, open) {
  const span = (t, c) => { const s = document.createElement("span"); s.className = c; s.textContent = t; td.appendChild(s); };
  const plain = (t) => { if (t) td.appendChild(document.createTextNode(t)); };
  let pos = 0;
  if (open) {                               // inside a triple-quoted string
    const end = text.indexOf(open);
    if (end < 0) { span(text, "tk-s"); return open; }
    span(text.slice(0, end + 3), "tk-s"); pos = end + 3; open = null;
  }
  TOKRE.lastIndex = pos;
  let m;
  while ((m = TOKRE.exec(text)) !== null) {
    if (m[0] === "") { TOKRE.lastIndex++; continue; }
    plain(text.slice(pos, m.index));
    if (m[1]) span(m[1], "tk-c");
    else if (m[2]) {
      const q = m[2].slice(-3), end = text.indexOf(q, m.index + m[2].length);
      if (end < 0) { span(text.slice(m.index), "tk-s"); return q; }
      span(text.slice(m.index, end + 3), "tk-s"); TOKRE.lastIndex = end + 3;
    }
    else if (m[3]) span(m[3], "tk-s");
    else if (m[4]) { if (KW.has(m[4])) span(m[4], "tk-k"); else if (BUILTIN.has(m[4])) span(m[4], "tk-b"); else plain(m[4]); }
    else if (m[5]) span(m[5], "tk-n");
    else if (m[6]) span(m[6], "tk-d");
    pos = TOKRE.lastIndex;
  }
  plain(text.slice(pos));
  return null;
}

const SV = { block: -1, line: 0 };

function renderSourceList() {
  const nav = $("hp-src-list"); nav.textContent = "";
  const timed = BLOCKS.map((b, i) => i).filter((i) => BLOCKS[i].time).sort((a, b) => BLOCKS[b].total - BLOCKS[a].total);
  const mem = BLOCKS.map((b, i) => i).filter((i) => !BLOCKS[i].time).sort((a, b) => BLOCKS[b].memTotal - BLOCKS[a].memTotal);
  const maxT = Math.max(1, ...timed.map((i) => BLOCKS[i].total)), maxM = Math.max(1, ...BLOCKS.map((b) => b.memTotal));
  const group = (title, list) => {
    if (!list.length) return;
    nav.appendChild(el("h3", title));
    for (const i of list) {
      const b = BLOCKS[i], a = el("a"); a.dataset.b = String(i);
      const amt = b.time ? fmtSec(b.total * SRC.unit) : fmtBytes(b.memTotal);
      a.append(el("span", amt, "amt"), el("div", b.name, "nm"), el("div", b.file + ":" + b.line, "lc"));
      a.title = b.path + ":" + b.line;
      const bar = el("div", null, b.time ? "bar" : "bar m");
      bar.style.width = Math.max(2, 100 * (b.time ? b.total / maxT : b.memTotal / maxM)).toFixed(1) + "%";
      a.appendChild(bar);
      a.addEventListener("click", () => openSource(i));
      nav.appendChild(a);
    }
  };
  group("Line timings", timed);
  group(MEM ? "Memory by line" : "Other", mem);
}

function openSource(i, line) {
  if (!(i >= 0 && i < BLOCKS.length)) return;
  SV.block = i; SV.line = line || 0;
  if (document.body.dataset.view !== "source") showView("source");
  document.querySelectorAll("#hp-src-list a").forEach((a) => {
    const on = Number(a.dataset.b) === i; a.classList.toggle("sel", on);
    if (on) a.scrollIntoView({ block: "nearest" });
  });
  renderBlock(BLOCKS[i]);
  const wrap = $("hp-src-wrap");
  const target = line ? wrap.querySelector('tr[data-line="' + Number(line) + '"]') : null;
  if (target) {
    target.classList.add("flash", "target");
    wrap.scrollTop = Math.max(0, target.offsetTop - wrap.clientHeight / 3);
  } else wrap.scrollTop = 0;
  document.body.dataset.block = String(i);
}

function renderBlock(b) {
  const head = $("hp-src-head"); head.textContent = "";
  head.appendChild(el("h2", b.name));
  const loc = el("div", b.file + ":" + b.line, "loc"); loc.title = b.path; head.appendChild(loc);
  const facts = el("div", null, "facts");
  const fact = (k, v) => { const d = el("span", k + " "); d.appendChild(el("b", v)); facts.appendChild(d); };
  if (b.time) { fact("Total time", fmtSec(b.total * SRC.unit)); fact("Line hits", fmtInt(b.hits)); }
  if (b.mem) {
    let ab = 0, ac = 0, lb = 0;
    for (const r of b.mem) { ab += r[1]; ac += r[2]; lb += r[4]; }
    fact("Allocated" + EST, fmtBytes(ab) + " in " + fmtInt(ac) + " blocks");
    if (lb > 0) fact("Live at exit", fmtBytes(lb));
  }
  if (b.f >= 0 && D.threads.length) {
    const go = el("button", "Show in call profile \u203a", "link"); go.type = "button";
    go.addEventListener("click", () => { showView("profile"); select(b.f, true); focusFunction(b.f); });
    facts.appendChild(go);
  }
  head.appendChild(facts);
  if (b.note) head.appendChild(el("div", b.note, "note"));
  if (b.missing) head.appendChild(el("div", "Source not shown: " + b.missing + " (" + b.path + "). The numbers are per line.", "missing"));

  // columns: kernprof's, then memory, then memory_profiler's, then the source
  const time = new Map(), mem = new Map(), mp = new Map();
  if (b.time) for (const r of b.time) time.set(r[0], r);
  if (b.mem) for (const r of b.mem) mem.set(r[0], r);
  if (b.mp) for (const r of b.mp) mp.set(r[0], r);
  const total = b.total || 0, maxMem = b.mem ? Math.max(1, ...b.mem.map((r) => r[1])) : 1;
  const cols = [["Line #", "no", "Line number"]];
  if (b.time) cols.push(["Hits", "", "Times the line ran"], ["Time", "", "Time spent on the line"],
                        ["Per Hit", "", "Time per hit"], ["% Time", "", "Share of the function's line time"]);
  if (b.mem) cols.push(["Allocated", "grp", "Bytes allocated on the line" + EST + " (what library code it called folded in)"],
                       ["Blocks", "", "Allocations made"], ["At peak", "", "Bytes from this line live at the peak of the tracked heap"],
                       ["Live end", "", "Bytes from this line still live at exit"]);
  if (b.mp) cols.push(["Mem usage", "grp", "memory_profiler: tracked heap after the line ran (largest seen)"],
                      ["Increment", "", "memory_profiler: change since the previous traced line"],
                      ["Occ.", "", "memory_profiler: times the line ran"]);
  cols.push(["Line Contents", "l", ""]);
  const thead = $("hp-src").tHead, tr0 = el("tr");
  for (const [h, c, t] of cols) { const th = el("th", h, c); if (t) th.title = t; tr0.appendChild(th); }
  thead.textContent = ""; thead.appendChild(tr0);

  const body = $("hp-src").tBodies[0], frag = document.createDocumentFragment();
  let open = null, prev = -1, hot = 0;
  b.no.forEach((n, k) => {
    if (prev >= 0 && n > prev + 1) {
      const g = el("tr", null, "gap"), td = el("td", "\u22ef " + fmtInt(n - prev - 1) + " lines without data");
      td.colSpan = cols.length; g.appendChild(td); frag.appendChild(g); open = null;
    }
    prev = n;
    const tr = el("tr"); tr.dataset.line = String(n);
    tr.appendChild(el("td", n, "no"));
    const t = time.get(n), m = mem.get(n), p = mp.get(n);
    if (b.time) {
      if (t) {
        const pct = total ? t[2] / total : 0;
        const pc = el("td", (100 * pct).toFixed(1), "pbar");
        pc.style.backgroundImage = "linear-gradient(to right, rgba(243,156,90,.5) " + (100 * pct).toFixed(1) + "%, transparent " + (100 * pct).toFixed(1) + "%)";
        tr.append(el("td", fmtInt(t[1])), el("td", fmtSec(t[2] * SRC.unit)),
                  el("td", t[1] ? fmtSec(t[2] * SRC.unit / t[1]) : ""), pc);
        const lvl = pct >= 0.4 ? 4 : pct >= 0.2 ? 3 : pct >= 0.1 ? 2 : pct >= 0.02 ? 1 : 0;
        if (lvl) { tr.classList.add("h" + lvl); hot++; }
      } else tr.append(el("td"), el("td"), el("td"), el("td"));
    }
    if (b.mem) {
      if (m) {
        const share = m[1] / maxMem, ac = el("td", fmtBytes(m[1]), "grp pbar");
        ac.title = fmtInt(m[1]) + " bytes" + (m[5] ? ", " + fmtBytes(m[5]) + " native" : "");
        ac.style.backgroundImage = "linear-gradient(to right, rgba(111,143,214,.35) " + (100 * share).toFixed(1) + "%, transparent " + (100 * share).toFixed(1) + "%)";
        tr.append(ac, el("td", fmtInt(m[2])), el("td", m[3] ? fmtBytes(m[3]) : ""), el("td", m[4] ? fmtBytes(m[4]) : ""));
        if (!b.time) {
          const lvl = share >= 0.5 ? 4 : share >= 0.2 ? 3 : share >= 0.05 ? 2 : share >= 0.01 ? 1 : 0;
          if (lvl) { tr.classList.add("m" + lvl); hot++; }
        }
      } else tr.append(el("td", null, "grp"), el("td"), el("td"), el("td"));
    }
    if (b.mp) {
      if (p) tr.append(el("td", (p[1] / 1048576).toFixed(1) + " MiB", "grp"), el("td", (p[2] / 1048576).toFixed(1) + " MiB"), el("td", fmtInt(p[3])));
      else tr.append(el("td", null, "grp"), el("td"), el("td"));
    }
    const code = el("td", null, "code");
    open = highlight(code, b.text[k] || "", open);
    tr.appendChild(code);
    frag.appendChild(tr);
  });
  body.textContent = ""; body.appendChild(frag);
  document.body.dataset.srcRows = String(b.no.length);
  document.body.dataset.hotLines = String(hot);
}

// ---- memory ----------------------------------------------------------------------------------
// D.memory: {mode, sampleBytes, native, forked, maxFrames, totals {alloc_bytes, ...,
// peak_bytes, peak_time, tracker_bytes, ...}, rssPeak, timeline {t, rss, heap},
// lines [{name, file, line, b, src, ab, ac, pb, lb, nb}], functions [{name, file, line, b,
// oab, oac, iab, iac}], leaks [{lb, lc, native, truncated, more, frames [{name, file, line,
// b, src}]}], leaksMore [stacks, bytes], imports [stacks, bytes], minLeak}.

// A location: "file:line (name)", a link to the annotated source when there is one.
function locNode(r, withSrc) {
  const box = el("div");
  const text = r.file ? where(r) + (r.name ? " (" + r.name + ")" : "") : r.name;
  if (r.b >= 0) {
    const a = el("a", text, "go"); a.title = "Show the annotated source";
    a.addEventListener("click", () => openSource(r.b, r.line)); box.appendChild(a);
  } else box.appendChild(el("span", text));
  if (withSrc && r.src) box.appendChild(el("div", r.src, "snip code"));
  return box;
}

// A table sorted by clicking its headers. cols: [label, value(row), cell(row) -> text|node,
// class]; rows are shown in full (they are capped by the exporter).
function sortable(host, cols, rows, key, desc) {
  const t = el("table", null, "mt"), thead = el("thead"), hr = el("tr"), body = el("tbody");
  let sk = key, sd = desc !== false;
  const draw = () => {
    const v = cols[sk][1], sign = sd ? -1 : 1;
    const sorted = rows.slice().sort((a, b) => { const x = v(a), y = v(b); return x < y ? -sign : x > y ? sign : 0; });
    const frag = document.createDocumentFragment();
    for (const r of sorted) {
      const tr = el("tr");
      for (const c of cols) {
        const out = c[2](r), td = el("td", null, c[3] || "num");
        if (out instanceof Node) td.appendChild(out); else td.textContent = out;
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    body.textContent = ""; body.appendChild(frag);
    hr.querySelectorAll("th").forEach((th, k) => { th.classList.remove("asc", "desc"); if (k === sk) th.classList.add(sd ? "desc" : "asc"); });
  };
  cols.forEach((c, k) => {
    const th = el("th", c[0], c[3] === "l" ? "l" : "");
    th.addEventListener("click", () => { if (k === sk) sd = !sd; else { sk = k; sd = c[3] !== "l"; } draw(); });
    hr.appendChild(th);
  });
  thead.appendChild(hr); t.append(thead, body); host.textContent = ""; host.appendChild(t);
  if (!rows.length) host.appendChild(el("p", "none", "muted"));
  draw();
  return t;
}

function renderMemory() {
  const T = MEM.totals, g = (k) => T[k] || 0;
  $("hp-mem-mode").textContent = (MEM.mode === "sampled"
      ? "Sampled mode: about one sample per " + fmtBytes(MEM.sampleBytes || 0) + " allocated; amounts are unbiased estimates."
      : "Exact mode: every allocation.") + " Tracked: " +
    (MEM.native ? "Python allocators and native malloc/calloc/realloc/mmap." : "Python allocators only (native allocations not tracked).") +
    (MEM.forked ? " Recorded in a forked child, which stopped recording at the fork." : "");
  const cards = $("hp-mem-cards"); cards.textContent = "";
  const card = (k, v, s, cls) => { const c = el("div", null, "card" + (cls ? " " + cls : "")); c.append(el("div", k, "k"), el("div", v, "v")); if (s) c.appendChild(el("div", s, "s")); cards.appendChild(c); };
  card("Peak tracked heap" + EST, fmtBytes(g("peak_bytes")), "at " + g("peak_time").toFixed(3) + " s, " + fmtInt(g("peak_count")) + " blocks", "peak");
  if (MEM.rssPeak) card("Peak RSS", fmtBytes(MEM.rssPeak), "resident set, sampled");
  card("Allocated" + EST, fmtBytes(g("alloc_bytes")), fmtInt(g("alloc_count")) + " blocks");
  card("Freed", fmtBytes(g("free_bytes")), fmtInt(g("free_count")) + " blocks");
  card("Live at exit", fmtBytes(g("live_bytes")), fmtInt(g("live_count")) + " blocks");
  if (g("reserved_max")) card("Reserved (mmap)", fmtBytes(g("reserved_max")), "most at once, not in the heap; at exit " + fmtBytes(g("reserved_touched")) + " of " + fmtBytes(g("reserved_bytes")) + " touched");
  card("Tracker's own memory", fmtBytes(g("tracker_bytes")), T.duration ? "recorded " + fmtSec(T.duration) : "");

  const L = MEM.lines;
  $("hp-mem-lines-title").textContent = "Top lines by bytes allocated" + EST;
  const nat = (r) => r.ab && r.nb ? (100 * r.nb / r.ab).toFixed(0) + "%" : "\u2013";
  sortable($("hp-mem-lines"), [
    ["Allocated", (r) => r.ab, (r) => fmtBytes(r.ab)], ["Blocks", (r) => r.ac, (r) => fmtInt(r.ac)],
    ["At peak", (r) => r.pb, (r) => fmtBytes(r.pb)], ["Live end", (r) => r.lb, (r) => fmtBytes(r.lb)],
    ["Native", (r) => r.ab ? r.nb / r.ab : 0, nat], ["Location", (r) => where(r), (r) => locNode(r, true), "l"],
  ], L.slice().sort((a, b) => b.ab - a.ab).slice(0, 50), 0);
  sortable($("hp-mem-funcs"), [
    ["Own", (r) => r.oab, (r) => fmtBytes(r.oab)], ["Own blocks", (r) => r.oac, (r) => fmtInt(r.oac)],
    ["With callees", (r) => r.iab, (r) => fmtBytes(r.iab)], ["Function", (r) => r.name, (r) => locNode(r, false), "l"],
  ], MEM.functions.slice(0, 50), 0);
  const peak = g("peak_bytes");
  $("hp-mem-peak-title").textContent = "At the peak: " + fmtBytes(peak) + EST + " live at " + g("peak_time").toFixed(3) + " s, held by";
  sortable($("hp-mem-peak"), [
    ["Held", (r) => r.pb, (r) => fmtBytes(r.pb)], ["Share", (r) => r.pb, (r) => peak ? (100 * r.pb / peak).toFixed(1) + "%" : "\u2013"],
    ["Location", (r) => where(r), (r) => locNode(r, true), "l"],
  ], L.filter((r) => r.pb > 0).sort((a, b) => b.pb - a.pb).slice(0, 30), 0);

  const box = $("hp-mem-leaks"); box.textContent = "";
  box.appendChild(el("p", "Still live at exit" + EST + ", by allocating stack, at least " + fmtBytes(MEM.minLeak) + " each:", "muted"));
  if (!MEM.leaks.length) box.appendChild(el("p", "none"));
  MEM.leaks.forEach((s, k) => {
    const d = el("details", null, "leak"); if (k < 3) d.open = true;
    const sum = el("summary", fmtBytes(s.lb) + " in " + fmtInt(s.lc) + (s.native ? " native" : "") + " blocks ");
    const top = s.frames[0];
    sum.appendChild(el("span", top ? "\u2014 " + top.name + " (" + where(top) + ")" : "\u2014 <no Python frame>", "muted"));
    d.appendChild(sum);
    const ol = el("ol");
    for (const f of s.frames) { const li = el("li"); li.appendChild(locNode(f, true)); ol.appendChild(li); }
    if (!s.frames.length) ol.appendChild(el("li", "<no Python frame>"));
    if (s.more) ol.appendChild(el("li", "\u2026 " + fmtInt(s.more) + " more frames", "muted"));
    if (s.truncated === 1) ol.appendChild(el("li", "\u2026 (deeper than " + MEM.maxFrames + " frames)", "muted"));
    d.appendChild(ol); box.appendChild(d);
  });
  if (MEM.leaksMore[0]) box.appendChild(el("p", "\u2026 and " + fmtInt(MEM.leaksMore[0]) + " more stacks holding " + fmtBytes(MEM.leaksMore[1]), "muted"));
  if (MEM.imports[0]) box.appendChild(el("p", "Not listed: " + fmtBytes(MEM.imports[1]) + " allocated while importing modules, in " +
                                              fmtInt(MEM.imports[0]) + " stacks (module state).", "muted"));
  if (MEM.flame) memInit();            // memory.js: the flame graph and temporal view
}

// Memory over time as inline SVG: tracked heap (area) and RSS (line), the peak marked;
// hover for the values at a moment.
const SVGNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs, parent, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const k in attrs) e.setAttribute(k, String(attrs[k]));
  if (text !== undefined) e.textContent = String(text);
  if (parent) parent.appendChild(e);
  return e;
}
function niceStep(span, ticks) {
  if (!(span > 0)) return 1;
  const raw = span / ticks, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}
function drawChart() {
  const host = $("hp-mem-chart"); host.textContent = "";
  const TL = MEM.timeline, N = TL.t.length;
  if (!N) { host.appendChild(el("p", "No memory-over-time samples in this profile.", "muted")); document.body.dataset.chart = "0"; return; }
  const W = Math.max(360, host.clientWidth || 900), H = 280, l = 64, r = 18, t = 14, b = 34;
  const pw = W - l - r, ph = H - t - b;
  const peakT = MEM.totals.peak_time || 0, peakB = MEM.totals.peak_bytes || 0;
  const tMax = Math.max(TL.t[N - 1] || 0, peakT, 1e-3);
  let yMax = Math.max(peakB, 1);
  for (let i = 0; i < N; i++) yMax = Math.max(yMax, TL.rss[i], TL.heap[i]);
  const unit = yMax >= 1.5 * 1073741824 ? [1073741824, "GiB"] : yMax >= 1.5 * 1048576 ? [1048576, "MiB"] : [1024, "KiB"];
  const step = niceStep(yMax / unit[0] * 1.05, 5) * unit[0];
  yMax = Math.ceil(yMax * 1.05 / step) * step;
  const X = (s) => l + pw * s / tMax, Y = (v) => t + ph * (1 - v / yMax);
  const root = svg("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img" });
  svg("title", {}, root, "Memory over time: RSS and tracked heap");
  const grid = svg("g", { class: "grid" }, root), ax = svg("g", { class: "ax" }, root);
  for (let v = 0; v <= yMax + step / 2; v += step) {
    svg("line", { x1: l, x2: l + pw, y1: Y(v).toFixed(1), y2: Y(v).toFixed(1) }, grid);
    svg("text", { x: l - 6, y: (Y(v) + 4).toFixed(1), "text-anchor": "end" }, ax, +(v / unit[0]).toFixed(2) + " " + unit[1]);
  }
  const xs = niceStep(tMax, 8);
  for (let s = 0; s <= tMax * 1.0001; s += xs) {
    svg("line", { x1: X(s).toFixed(1), x2: X(s).toFixed(1), y1: t + ph, y2: t + ph + 4, stroke: "#999" }, ax);
    svg("text", { x: X(s).toFixed(1), y: t + ph + 16, "text-anchor": "middle" }, ax, +s.toFixed(6) + " s");
  }
  svg("rect", { x: l, y: t, width: pw, height: ph, fill: "none", stroke: "#ccc" }, root);
  const pts = (arr) => { let d = ""; for (let i = 0; i < N; i++) d += (i ? "L" : "M") + X(TL.t[i]).toFixed(1) + "," + Y(arr[i]).toFixed(1); return d; };
  const hasRss = TL.rss.some((v) => v > 0);
  svg("path", { d: pts(TL.heap) + "L" + X(TL.t[N - 1]).toFixed(1) + "," + Y(0) + "L" + X(TL.t[0]).toFixed(1) + "," + Y(0) + "Z",
                fill: "rgba(214,39,40,0.13)", stroke: "none" }, root);
  svg("path", { d: pts(TL.heap), fill: "none", stroke: "#d62728", "stroke-width": 2, "stroke-linejoin": "round", class: "heap" }, root);
  if (hasRss) svg("path", { d: pts(TL.rss), fill: "none", stroke: "#1f77b4", "stroke-width": 2, "stroke-linejoin": "round", class: "rss" }, root);
  // the peak
  const px = X(peakT), py = Y(peakB);
  svg("line", { x1: px.toFixed(1), x2: px.toFixed(1), y1: t, y2: t + ph, stroke: "#d62728", "stroke-dasharray": "3,3", opacity: 0.6 }, root);
  svg("circle", { cx: px.toFixed(1), cy: py.toFixed(1), r: 4.5, fill: "#d62728", stroke: "#fff", "stroke-width": 1.5, class: "peak" }, root);
  const label = "peak " + fmtBytes(peakB) + EST + " at " + peakT.toFixed(3) + " s";
  const right = px > l + pw - 200;
  svg("text", { x: (right ? px - 8 : px + 8).toFixed(1), y: Math.max(py - 8, t + 12).toFixed(1), "text-anchor": right ? "end" : "start",
                fill: "#a11", "font-weight": 600 }, root, label);
  // legend
  const items = (hasRss ? [["RSS", "#1f77b4"]] : []).concat([["tracked heap", "#d62728"]]);
  items.forEach(([name, c], k) => {
    const y = t + 14 + 16 * k;
    svg("line", { x1: l + 10, x2: l + 30, y1: y - 4, y2: y - 4, stroke: c, "stroke-width": 2.5 }, root);
    svg("text", { x: l + 36, y: y, fill: "#333" }, root, name);
  });
  // hover
  const guide = svg("line", { y1: t, y2: t + ph, stroke: "#555", "stroke-width": 1, visibility: "hidden" }, root);
  const dotH = svg("circle", { r: 3.5, fill: "#d62728", visibility: "hidden" }, root);
  const dotR = svg("circle", { r: 3.5, fill: "#1f77b4", visibility: "hidden" }, root);
  const hit = svg("rect", { x: l, y: t, width: pw, height: ph, fill: "transparent", class: "hit" }, root);
  hit.addEventListener("mousemove", (ev) => {
    const rc = root.getBoundingClientRect(), s = (ev.clientX - rc.left - l) / pw * tMax;
    let lo = 0, hi = N - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (TL.t[mid] < s) lo = mid + 1; else hi = mid; }
    if (lo > 0 && Math.abs(TL.t[lo - 1] - s) < Math.abs(TL.t[lo] - s)) lo--;
    const x = X(TL.t[lo]).toFixed(1);
    for (const e of [guide, dotH, dotR]) e.setAttribute("visibility", "visible");
    guide.setAttribute("x1", x); guide.setAttribute("x2", x);
    dotH.setAttribute("cx", x); dotH.setAttribute("cy", Y(TL.heap[lo]).toFixed(1));
    dotR.setAttribute("cx", x); dotR.setAttribute("cy", Y(TL.rss[lo]).toFixed(1));
    if (!hasRss) dotR.setAttribute("visibility", "hidden");
    tip.textContent = "";
    tip.appendChild(el("b", TL.t[lo].toFixed(3) + " s"));
    if (hasRss) tip.appendChild(el("div", "RSS: " + fmtBytes(TL.rss[lo])));
    tip.appendChild(el("div", "Tracked heap: " + fmtBytes(TL.heap[lo])));
    placeTip(ev);
  });
  hit.addEventListener("mouseleave", () => { tip.hidden = true; for (const e of [guide, dotH, dotR]) e.setAttribute("visibility", "hidden"); });
  host.appendChild(root);
  document.body.dataset.chart = String(N);
}

// ---- views ----------------------------------------------------------------------------------
const VIEWS = [];
let chartWidth = -1;
function showView(name) {
  if (!VIEWS.includes(name)) return;
  for (const v of ["hot", "profile", "source", "memory", "processes"]) $("hp-view-" + v).hidden = v !== name;
  $("hp-controls").hidden = !(name === "profile" || name === "hot") || !D.threads.length;
  document.body.classList.toggle("on-hot", name === "hot");
  document.querySelectorAll("#hp-tabs button").forEach((b) => b.classList.toggle("on", b.dataset.view === name));
  document.body.dataset.view = name;
  tip.hidden = true;
  if (name === "profile" && D.threads.length) render();
  if (name === "hot" && D.threads.length) showHot();
  if (name === "source" && SV.block < 0 && BLOCKS.length) {
    const first = $("hp-src-list").querySelector("a");
    openSource(first ? Number(first.dataset.b) : 0);
  }
  if (name === "memory" && MEM) { const w = $("hp-mem-chart").clientWidth; if (w !== chartWidth) { chartWidth = w; drawChart(); memRedraw(); } }
  try { history.replaceState(null, "", "#" + name); } catch (e) { /* file: URLs may refuse */ }
}

// ---- threads and start-up ----------------------------------------------------------------
function selectThread(value) {
  S.sel = value === "all" ? D.threads.map((_, i) => i) :
    value[0] === "p" ? D.processes[Number(value.slice(1))].threads : [Number(value)];
  S.full = buildTree(S.sel); S.tree = hideFrames(S.full); S.stats = buildStats(S.sel);
  S.zoom = 0; S.cursor = 0; S.limit = 200; S.hot = null;
  if (document.body.dataset.view === "hot") showHot();
  if (S.match) updateMatch(); else { render(); renderTable(); }
  if (S.selected >= 0) select(S.selected, false);
}

function initProfile() {
  const trunc = D.threads.filter((t) => t.truncated).map((t) => t.name);
  if (trunc.length) warn("The call tree size cap was reached in " + trunc.join(", ") + ": deeper paths were merged.");
  initHot();
  const sel = $("hp-thread");
  const totalOf = (t) => t.nodes.t[0];
  if (D.threads.length > 1) sel.appendChild(new Option("All threads (" + D.threads.length + ")", "all"));
  D.threads.forEach((t, i) => sel.appendChild(new Option(t.name + " \u2014 " + fmtTime(totalOf(t)), String(i))));
  // A whole-program profile: one entry per process (its threads merged), as a tree.
  (D.processes || []).forEach((p, k) => { if (D.processes.length > 1) sel.appendChild(new Option("\u00a0\u00a0".repeat(p.depth) + "Process " + p.pid + " " + p.label + (p.missing ? " (no profile: " + p.missing + ")" : ""), "p" + k)).disabled = !p.threads.length; });
  sel.disabled = D.threads.length < 2;
  sel.addEventListener("change", () => selectThread(sel.value));
  selectThread(D.threads.length > 1 ? "all" : "0");
}

// ---- processes -----------------------------------------------------------------------------
function renderProcesses() {
  const P = D.processes, body = $("hp-procs").querySelector("tbody");
  const ends = P.map((p) => p.end).filter((x) => x !== null);
  const span = Math.max(1e-9, ...ends, ...P.map((p) => p.begin || 0));
  const opt = (k) => "p" + k;
  P.forEach((p, k) => {
    const tr = el("tr");
    if (p.missing) tr.className = "missing";
    tr.appendChild(el("td", p.pid));
    const name = el("td", "\u00a0\u00a0".repeat(p.depth) + (p.depth ? "\u2514 " : "") + p.label, "l");
    name.title = p.label;
    if (p.missing || p.note) name.appendChild(el("span", p.missing ? "no profile: " + p.missing : p.note, "note"));
    tr.appendChild(name);
    const bar = el("div", null, "proc-bar"), cell = el("td", null, "proc-span");
    if (p.begin !== null) {
      const run = el("div", null, "run" + (p.missing ? " lost" : ""));
      const end = p.end !== null ? p.end : span;
      run.style.left = (100 * p.begin / span) + "%";
      run.style.width = Math.max(0.3, 100 * (end - p.begin) / span) + "%";
      run.title = "ran from " + p.begin.toFixed(3) + " s to " + (p.end !== null ? p.end.toFixed(3) + " s" : "?");
      if (p.waited && end > p.begin) {
        const w = el("div", null, "wait");
        w.style.width = Math.min(100, 100 * p.waited / (end - p.begin)) + "%";
        w.title = "waited on its children " + fmtSec(p.waited);
        run.appendChild(w);
      }
      bar.appendChild(run);
    }
    cell.appendChild(bar);
    tr.appendChild(cell);
    tr.appendChild(el("td", p.begin !== null && p.end !== null ? fmtSec(p.end - p.begin) : ""));
    tr.appendChild(el("td", p.missing ? "\u2013" : fmtInt(p.calls)));
    tr.appendChild(el("td", p.missing ? "\u2013" : fmtSec(p.seconds)));
    tr.appendChild(el("td", p.waited === null ? "" : fmtSec(p.waited) +
      (p.end !== null && p.end > p.begin ? " (" + fmtPct(p.waited / (p.end - p.begin)) + ")" : "")));
    if (p.threads.length) tr.addEventListener("click", () => { const sel = $("hp-thread"); sel.value = opt(k); selectThread(opt(k)); showView("hot"); });
    body.appendChild(tr);
  });
  const box = $("hp-procs-waits");
  P.filter((p) => p.waits.length).forEach((p) => {
    box.appendChild(el("p", "Process " + p.pid + " (" + p.label + ") waited on its children " + fmtSec(p.waited) + ": " +
      p.waits.slice(0, 6).map((w) => w[0] + " " + fmtSec(w[1])).join(", ")));
  });
}

function init() {
  $("hp-title").textContent = D.title;
  $("hp-meta").textContent = D.summary.join(" \u00b7 ");
  $("hp-footer").textContent = "Generated by " + D.exporter + ". Self-contained: works offline" +
    (BLOCKS.length ? "; source text as it was when the report was written." : ".");
  if (D.threads.length) VIEWS.push("hot", "profile");
  if (BLOCKS.length) VIEWS.push("source");
  if (MEM) VIEWS.push("memory");
  if ((D.processes || []).length > 1) VIEWS.push("processes");
  if (D.source && D.source.error) warn("The line data could not be read: " + D.source.error);
  if (D.memory && D.memory.error) warn("The memory data could not be read: " + D.memory.error);
  const tabs = $("hp-tabs");
  tabs.hidden = VIEWS.length < 2 && !(VIEWS.length === 1 && VIEWS[0] !== "profile");
  tabs.querySelectorAll("button").forEach((b) => {
    b.hidden = !VIEWS.includes(b.dataset.view);
    if (b.dataset.view === "source" && BLOCKS.length) b.appendChild(el("span", String(BLOCKS.length), "n"));
    b.addEventListener("click", () => showView(b.dataset.view));
  });
  if (D.threads.length) initProfile();
  else { VIEWS.includes("profile") || VIEWS.push("profile"); $("hp-crumbs").textContent = "This profile holds no call profile (no threads)."; }
  if (BLOCKS.length) renderSourceList();
  if (MEM) renderMemory();
  if (VIEWS.includes("processes")) renderProcesses();
  const asked = (location.hash || "").slice(1);
  showView(VIEWS.includes(asked) && (asked !== "profile" || D.threads.length) ? asked
           : D.threads.length ? "hot" : MEM ? "memory" : BLOCKS.length ? "source" : "profile");
  window.addEventListener("hashchange", () => {
    const v = (location.hash || "").slice(1);
    if (VIEWS.includes(v) && v !== document.body.dataset.view) showView(v);
  });
  onResize(() => {
    const v = document.body.dataset.view;
    if ((v === "profile" || v === "hot") && D.threads.length) render();
    if (v === "memory" && MEM) { chartWidth = -1; showView("memory"); }
  });
  document.body.dataset.ready = "1";
}

window.hotpath = { data: D, state: S, zoomTo, setSearch, focusFunction, sortBy, select, selectThread, frameAt, render,
                   showView, openSource, drawChart, showHot, setHide, hotRows, renderProcesses };
