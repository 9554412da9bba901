// ---- whose code ---------------------------------------------------------------------------
// The colour class of function f: 0 your code (FN.user, decided in Python by
// model.usercode, --focus included), 1 library and standard library, 2 C built-in,
// 4 import machinery.
function kindOf(f) { return FN.kind[f] === 2 ? 2 : FN.imp[f] ? 4 : FN.user[f] ? 0 : 1; }

// The flame graph's and table's toggles: frames left out of the picture.
const HIDE = { lib: false, imp: false };
function hiddenFunc(f) { return f >= 0 && ((HIDE.lib && !FN.user[f]) || (HIDE.imp && FN.imp[f] === 1)); }
function keepRow(f) { return !hiddenFunc(f); }

// T without the hidden frames: what a hidden frame called moves up to the nearest frame
// that stays (merged by function there), and its own time becomes that frame's self time,
// so every width is unchanged. `map[i]` is the new node standing for T's node i.
function hideFrames(T) {
  if (!HIDE.lib && !HIDE.imp) return T;
  const N = T.size, map = new Int32Array(N);
  const f = [T.f[0]], p = [-1], n = [0], s = [0], t = [T.t[0]], km = [new Map()];
  for (let i = 1; i < N; i++) {
    const up = map[T.p[i]], fi = T.f[i];
    if (hiddenFunc(fi)) { map[i] = up; s[up] += T.s[i]; continue; }
    let j = km[up].get(fi);
    if (j === undefined) {
      j = f.length; km[up].set(fi, j);
      f.push(fi); p.push(up); n.push(0); s.push(0); t.push(0); km.push(new Map());
    }
    n[j] += T.n[i]; s[j] += T.s[i]; t[j] += T.t[i];
    map[i] = j;
  }
  const out = { f: Int32Array.from(f), p: Int32Array.from(p), n: Float64Array.from(n),
                s: Float64Array.from(s), t: Float64Array.from(t), size: f.length, map, full: T };
  out.name = (i) => out.f[i] >= 0 ? FN.name[out.f[i]] : (out.f[i] === -1 ? "all" : D.threads[-2 - out.f[i]].name);
  return Object.assign(out, layout(out.size, out.p, out.t, out.name));
}

function setHide(lib, imp) {
  HIDE.lib = !!lib; HIDE.imp = !!imp;
  $("hp-hide-lib").checked = HIDE.lib; $("hp-hide-imp").checked = HIDE.imp;
  S.tree = hideFrames(S.full); S.zoom = 0; S.cursor = 0; S.hot = null; S.limit = 200;
  document.body.dataset.hide = (HIDE.lib ? "lib" : "") + (HIDE.imp ? "imp" : "");
  if (S.match) updateMatch(); else { render(); renderTable(); }
  if (document.body.dataset.view === "hot") showHot();
  if (S.selected >= 0) select(S.selected, false);
}

// The colours, and what each means.
function legend() {
  const box = $("hp-legend"); box.textContent = "";
  const item = (colour, text, title) => {
    const s = el("span", null, "lg"), sw = el("span", null, "sw");
    sw.style.background = colour; s.append(sw, text); if (title) s.title = title; box.appendChild(s);
  };
  item(baseColour(0, "main"), "your code", "Files outside the standard library and installed packages" +
       (D.focus.length ? ", and " + D.focus.join(", ") : ""));
  item(baseColour(1, "main"), "library / standard library");
  item(baseColour(2, "main"), "C function (built-in)");
  item(baseColour(4, "main"), "import machinery");
  item("rgb(190,190,190)", "frames too narrow to draw");
  if (S.match) item("rgb(238,80,230)", "search match");
}

// ---- the hot-path tree --------------------------------------------------------------------
// Built from S.tree as report/hottree.py builds it in Python: one row per function of the
// user's on a path; each run of frames that are not the user's one "fold" row (which keeps
// the time and the functions it hides); children heaviest first; the heaviest path (the
// heaviest child while it holds at least the row's own time) open, down to the costliest
// line of the last function with line timings. Node: {k: root|thread|func|fold|line, f, n,
// s, t, kids, hid (fold: Map function -> self), rep (first S.tree node), up, depth, open, hot}.
const HOT = { fold: true, rows: [], focus: null };
const LEAF = new Map();
(D.lineLeaves ? D.lineLeaves.f : []).forEach((f, k) => { if (!LEAF.has(f)) LEAF.set(f, k); });

function buildHot(T, fold) {
  const mk = (k, f, up, rep) => ({ k, f, n: 0, s: 0, t: 0, kids: [], km: null, hid: null,
                                   rep, up, depth: up ? up.depth + 1 : 0, open: false, hot: false });
  const root = mk("root", -1, null, 0); root.t = T.t[0];
  const map = new Array(T.size); map[0] = root;
  for (let i = 1; i < T.size; i++) {
    const pd = map[T.p[i]], fi = T.f[i];
    let d, key;
    if (fi < -1) { key = "t" + fi; }
    else if (!fold || FN.user[fi]) key = fi;
    else if (pd.k === "fold") {
      d = pd; d.s += T.s[i]; d.hid.set(fi, (d.hid.get(fi) || 0) + T.s[i]); map[i] = d; continue;
    } else key = "f" + fi;
    if (pd.km === null) pd.km = new Map();            // (made when the first child comes)
    d = pd.km.get(key);
    if (d === undefined) {
      d = mk(fi < -1 ? "thread" : typeof key === "number" ? "func" : "fold", fi, pd, i);
      if (d.k === "fold") d.hid = new Map();
      pd.km.set(key, d); pd.kids.push(d);
    }
    d.n += T.n[i]; d.s += T.s[i]; d.t += T.t[i];
    if (d.k === "fold") d.hid.set(fi, (d.hid.get(fi) || 0) + T.s[i]);
    map[i] = d;
  }
  // the frames that only launch the program (exec, runpy): as report/hottree.py
  for (const base of [root, ...root.kids.filter((c) => c.k === "thread")]) {
    base.kids = base.kids.flatMap((c) => {
      if (c.k !== "fold" || !c.kids.length || c.kids.some((u) => u.k !== "func") || c.s * 100 > c.t) return [c];
      base.s += c.s; for (const u of c.kids) u.up = base; return c.kids;
    });
  }
  const stack = [root];
  while (stack.length) {
    const x = stack.pop(); x.km = null;
    for (const c of x.kids) c.depth = x.depth + 1;
    x.kids.sort((a, b) => b.t - a.t);
    for (const c of x.kids) stack.push(c);
  }
  const path = [root];
  for (let x = root; x.kids.length && x.kids[0].t > 0 && x.kids[0].t >= x.s; ) { x = x.kids[0]; path.push(x); }
  for (let k = path.length - 1; k > 0; k--) {            // the costliest line
    const x = path[k];
    if (x.k !== "func" || !LEAF.has(x.f)) continue;
    const j = LEAF.get(x.f), L = D.lineLeaves;
    const leaf = mk("line", x.f, x, x.rep);
    leaf.line = L.line[j]; leaf.n = L.hits[j]; leaf.sec = L.sec[j]; leaf.src = L.src[j];
    leaf.t = leaf.s = L.sec[j] / TS;
    x.kids.unshift(leaf);
    if (k === path.length - 1) path.push(leaf);
    break;
  }
  for (const x of path) { x.hot = true; x.open = true; }
  return { root, path, fold };
}

// The packages a fold hides, the one holding most of its own time first.
function packagesOf(x) {
  const w = new Map();
  for (const [f, s] of x.hid) { const pk = D.packages[FN.pkg[f]]; w.set(pk, (w.get(pk) || 0) + s); }
  return [...w.keys()].sort((a, b) => w.get(b) - w.get(a));
}
function hotText(x) {
  if (x.k === "fold") {
    const pk = packagesOf(x), n = x.hid.size;
    return n + (n === 1 ? " frame" : " frames") + " hidden (" + pk.slice(0, 4).join(", ") +
           (pk.length > 4 ? ", +" + (pk.length - 4) + " more" : "") + ")";
  }
  if (x.k === "line") return "line " + x.line + (x.src ? ": " + x.src : "");
  if (x.k === "thread") return D.threads[-2 - x.f].name;
  return FN.name[x.f];
}

const MAXKIDS = 60;
function renderHot() {
  const host = $("hp-hot"), frag = document.createDocumentFragment(), total = HOT.tree.root.t || 1;
  const focusKey = HOT.focus;
  HOT.rows = [];
  const elems = [], stack = [];
  const pushKids = (x) => {
    if (x.kids.length > MAXKIDS) stack.push({ moreOf: x, count: x.kids.length - MAXKIDS });
    for (let k = Math.min(x.kids.length, MAXKIDS) - 1; k >= 0; k--) stack.push(x.kids[k]);
  };
  const row = (x) => {
    const r = el("div", null, "hot-row " + x.k + (x.hot ? " hot" : "") + (S.hotMatch && S.hotMatch.has(x) ? " match" : ""));
    r.setAttribute("role", "treeitem"); r.tabIndex = -1;
    r.setAttribute("aria-level", String(x.depth));
    if (x.kids.length) r.setAttribute("aria-expanded", String(x.open));
    r.dataset.k = String(HOT.rows.length);
    const share = x.t / total;
    const bar = el("span", null, "c share"), track = el("span", null, "track"), fill = el("span", null, "fill");
    fill.style.width = Math.min(100, 100 * share).toFixed(1) + "%"; track.appendChild(fill);
    bar.append(track, el("span", fmtPct(share), "pc"));
    r.append(el("span", x.k === "line" ? fmtSec(x.sec) : fmtTime(x.t), "c"), bar,
             el("span", x.k === "thread" || x.k === "line" ? "" : fmtTime(x.s), "c"),
             el("span", x.k === "thread" ? "" : fmtInt(x.n), "c"));
    const nm = el("span", null, "nm");
    const depth = Math.min(x.depth - 1, 40);
    nm.style.paddingLeft = (4 + 14 * depth) + "px";
    nm.appendChild(el("span", x.kids.length ? (x.open ? "\u25be" : "\u25b8") : "", "tw"));
    if (x.depth - 1 > 40) nm.appendChild(el("span", "[" + x.depth + "] ", "muted"));
    if (x.k === "func" || x.k === "fold") { const sw = el("span", null, "sw"); sw.style.background = colourOf(x.f); nm.appendChild(sw); }
    nm.appendChild(el("span", hotText(x), "tx"));
    if (x.k === "func") nm.appendChild(el("span", loc(x.f), "where"));
    if (x.k === "fold") nm.appendChild(el("span", "via " + FN.name[x.f], "where"));
    if (x.k === "line") nm.appendChild(el("span", FN.name[x.f] + ", " + fmtInt(x.n) + " hits", "where"));
    if (x.k === "fold") nm.title = "Hidden: " + [...x.hid.keys()].slice(0, 30).map((f) => label(f)).join(" \u203a ");
    else if (x.f >= 0) nm.title = label(x.f);
    if (x === HOT.tree.path[HOT.tree.path.length - 1]) {
      r.classList.add("spot");
      nm.insertBefore(el("span", "hot spot", "badge"), nm.querySelector(".where"));
    }
    r.appendChild(nm);
    HOT.rows.push(x);
    return r;
  };
  pushKids(HOT.tree.root);
  while (stack.length) {
    const x = stack.pop();
    if (x.moreOf) { frag.appendChild(moreRow(x.count)); continue; }
    const r = row(x); elems.push(r); frag.appendChild(r);
    if (x.open) pushKids(x);
  }
  host.textContent = ""; host.appendChild(frag);
  const at = focusKey ? HOT.rows.indexOf(focusKey) : -1;
  const target = at >= 0 ? elems[at] : elems[0];
  if (target) target.tabIndex = 0;               // one tab stop; arrows move within
  document.body.dataset.hotRows = String(HOT.rows.length);
  return at >= 0 ? elems[at] : null;
}
function moreRow(k) {
  return el("div", "\u2026 " + fmtInt(k) + " smaller rows not shown (search finds them)", "hot-more muted");
}

function showHot() {
  if (!S.tree) return;
  if (!S.hot || S.hot.fold !== HOT.fold) {
    S.hot = buildHot(S.tree, HOT.fold); HOT.tree = S.hot; S.hotMatch = null;
    if (S.match) markMatches();
  }
  HOT.tree = S.hot;
  renderHot();
  const tail = S.hot.path[S.hot.path.length - 1];
  document.body.dataset.hotLeaf = tail && tail.k !== "root" ? hotText(tail) : "";
}

function matchChanged() {
  legend();
  if (!S.hot) return;
  markMatches();
  if (document.body.dataset.view === "hot") renderHot();
}
// Open the way to (at most 300) rows of functions the search matched; a fold matches when
// it hides one.
function markMatches() {
  S.hotMatch = null;
  if (!S.match) return;
  const hits = new Set(), stack = [S.hot.root];
  while (stack.length && hits.size < 300) {
    const x = stack.pop();
    const m = x.k === "fold" ? [...x.hid.keys()].some((f) => S.match[f]) : x.f >= 0 && x.k !== "line" && S.match[x.f] === 1;
    if (m && x.k !== "root") { hits.add(x); for (let u = x.up; u; u = u.up) u.open = true; }
    for (const c of x.kids) stack.push(c);
  }
  S.hotMatch = hits;
}

function hotOpenOver(share) {
  const floor = (S.hot.root.t || 0) * share, stack = [S.hot.root];
  while (stack.length) { const x = stack.pop(); x.open = x.hot || (x.t >= floor && x.kids.length > 0); for (const c of x.kids) stack.push(c); }
  renderHot();
}

// Show row x in the flame graph: zoomed to the frame it stands for, cursor on it.
function showInFlame(x) {
  if (x.k === "line" && blockOfFunc.has(x.f)) { openSource(blockOfFunc.get(x.f), x.line); return; }
  const i = x.k === "root" ? 0 : x.rep;
  HOT.back = x;
  showView("profile");
  S.cursor = i; zoomTo(i);
  if (x.f >= 0) select(x.f, true);
  canvas.focus();
}
function escapeAtTop() {
  if (!HOT.back) return;
  showView("hot");
  const r = (() => { HOT.focus = HOT.back; return renderHot(); })();
  if (r) r.focus();
}

function hotRowOf(node) { const k = node.closest(".hot-row"); return k ? HOT.rows[Number(k.dataset.k)] : null; }
function toggle(x, open) {
  if (!x.kids.length) return;
  x.open = open === undefined ? !x.open : open;
  HOT.focus = x;
  const r = renderHot(); if (r) r.focus();
}
function focusRow(x) { HOT.focus = x; const r = renderHot(); if (r) r.focus(); }

function initHot() {
  legend();
  $("hp-hot-focus").addEventListener("change", (ev) => { HOT.fold = ev.target.checked; HOT.focus = null; showHot(); });
  $("hp-hot-more").addEventListener("click", () => hotOpenOver(0.05));
  $("hp-hot-less").addEventListener("click", () => hotOpenOver(2));
  $("hp-hide-lib").addEventListener("change", (ev) => setHide(ev.target.checked, HIDE.imp));
  $("hp-hide-imp").addEventListener("change", (ev) => setHide(HIDE.lib, ev.target.checked));
  if (D.focus.length) $("hp-hot-focused").textContent = "Counted as your code too: " + D.focus.join(", ");
  const host = $("hp-hot");
  host.addEventListener("click", (ev) => {
    const x = hotRowOf(ev.target); if (!x) return;
    if (x.kids.length) toggle(x); else focusRow(x);
  });
  host.addEventListener("dblclick", (ev) => { const x = hotRowOf(ev.target); if (x) showInFlame(x); });
  host.addEventListener("keydown", (ev) => {
    const x = hotRowOf(ev.target); if (!x) return;
    const k = HOT.rows.indexOf(x);
    if (ev.key === "ArrowDown" && k + 1 < HOT.rows.length) focusRow(HOT.rows[k + 1]);
    else if (ev.key === "ArrowUp" && k > 0) focusRow(HOT.rows[k - 1]);
    else if (ev.key === "ArrowRight") { if (x.kids.length && !x.open) toggle(x, true); else if (x.open && x.kids.length) focusRow(x.kids[0]); }
    else if (ev.key === "ArrowLeft") { if (x.open && x.kids.length) toggle(x, false); else if (x.up && x.up.k !== "root") focusRow(x.up); }
    else if (ev.key === " ") toggle(x);
    else if (ev.key === "Home") focusRow(HOT.rows[0]);
    else if (ev.key === "End") focusRow(HOT.rows[HOT.rows.length - 1]);
    else if (ev.key === "Enter") showInFlame(x);
    else return;
    ev.preventDefault();
  });
}

// The rows as shown, for tests and scripts: [{kind, text, where, depth, hot, open, total}].
function hotRows() {
  return HOT.rows.map((x) => ({ kind: x.k, text: hotText(x), f: x.f, depth: x.depth, hot: x.hot, open: x.open,
                                 total: x.t, self: x.s, calls: x.n, kids: x.kids.length,
                                 packages: x.k === "fold" ? packagesOf(x) : null }));
}
