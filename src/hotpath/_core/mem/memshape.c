/* memshape.c — see memshape.h. Every loop here is over nodes or stacks, once (the walks
 * up a path stop where an earlier walk went, or are bounded by the stack depth); the
 * scratch memory is the tool's own (hp_mem_raw_*), sized from the inputs before any loop.
 */
#include "memshape.h"
#include "memstate.h"

#include <string.h>

/* ---- columns in and out ----------------------------------------------------------------- */

typedef struct {
    Py_buffer view;
    Py_ssize_t n; /* items */
} column;

/* 0 / -1 with ValueError: `obj` as a contiguous buffer of `width`-byte items. */
static int column_get(column *c, PyObject *obj, int width, const char *what)
{
    if (PyObject_GetBuffer(obj, &c->view, PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (c->view.len % width) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes is not a whole number of %d-byte items", what,
                     c->view.len, width);
        PyBuffer_Release(&c->view);
        c->view.obj = NULL;
        return -1;
    }
    c->n = c->view.len / width;
    return 0;
}

static void column_release(column *c, int count)
{
    for (int i = 0; i < count; i++)
        if (c[i].view.obj)
            PyBuffer_Release(&c[i].view);
}

#define I32(c) ((const int32_t *)(c).view.buf)
#define I64(c) ((const int64_t *)(c).view.buf)
#define U8(c) ((const uint8_t *)(c).view.buf)

static PyObject *bytes_of(const void *p, size_t len)
{
    return PyBytes_FromStringAndSize(len ? (const char *)p : "", (Py_ssize_t)len);
}

/* 0 / -1 with ValueError: parent[i] is -1 or an earlier node. */
static int check_parents(const int32_t *parent, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        if (parent[i] < -1 || parent[i] >= i) {
            PyErr_Format(PyExc_ValueError, "node %zd has parent %d, not -1 or an earlier node", i,
                         (int)parent[i]);
            return -1;
        }
    return 0;
}

/* ---- a map from 64-bit keys to int32 values ---------------------------------------------
 * Open addressing, key and value side by side (one cache line per probe), grown to stay at
 * most half full, so a map of a few thousand frames stays in cache. */

typedef struct {
    uint64_t key;
    int32_t val; /* -1: empty */
    int32_t unused;
} map_entry;

typedef struct {
    map_entry *e;
    size_t mask, used;
} map64;

static inline size_t map_hash(uint64_t h)
{
    h ^= h >> 30; /* splitmix64's finalizer: every key bit reaches the low bits */
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBull;
    return (size_t)(h ^ (h >> 31));
}

static int map_init(map64 *m, size_t n)
{
    size_t cap = 64;
    while (cap < 2 * n)
        cap <<= 1;
    m->e = hp_mem_raw_calloc(cap, sizeof *m->e);
    m->mask = cap - 1;
    m->used = 0;
    if (!m->e)
        return -1;
    for (size_t i = 0; i < cap; i++)
        m->e[i].val = -1;
    return 0;
}

static void map_free(map64 *m)
{
    hp_mem_raw_free(m->e);
}

/* The value of `key`, or `val` stored for it when new (*added set); -2 out of memory. */
static int32_t map_get_add(map64 *m, uint64_t key, int32_t val, int *added)
{
    if (2 * (m->used + 1) > m->mask + 1) {
        map64 g;
        if (map_init(&g, m->mask + 1) < 0)
            return -2;
        for (size_t i = 0; i <= m->mask; i++)
            if (m->e[i].val >= 0) {
                size_t j = map_hash(m->e[i].key) & g.mask;
                while (g.e[j].val >= 0)
                    j = (j + 1) & g.mask;
                g.e[j] = m->e[i];
            }
        g.used = m->used;
        map_free(m);
        *m = g;
    }
    size_t i = map_hash(key) & m->mask;
    while (m->e[i].val >= 0) {
        if (m->e[i].key == key) {
            *added = 0;
            return m->e[i].val;
        }
        i = (i + 1) & m->mask;
    }
    m->e[i].key = key;
    m->e[i].val = val;
    m->used++;
    *added = 1;
    return val;
}

/* ---- shape -------------------------------------------------------------------------------- */

enum {
    S_CUT = 1,     /* under node 2: cut at max_frames */
    S_HAD = 2,     /* a Python frame before any cut */
    S_ENTERED = 4, /* the entry frame is in the stack: only frames inside it are kept */
    S_FOREIGN = 8, /* not entered, and one of hotpath's frames is in it: hotpath's work */
    S_OUTER = 16,  /* every frame kept so far was cut as an outer frame (none kept) */
    S_MINE = 32    /* the innermost frame that is not the standard library's is hotpath's */
};

PyObject *hp_mem_shape(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "shape() takes 8 arguments");
        return NULL;
    }
    long none_fid = PyLong_AsLong(args[6]);
    int has_entry = PyObject_IsTrue(args[7]);
    if ((none_fid == -1 && PyErr_Occurred()) || has_entry < 0)
        return NULL;
    column c[6] = {{{0}}};
    PyObject *res = NULL;
    uint8_t *state = NULL, *visited = NULL, *s_nat = NULL, *s_tr = NULL;
    int32_t *trie = NULL, *tparent = NULL, *tframe = NULL, *fkey = NULL, *s_node = NULL,
            *node_stack = NULL, *frame_new = NULL, *tnew = NULL, *o_frames = NULL;
    int64_t *s_ct = NULL, *o_ct = NULL;
    map64 frames_map = {0}, trie_map = {0}, stack_map = {0};
    if (column_get(&c[0], args[0], 4, "parent") < 0 || column_get(&c[1], args[1], 4, "code") < 0 ||
        column_get(&c[2], args[2], 4, "line") < 0 ||
        column_get(&c[3], args[3], 8, "counters") < 0 ||
        column_get(&c[4], args[4], 4, "code_fid") < 0 ||
        column_get(&c[5], args[5], 1, "code_flags") < 0)
        goto done;
    Py_ssize_t n = c[0].n, ncodes = c[4].n;
    if (c[1].n != n || c[2].n != n || c[3].n != 6 * n || c[5].n != ncodes) {
        PyErr_SetString(PyExc_ValueError, "shape(): columns of different lengths");
        goto done;
    }
    const int32_t *parent = I32(c[0]), *code = I32(c[1]), *line = I32(c[2]), *code_fid = I32(c[4]);
    const int64_t *ct = I64(c[3]);
    const uint8_t *code_flags = U8(c[5]);
    if (check_parents(parent, n) < 0)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++)
        if (code[i] < -1 || code[i] >= ncodes) {
            PyErr_Format(PyExc_ValueError, "node %zd has code %d of %zd", i, (int)code[i], ncodes);
            goto done;
        }
    size_t cap = (size_t)n + 1;
    state = hp_mem_raw_calloc(cap, 1);
    trie = hp_mem_raw_calloc(cap, sizeof *trie);
    tparent = hp_mem_raw_calloc(cap, sizeof *tparent);
    tframe = hp_mem_raw_calloc(cap, sizeof *tframe);
    fkey = hp_mem_raw_calloc(2 * cap, sizeof *fkey);
    node_stack = hp_mem_raw_calloc(cap, sizeof *node_stack);
    s_node = hp_mem_raw_calloc(cap, sizeof *s_node);
    s_nat = hp_mem_raw_calloc(cap, 1);
    s_tr = hp_mem_raw_calloc(cap, 1);
    s_ct = hp_mem_raw_calloc(6 * cap, sizeof *s_ct);
    if (!state || !trie || !tparent || !tframe || !fkey || !node_stack || !s_node || !s_nat ||
        !s_tr || !s_ct || map_init(&frames_map, 0) < 0 || map_init(&trie_map, 0) < 0 ||
        map_init(&stack_map, 0) < 0)
        goto nomem;

    /* Each node's state and kept path (a node of the new tree, 0 = no frame kept) from its
     * parent's, in one pass: capture.memory.memory_data's rules, node by node. */
    int32_t ntrie = 1, nframes = 0;
    tparent[0] = -1;
    tframe[0] = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        int32_t p = parent[i];
        uint8_t st = S_OUTER;
        if (p < 0) {
            state[i] = st | (i == 2 ? S_CUT : 0);
            continue;
        }
        if (line[i] == -1) { /* a native allocation: its caller's stack */
            state[i] = state[p];
            trie[i] = trie[p];
            continue;
        }
        st |= (state[p] & S_CUT) | S_HAD;
        int32_t k = code[i];
        uint8_t flags = k >= 0 ? code_flags[k] : 0;
        int32_t fid = k >= 0 ? code_fid[k] : (int32_t)none_fid;
        if (has_entry) {
            if (flags & HP_MEM_SHAPE_ENTRY) {
                state[i] = st | S_ENTERED;
                continue;
            }
            if (state[p] & S_ENTERED)
                st |= S_ENTERED;
            else if ((state[p] & S_FOREIGN) || (flags & HP_MEM_SHAPE_HERE)) {
                state[i] = st | S_FOREIGN;
                continue;
            }
        }
        if ((state[p] & S_OUTER) && k >= 0 && (flags & HP_MEM_SHAPE_PREFIXED)) {
            state[i] = st;
            continue;
        }
        st &= (uint8_t)~S_OUTER;
        int32_t ln = line[i] > 0 ? line[i] : 0;
        int added;
        int32_t f =
            map_get_add(&frames_map, (uint64_t)(uint32_t)fid << 32 | (uint32_t)ln, nframes, &added);
        if (f == -2)
            goto nomem;
        if (added) {
            fkey[2 * nframes] = fid;
            fkey[2 * nframes + 1] = ln;
            nframes++;
        }
        int32_t t =
            map_get_add(&trie_map, (uint64_t)(uint32_t)trie[p] << 32 | (uint32_t)f, ntrie, &added);
        if (t == -2)
            goto nomem;
        if (added) {
            tparent[ntrie] = trie[p];
            tframe[ntrie] = f;
            ntrie++;
        }
        trie[i] = t;
        if (k >= 0 &&
            ((flags & HP_MEM_SHAPE_HERE) ||
             ((flags & HP_MEM_SHAPE_STDLIB) && !(state[p] & S_OUTER) && (state[p] & S_MINE))))
            st |= S_MINE;
        state[i] = st;
    }

    /* The stacks: nodes that allocated, merged by (kept path, native), in node order. */
    int32_t ns = 0;
    int64_t own_bytes = 0, own_count = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        node_stack[i] = -1;
        if (!ct[i])
            continue;
        int native = parent[i] >= 0 && line[i] == -1;
        int truncated = i == 0 ? 2 : (state[i] & S_CUT) ? 1 : 0;
        int32_t t = (state[i] & (S_FOREIGN | S_MINE)) ? 0 : trie[i];
        if ((state[i] & S_HAD) && t == 0) {
            own_bytes += ct[n + i];
            own_count += ct[i];
            continue;
        }
        int added;
        int32_t si =
            map_get_add(&stack_map, (uint64_t)(uint32_t)t << 1 | (uint64_t)native, ns, &added);
        if (si == -2)
            goto nomem;
        int32_t *s = &si;
        if (added) {
            s_node[ns] = t;
            s_nat[ns] = (uint8_t)native;
            s_tr[ns] = (uint8_t)truncated;
            for (int j = 0; j < 6; j++)
                s_ct[6 * ns + j] = ct[j * n + i];
            ns++;
        } else {
            if (truncated > s_tr[*s])
                s_tr[*s] = (uint8_t)truncated;
            for (int j = 0; j < 6; j++)
                s_ct[6 * *s + j] += ct[j * n + i];
        }
        node_stack[i] = *s;
    }

    /* Frames renumbered in the order the stacks meet them (innermost first); the tree cut
     * to the paths of the stacks. A walk up stops at a node an earlier one passed: every
     * frame above it is numbered already. */
    visited = hp_mem_raw_calloc((size_t)ntrie, 1);
    frame_new = hp_mem_raw_calloc((size_t)nframes + 1, sizeof *frame_new);
    tnew = hp_mem_raw_calloc((size_t)ntrie, sizeof *tnew);
    o_frames = hp_mem_raw_calloc(2 * (size_t)nframes + 1, sizeof *o_frames);
    o_ct = hp_mem_raw_calloc(6 * (size_t)ns + 1, sizeof *o_ct);
    if (!visited || !frame_new || !tnew || !o_frames || !o_ct) {
        PyErr_NoMemory();
        goto done;
    }
    memset(frame_new, 0xff, ((size_t)nframes + 1) * sizeof *frame_new);
    int32_t nnew = 0;
    visited[0] = 1;
    for (int32_t s = 0; s < ns; s++)
        for (int32_t t = s_node[s]; !visited[t]; t = tparent[t]) {
            visited[t] = 1;
            int32_t f = tframe[t];
            if (frame_new[f] < 0) {
                o_frames[2 * nnew] = fkey[2 * f];
                o_frames[2 * nnew + 1] = fkey[2 * f + 1];
                frame_new[f] = nnew++;
            }
        }
    int32_t nt = 0;
    for (int32_t t = 0; t < ntrie; t++)
        if (visited[t]) {
            tnew[t] = nt;
            tparent[nt] = t ? tnew[tparent[t]] : -1; /* nt <= t: compacted in place */
            tframe[nt] = t ? frame_new[tframe[t]] : -1;
            nt++;
        }
    for (int32_t s = 0; s < ns; s++) {
        s_node[s] = tnew[s_node[s]];
        for (int j = 0; j < 6; j++)
            o_ct[(size_t)j * ns + s] = s_ct[6 * s + j];
    }
    if (0) {
    nomem:
        PyErr_NoMemory();
        goto done;
    }
    res = Py_BuildValue(
        "(NNNNNNNNLL)", bytes_of(tparent, 4 * (size_t)nt), bytes_of(tframe, 4 * (size_t)nt),
        bytes_of(o_frames, 8 * (size_t)nnew), bytes_of(s_node, 4 * (size_t)ns),
        bytes_of(s_nat, (size_t)ns), bytes_of(s_tr, (size_t)ns), bytes_of(o_ct, 48 * (size_t)ns),
        bytes_of(node_stack, 4 * (size_t)n), (long long)own_bytes, (long long)own_count);
done:
    column_release(c, 6);
    map_free(&frames_map);
    map_free(&trie_map);
    map_free(&stack_map);
    void *scratch[] = {state,  visited,    s_nat,     s_tr, trie,     tparent, tframe, fkey,
                       s_node, node_stack, frame_new, tnew, o_frames, s_ct,    o_ct};
    for (size_t i = 0; i < sizeof scratch / sizeof *scratch; i++)
        hp_mem_raw_free(scratch[i]);
    return res;
}

/* ---- the model's sums --------------------------------------------------------------------- */

PyObject *hp_mem_tree_nearest(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "tree_nearest() takes 2 arguments");
        return NULL;
    }
    column c[2] = {{{0}}};
    PyObject *res = NULL;
    if (column_get(&c[0], args[0], 4, "parent") < 0 || column_get(&c[1], args[1], 4, "value") < 0)
        goto done;
    Py_ssize_t n = c[0].n;
    if (c[1].n != n) {
        PyErr_SetString(PyExc_ValueError, "tree_nearest(): columns of different lengths");
        goto done;
    }
    const int32_t *parent = I32(c[0]), *value = I32(c[1]);
    if (check_parents(parent, n) < 0 || !(res = PyBytes_FromStringAndSize(NULL, 4 * n)))
        goto done;
    int32_t *out = (int32_t *)PyBytes_AS_STRING(res);
    for (Py_ssize_t i = 0; i < n; i++)
        out[i] = value[i] >= 0 ? value[i] : parent[i] >= 0 ? out[parent[i]] : -1;
done:
    column_release(c, 2);
    return res;
}

/* 0 / -1 with ValueError: every stack's node is one of the n nodes. */
static int check_stack_nodes(const int32_t *node, Py_ssize_t ns, Py_ssize_t n)
{
    for (Py_ssize_t s = 0; s < ns; s++)
        if (node[s] < 0 || node[s] >= n) {
            PyErr_Format(PyExc_ValueError, "stack %zd has node %d of %zd", s, (int)node[s], n);
            return -1;
        }
    return 0;
}

PyObject *hp_mem_tree_inclusive(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "tree_inclusive() takes 6 arguments");
        return NULL;
    }
    Py_ssize_t nkeys = PyLong_AsSsize_t(args[2]), k = PyLong_AsSsize_t(args[5]);
    if ((nkeys == -1 || k == -1) && PyErr_Occurred())
        return NULL;
    column c[4] = {{{0}}};
    PyObject *res = NULL;
    int64_t *sub = NULL, *out = NULL, *count = NULL;
    uint8_t *seen = NULL;
    if (nkeys < 0 || k < 1 || k > 16) {
        PyErr_SetString(PyExc_ValueError, "tree_inclusive(): bad nkeys or k");
        return NULL;
    }
    if (column_get(&c[0], args[0], 4, "parent") < 0 || column_get(&c[1], args[1], 4, "key") < 0 ||
        column_get(&c[2], args[3], 4, "stack_node") < 0 ||
        column_get(&c[3], args[4], 8, "weights") < 0)
        goto done;
    Py_ssize_t n = c[0].n, ns = c[2].n;
    if (c[1].n != n || c[3].n != k * ns) {
        PyErr_SetString(PyExc_ValueError, "tree_inclusive(): columns of different lengths");
        goto done;
    }
    const int32_t *parent = I32(c[0]), *key = I32(c[1]), *node = I32(c[2]);
    const int64_t *w = I64(c[3]);
    if (check_parents(parent, n) < 0 || check_stack_nodes(node, ns, n) < 0)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++)
        if (key[i] < -1 || key[i] >= nkeys) {
            PyErr_Format(PyExc_ValueError, "node %zd has key %d of %zd", i, (int)key[i], nkeys);
            goto done;
        }
    sub = hp_mem_raw_calloc((size_t)(n * k) + 1, sizeof *sub);
    count = hp_mem_raw_calloc((size_t)n + 1, sizeof *count);
    out = hp_mem_raw_calloc((size_t)(nkeys * k) + 1, sizeof *out);
    seen = hp_mem_raw_calloc((size_t)nkeys + 1, 1);
    if (!sub || !count || !out || !seen) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t s = 0; s < ns; s++) { /* each stack's weights at its node ... */
        count[node[s]]++;
        for (Py_ssize_t j = 0; j < k; j++)
            sub[node[s] * k + j] += w[j * ns + s];
    }
    for (Py_ssize_t i = n - 1; i > 0; i--) { /* ... summed up the tree (children last) */
        int32_t p = parent[i];
        if (p < 0)
            continue;
        count[p] += count[i];
        for (Py_ssize_t j = 0; j < k; j++)
            sub[p * k + j] += sub[i * k + j];
    }
    /* A key's stacks are those under its outermost nodes: nodes with no node of the same
     * key above them. */
    for (Py_ssize_t i = 0; i < n; i++) {
        int32_t kk = key[i];
        if (kk < 0 || !count[i])
            continue;
        int32_t p = parent[i];
        while (p >= 0 && key[p] != kk)
            p = parent[p];
        if (p >= 0)
            continue;
        seen[kk] = 1;
        for (Py_ssize_t j = 0; j < k; j++)
            out[kk * k + j] += sub[i * k + j];
    }
    res = Py_BuildValue("(NN)", bytes_of(out, 8 * (size_t)(nkeys * k)),
                        bytes_of(seen, (size_t)nkeys));
done:
    column_release(c, 4);
    hp_mem_raw_free(sub);
    hp_mem_raw_free(count);
    hp_mem_raw_free(out);
    hp_mem_raw_free(seen);
    return res;
}

PyObject *hp_mem_tree_expand(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "tree_expand() takes 3 arguments");
        return NULL;
    }
    column c[3] = {{{0}}};
    PyObject *res = NULL, *flat = NULL, *offs = NULL;
    int32_t *depth = NULL;
    if (column_get(&c[0], args[0], 4, "parent") < 0 || column_get(&c[1], args[1], 4, "frame") < 0 ||
        column_get(&c[2], args[2], 4, "stack_node") < 0)
        goto done;
    Py_ssize_t n = c[0].n, ns = c[2].n;
    if (c[1].n != n) {
        PyErr_SetString(PyExc_ValueError, "tree_expand(): columns of different lengths");
        goto done;
    }
    const int32_t *parent = I32(c[0]), *frame = I32(c[1]), *node = I32(c[2]);
    if (check_parents(parent, n) < 0 || check_stack_nodes(node, ns, n) < 0)
        goto done;
    depth = hp_mem_raw_calloc((size_t)n + 1, sizeof *depth);
    if (!depth) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) /* a node with a frame is one deeper than its parent */
        depth[i] = frame[i] < 0 ? 0 : (parent[i] >= 0 ? depth[parent[i]] : 0) + 1;
    int64_t total = 0;
    for (Py_ssize_t s = 0; s < ns; s++)
        total += depth[node[s]];
    if (!(flat = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(4 * total))) ||
        !(offs = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(8 * (ns + 1)))))
        goto done;
    int32_t *fl = (int32_t *)PyBytes_AS_STRING(flat);
    int64_t *of = (int64_t *)PyBytes_AS_STRING(offs), pos = 0;
    for (Py_ssize_t s = 0; s < ns; s++) {
        of[s] = pos;
        int32_t d = depth[node[s]];
        for (int32_t t = node[s]; d > 0; t = parent[t], d--)
            fl[pos++] = frame[t];
    }
    of[ns] = pos;
    res = PyTuple_Pack(2, flat, offs);
done:
    column_release(c, 3);
    hp_mem_raw_free(depth);
    Py_XDECREF(flat);
    Py_XDECREF(offs);
    return res;
}

PyObject *hp_mem_sum_by(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "sum_by() takes 3 arguments");
        return NULL;
    }
    Py_ssize_t k = PyLong_AsSsize_t(args[2]);
    if (k == -1 && PyErr_Occurred())
        return NULL;
    if (k < 1 || k > 16) {
        PyErr_SetString(PyExc_ValueError, "sum_by(): bad k");
        return NULL;
    }
    column c[2] = {{{0}}};
    PyObject *res = NULL;
    int32_t *keys = NULL;
    int64_t *sums = NULL;
    map64 m = {0};
    if (column_get(&c[0], args[0], 4, "keys") < 0 || column_get(&c[1], args[1], 8, "weights") < 0)
        goto done;
    Py_ssize_t ns = c[0].n;
    if (c[1].n != k * ns) {
        PyErr_SetString(PyExc_ValueError, "sum_by(): columns of different lengths");
        goto done;
    }
    const int32_t *key = I32(c[0]);
    const int64_t *w = I64(c[1]);
    keys = hp_mem_raw_calloc((size_t)ns + 1, sizeof *keys);
    sums = hp_mem_raw_calloc((size_t)(ns * k) + 1, sizeof *sums);
    if (!keys || !sums || map_init(&m, 0) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    int32_t nk = 0;
    for (Py_ssize_t s = 0; s < ns; s++) {
        int added;
        int32_t slot = map_get_add(&m, (uint64_t)(uint32_t)key[s], nk, &added);
        if (slot == -2) {
            PyErr_NoMemory();
            goto done;
        }
        if (added)
            keys[nk++] = key[s];
        for (Py_ssize_t j = 0; j < k; j++)
            sums[slot * k + j] += w[j * ns + s];
    }
    res =
        Py_BuildValue("(NN)", bytes_of(keys, 4 * (size_t)nk), bytes_of(sums, 8 * (size_t)(nk * k)));
done:
    column_release(c, 2);
    map_free(&m);
    hp_mem_raw_free(keys);
    hp_mem_raw_free(sums);
    return res;
}

/* ---- checking columns --------------------------------------------------------------------- */

PyObject *hp_mem_column_bounds(PyObject *mod, PyObject *col)
{
    Py_buffer v;
    if (PyObject_GetBuffer(col, &v, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    const char *fmt = v.format ? v.format : "B";
    if (*fmt == '@' || *fmt == '=' || *fmt == '<')
        fmt++;
    int is_signed = strchr("bhilq", fmt[0]) != NULL;
    if (!fmt[0] || fmt[1] || !strchr("bBhHiIlLqQ", fmt[0]) ||
        !(v.itemsize == 1 || v.itemsize == 2 || v.itemsize == 4 || v.itemsize == 8)) {
        PyBuffer_Release(&v);
        PyErr_SetString(PyExc_TypeError, "column_bounds(): not a column of integers");
        return NULL;
    }
    Py_ssize_t n = v.len / v.itemsize, bad = -1;
    int64_t lo = INT64_MAX, hi_s = INT64_MIN;
    uint64_t lo_u = UINT64_MAX, hi_u = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *p = (const char *)v.buf + i * v.itemsize;
        int64_t x;
        uint64_t u;
        switch (v.itemsize) {
        case 1:
            x = is_signed ? *(const int8_t *)p : *(const uint8_t *)p;
            break;
        case 2:
            x = is_signed ? *(const int16_t *)p : *(const uint16_t *)p;
            break;
        case 4:
            x = is_signed ? *(const int32_t *)p : (int64_t) * (const uint32_t *)p;
            break;
        default:
            memcpy(&x, p, 8);
            break;
        }
        if (!is_signed && v.itemsize == 8) {
            memcpy(&u, p, 8);
            if (u > hi_u)
                hi_u = u;
            if (u < lo_u)
                lo_u = u;
            if (bad < 0 && i > 0 && !(u < (uint64_t)i))
                bad = i;
            continue;
        }
        if (x < lo)
            lo = x;
        if (x > hi_s)
            hi_s = x;
        if (bad < 0 && i > 0 && !(0 <= x && x < i))
            bad = i;
    }
    PyBuffer_Release(&v);
    if (!n)
        return Py_BuildValue("(OOn)", Py_None, Py_None, bad);
    if (!is_signed && v.itemsize == 8)
        return Py_BuildValue("(KKn)", (unsigned long long)lo_u, (unsigned long long)hi_u, bad);
    return Py_BuildValue("(LLn)", (long long)lo, (long long)hi_s, bad);
}
