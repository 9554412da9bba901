const D = JSON.parse(document.getElementById("hp-data").textContent);
// Unpacked where they are (threads[].nodes), not by a JSON.parse reviver: a reviver is
// called for every value of the data and made a 30,000-function page load 3x slower.
(D.threads || []).forEach((t) => { if (t.nodes) for (const k in t.nodes) t.nodes[k] = unpackColumn(k, t.nodes[k]); });
// Large number columns come packed (html.py packed_column): {"$b64": base64 of
// little-endian values, "type": "u8"|"i8"|"u16"|"i16"|"u32"|"i32"|"f64"}; they become
// typed arrays here, which index and have .length like the arrays they replace.
function unpackColumn(key, v) {
  if (v === null || typeof v !== "object" || typeof v.$b64 !== "string") return v;
  const T = { u8: Uint8Array, i8: Int8Array, u16: Uint16Array, i16: Int16Array,
              u32: Uint32Array, i32: Int32Array, f64: Float64Array }[v.type];
  const bin = atob(v.$b64), bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new T(bytes.buffer);
}
const FN = D.funcs, NF = FN.name.length;
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
function fmtInt(n) { return n.toLocaleString("en-US"); }
// An element holding text: the one way profile text gets into the page.
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function loc(f) { return FN.kind[f] === 2 ? "(built-in)" : D.files[FN.file[f]] + ":" + FN.line[f]; }
function label(f) { return FN.kind[f] === 2 ? FN.name[f] : FN.name[f] + " (" + loc(f) + ")"; }
function warn(text) {
  const w = $("hp-warn"); w.hidden = false;
  w.textContent = w.textContent ? w.textContent + " " + text : text;
}
// fn() on window resizes, at most once a frame.
function onResize(fn) {
  let pending = false;
  window.addEventListener("resize", () => {
    if (pending) return; pending = true;
    requestAnimationFrame(() => { pending = false; fn(); });
  });
}

// ---- flame graph ---------------------------------------------------------------------
// The layout of a tree of `size` nodes (node 0 the root, parents first) with parents p,
// widths t and labels name(i): children in CSR form (kids[start[i]..start[i+1]]) sorted
// by label, x offsets in the widths' units, depths.
function layout(size, p, t, name) {
  const cnt = new Int32Array(size + 1);
  for (let i = 1; i < size; i++) cnt[p[i] + 1]++;
  for (let i = 0; i < size; i++) cnt[i + 1] += cnt[i];
  const start = cnt.slice(), kids = new Int32Array(Math.max(size - 1, 0)), fill = cnt.slice();
  for (let i = 1; i < size; i++) kids[fill[p[i]]++] = i;
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
  return { x, d, start, kids };
}

const canvas = $("hp-flame"), box = $("hp-flame-box"), tip = $("hp-tip");

function chainOf(i) { const T = S.tree, out = []; while (i >= 0) { out.push(i); i = T.p[i]; } return out.reverse(); }

// Draws S.tree (f, p, t, x, d, start, kids, size, name(i); with `absent`, nodes of width
// 0 are not in this picture at all) from S.zoom down, its ancestors dimmed above it.
function render() {
  const T = S.tree; if (!T) return;
  if (box.offsetParent === null) return;     // not shown (another view): drawn when it is
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
        if (c >= 0 && T.absent && T.t[c] === 0) continue;
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
    const f = T.f[i], y = row * ROWH, look = frameLook(i, f, w, dim);
    ctx.globalAlpha = look.alpha;
    ctx.fillStyle = look.fill; ctx.fillRect(px, y + 1, Math.max(w - 0.5, 0.5), ROWH - 2);
    if (look.outline) {
      ctx.strokeStyle = look.outline; ctx.lineWidth = 2;
      ctx.strokeRect(px + 1, y + 2, Math.max(w - 2.5, 0.5), ROWH - 4);
    }
    ctx.globalAlpha = look.textAlpha;
    if (w > 3 * charW + 6) {
      const name = f >= 0 ? label(f) : T.name(i);
      const fits = Math.floor((w - 6) / charW);
      ctx.fillStyle = look.ink;
      ctx.fillText(name.length <= fits ? name : name.slice(0, Math.max(fits - 1, 1)) + "\u2026", px + 3, y + ROWH / 2 + 0.5);
    }
    ctx.globalAlpha = 1;
    drawn.push(i);
  };
  for (let r = 0; r < chain.length - 1; r++) frame(chain[r], 0, W, r, true);
  for (const i of vis) frame(i, (T.x[i] - x0) * scale, T.t[i] * scale, baseRow + T.d[i] - T.d[z], false);
  ctx.fillStyle = "rgb(190,190,190)";
  for (const r of runs) ctx.fillRect((r.x - x0) * scale, r.row * ROWH + 1, Math.max(r.t * scale - 0.5, 0.5), ROWH - 2);
  const cur = S.cursor;                       // the keyboard's frame: a dark outline
  if (cur > 0 && cur < T.size && document.activeElement === canvas) {
    const at = frameBox(cur, { chain, baseRow, scale, x0 });
    if (at) { ctx.strokeStyle = "#111"; ctx.lineWidth = 2; ctx.strokeRect(at[0] + 1, at[1] + 1, Math.max(at[2] - 2, 2), ROWH - 2); }
  }
  S.visible = vis.length; S.drawn = drawn;
  S.layout = { chain, baseRow, scale, x0, W, runs };
  document.body.dataset.frames = String(vis.length);
  renderCrumbs(chain);
}

// Canvas box [x, y, w] of node i as drawn with layout L, or null when it is not drawn.
function frameBox(i, L) {
  const T = S.tree, k = L.chain.indexOf(i);
  if (k >= 0 && k < L.chain.length - 1) return [0, k * ROWH, L.W];
  if (!L.scale) return null;
  let up = i; while (up >= 0 && up !== S.zoom) up = T.p[up];
  if (up !== S.zoom || T.t[i] * L.scale < 0.5) return null;
  return [(T.x[i] - L.x0) * L.scale, (L.baseRow + T.d[i] - T.d[S.zoom]) * ROWH, T.t[i] * L.scale];
}

// The frame under canvas coordinates (x, y), or -1.
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

// A block of frames too narrow to draw under canvas coordinates (x, y), or null.
function runAt(x, y) {
  const L = S.layout; if (!L || !L.scale) return null;
  const row = Math.floor(y / ROWH), tick = L.x0 + x / L.scale;
  return L.runs.find((r) => r.row === row && tick >= r.x && tick < r.x + r.t) || null;
}

function renderCrumbs(chain) {
  const c = $("hp-crumbs"), T = S.tree, key = chain.join(",");
  if (c.dataset.key === key && c._tree === T) return;   // unchanged: keep the links (a click may be on one)
  c.dataset.key = key; c._tree = T; c.textContent = "";
  chain.forEach((i, k) => {
    if (k) c.appendChild(el("span", " \u203a ", "sep"));
    const a = el("a", T.f[i] >= 0 ? FN.name[T.f[i]] : T.name(i));
    a.tabIndex = 0;
    if (T.f[i] >= 0) a.title = label(T.f[i]);
    a.addEventListener("click", () => zoomTo(i));
    a.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); zoomTo(i); } });
    c.appendChild(a);
  });
}

function zoomTo(i) { S.zoom = i; if (!(S.cursor > 0)) S.cursor = i; render(); box.scrollTop = 0; }

// ---- keyboard ------------------------------------------------------------------------------
// On the focused canvas: arrows move a cursor frame (up: caller, down: heaviest callee,
// left/right: neighbours), Enter zooms to it, Escape zooms out one level (and at the top
// calls the page's escapeAtTop, if it has one).
function visibleKids(i) {
  const T = S.tree, out = [];
  for (let k = T.start[i]; k < T.start[i + 1]; k++) if (T.t[T.kids[k]] > 0) out.push(T.kids[k]);
  return out;
}
function moveCursor(i) {
  S.cursor = i; render();
  const L = S.layout, at = L && frameBox(i, L);
  if (at) {
    const r = canvas.getBoundingClientRect();
    box.scrollTop = Math.max(0, Math.min(box.scrollTop, at[1] - 2 * ROWH), at[1] - box.clientHeight + 3 * ROWH);
    showTip(i, { clientX: r.left + Math.min(at[0] + at[2] / 2, at[0] + 60), clientY: r.top + at[1] + ROWH });
  } else tip.hidden = true;
  document.body.dataset.cursor = String(i);
}
canvas.addEventListener("keydown", (ev) => {
  const T = S.tree; if (!T) return;
  let c = S.cursor > 0 && S.cursor < T.size ? S.cursor : S.zoom;
  if (ev.key === "ArrowDown") {
    const kids = visibleKids(c); if (!kids.length) return;
    moveCursor(kids.reduce((a, b) => (T.t[b] > T.t[a] ? b : a)));
  } else if (ev.key === "ArrowUp") {
    if (T.p[c] >= 0) moveCursor(T.p[c]);
  } else if (ev.key === "ArrowLeft" || ev.key === "ArrowRight") {
    if (T.p[c] < 0) return;
    const sib = visibleKids(T.p[c]), k = sib.indexOf(c) + (ev.key === "ArrowLeft" ? -1 : 1);
    if (k >= 0 && k < sib.length) moveCursor(sib[k]);
  } else if (ev.key === "Enter") {
    zoomTo(c); frameClicked(c);
  } else if (ev.key === "Escape") {
    if (S.zoom > 0) { const up = S.tree.p[S.zoom]; S.cursor = S.zoom; zoomTo(Math.max(up, 0)); }
    else if (typeof escapeAtTop === "function") escapeAtTop();
    else return;
  } else return;
  ev.preventDefault();
});
canvas.addEventListener("focus", () => render());
canvas.addEventListener("blur", () => { tip.hidden = true; render(); });

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
  const more = runDetail(run);
  if (more) tip.appendChild(el("div", more));
  tip.appendChild(el("div", "Use search or the table below to find them."));
  placeTip(ev);
});
canvas.addEventListener("mouseleave", () => { tip.hidden = true; });
canvas.addEventListener("click", (ev) => {
  const r = canvas.getBoundingClientRect(), i = frameAt(ev.clientX - r.left, ev.clientY - r.top);
  if (i < 0) return;
  zoomTo(i === S.zoom ? Math.max(S.tree.p[i], 0) : i);
  frameClicked(i);
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
// fn(i) for every matching node of S.tree that has no matching ancestor, so that time
// under matches is counted once.
function eachTopMatch(fn) {
  const T = S.tree, under = new Uint8Array(T.size);
  for (let i = 1; i < T.size; i++) {
    const hit = T.f[i] >= 0 && S.match[T.f[i]] === 1, up = under[T.p[i]] === 1;
    if (hit && !up) fn(i);
    under[i] = hit || up ? 1 : 0;
  }
}
function updateMatch() {
  const out = $("hp-match"); out.textContent = "";
  if (S.match) {
    const [text, value] = matchSummary();
    out.appendChild(el("span", text));
    const x = el("span", "\u2715", "x"); x.title = "Clear";
    x.addEventListener("click", () => { $("hp-search").value = ""; setSearch(""); });
    out.appendChild(x);
    document.body.dataset.matched = String(value);
  } else delete document.body.dataset.matched;
  S.limit = 200;
  render(); renderTable();
  if (typeof matchChanged === "function") matchChanged();
}
let searchTimer = 0;
$("hp-search").addEventListener("input", (ev) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => setSearch(ev.target.value), 150);
});

// ---- function table --------------------------------------------------------------------
function sortBy(key, desc) {
  if (desc === undefined) desc = key === S.sortKey ? !S.sortDesc : !(key === "name" || key === "file");
  S.sortKey = key; S.sortDesc = desc; S.limit = 200; renderTable();
}
// The start of function f's row: the row, its name cell (with a colour swatch) and its
// location cell.
function funcRow(f, sel, swatch) {
  const tr = el("tr"); tr.dataset.f = String(f);
  if (sel) tr.className = "sel";
  const name = el("td", FN.name[f], "l"), where = el("td", loc(f), "l");
  name.title = label(f); where.title = loc(f);
  const sw = el("span", null, "sw"); sw.style.background = swatch; name.prepend(sw);
  return [tr, name, where];
}
function renderTable() {
  const get = KEYS[S.sortKey], sign = S.sortDesc ? -1 : 1;
  let rows = tableRows();
  if (S.match) rows = rows.filter((f) => S.match[f]);
  const keyed = rows.map((f) => [get(f), f]);
  keyed.sort((a, b) => (a[0] < b[0] ? -sign : a[0] > b[0] ? sign : a[1] - b[1]));
  const body = document.querySelector("#hp-table tbody"), frag = document.createDocumentFragment();
  for (const [, f] of keyed.slice(0, S.limit)) frag.appendChild(tableRow(f));
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
