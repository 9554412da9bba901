/* treestats.c — flat and caller→callee totals of a columnar call tree (the model's five
 * int arrays), with cProfile's recursion rules, for model/calltree.py's call_stats; and
 * two linear passes over the same columns: the file reader's structural check and the
 * nodes' layout widths (report.base.node_spans). Python loops over 673,000 nodes cost
 * 0.1-0.7 s each; these cost a few ms.
 *
 * One depth-first walk, children in index order: a node's function is *recursive* when
 * the function is active above it (a node with children is active while its subtree is
 * walked), and its edge (parent's function → its function) likewise when that pair is.
 * Every call and self tick counts; primitive calls and cumulative ticks count only where
 * the node is not recursive (for an edge: where the edge is not). Keys come out in the
 * order the walk first meets them, which is what the Python loops it replaces produced.
 *
 * Invariants read from the model (checked; ValueError otherwise, and the caller falls
 * back to its Python walk): node 0 is the root, 0 <= parent[i] < i and func[i] >= 0 for
 * every other node. Node 0's function is not read. Edges start below the top level:
 * a top-level node (parent 0) has none. Nothing here touches a profiler's state: the
 * function only reads the buffers it is given and holds the GIL throughout.
 */
#include "common/compat.h"
#include "common/module.h"

#include <stdlib.h>
#include <string.h>

/* Four totals per key, in the order of cProfile's columns. */
typedef struct {
    int64_t calls, prim, self, cum;
} row;

/* Edge ids by key (caller * nf + callee): open addressing, linear probing, at most half
 * full. A slot holds key + 1 (0 marks it empty) and the id. */
typedef struct {
    uint64_t *keys;
    int32_t *ids;
    size_t mask;
    size_t used;
} edge_map;

static int map_grow(edge_map *m)
{
    size_t cap = m->mask ? (m->mask + 1) * 2 : 1024;
    uint64_t *keys = calloc(cap, sizeof *keys);
    int32_t *ids = malloc(cap * sizeof *ids);
    if (!keys || !ids) {
        free(keys);
        free(ids);
        return -1;
    }
    for (size_t s = 0; m->mask && s <= m->mask; s++) {
        if (!m->keys[s])
            continue;
        size_t h = (size_t)((m->keys[s] * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
        while (keys[h])
            h = (h + 1) & (cap - 1);
        keys[h] = m->keys[s];
        ids[h] = m->ids[s];
    }
    free(m->keys);
    free(m->ids);
    m->keys = keys;
    m->ids = ids;
    m->mask = cap - 1;
    return 0;
}

/* The id of `key`, or the next id (`*count`, then raised) when it is new; -1 when out
 * of memory. */
static int32_t map_id(edge_map *m, uint64_t key, int32_t *count)
{
    uint64_t k = key + 1;
    size_t h = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & m->mask;
    while (m->keys[h]) {
        if (m->keys[h] == k)
            return m->ids[h];
        h = (h + 1) & m->mask;
    }
    if ((m->used + 1) * 2 > m->mask + 1) {
        if (map_grow(m) < 0)
            return -1;
        return map_id(m, key, count);
    }
    m->keys[h] = k;
    m->ids[h] = *count;
    m->used++;
    return (*count)++;
}

/* A column: a one-dimensional buffer of machine integers of any width and sign (the
 * file format stores each column in the narrowest width its values fit). */
typedef struct {
    const char *buf;
    Py_ssize_t len;
    int size; /* 1, 2, 4 or 8 */
    int is_signed;
} column;

static inline int64_t col_get(const column *c, Py_ssize_t i)
{
    switch (c->size) {
    case 1:
        return c->is_signed ? (int64_t)((const int8_t *)c->buf)[i] :
                              (int64_t)((const uint8_t *)c->buf)[i];
    case 2:
        return c->is_signed ? (int64_t)((const int16_t *)c->buf)[i] :
                              (int64_t)((const uint16_t *)c->buf)[i];
    case 4:
        return c->is_signed ? (int64_t)((const int32_t *)c->buf)[i] :
                              (int64_t)((const uint32_t *)c->buf)[i];
    default:
        return ((const int64_t *)c->buf)[i]; /* unsigned 8-byte values checked below */
    }
}

/* Fill `c` from `view` (taken from `obj`); 0, or -1 with an exception set (TypeError:
 * the caller falls back to Python for other sequences, such as lists). */
static int get_column(PyObject *obj, Py_buffer *view, column *c, const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    const char *f = view->format ? view->format : "B";
    if (*f == '@' || *f == '=')
        f++;
    const char *kinds = "bhilqBHILQ";
    Py_ssize_t w = view->itemsize;
    if (f[0] == '\0' || f[1] != '\0' || !strchr(kinds, f[0]) || view->ndim != 1 ||
        (w != 1 && w != 2 && w != 4 && w != 8)) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_TypeError, "_tree_stats: %s is not a buffer of ints", what);
        return -1;
    }
    c->buf = view->buf;
    c->size = (int)w;
    c->is_signed = f[0] >= 'a';
    c->len = view->len / w;
    if (c->size == 8 && !c->is_signed) {
        const uint64_t *u = view->buf;
        for (Py_ssize_t i = 0; i < c->len; i++)
            if (u[i] > (uint64_t)INT64_MAX) {
                PyBuffer_Release(view);
                PyErr_Format(PyExc_OverflowError, "_tree_stats: %s holds a value above 2**63",
                             what);
                return -1;
            }
    }
    return 0;
}

/* Add a node's counters to `r`; 0, or -1 on overflow of the 64-bit totals. */
static int add_row(row *r, int64_t c, int64_t s, int64_t t, int primitive)
{
    int bad = __builtin_add_overflow(r->calls, c, &r->calls) |
        __builtin_add_overflow(r->self, s, &r->self);
    if (primitive)
        bad |= __builtin_add_overflow(r->prim, c, &r->prim) |
            __builtin_add_overflow(r->cum, t, &r->cum);
    return bad ? -1 : 0;
}

typedef struct {
    int32_t *func, *parent; /* copies, checked */
    column calls, selft, total;
    Py_ssize_t n;
    int32_t nf; /* 1 + the largest function index */
    int edges;
    /* scratch, all freed by scan_free */
    int32_t *start, *order, *stack;
    int32_t *active, *eactive, *edge_of, *fseen, *forder;
    row *frows, *erows;
    uint64_t *ekey;
    int32_t n_funcs, n_edges, cap_edges;
    edge_map map;
} scan;

static void scan_free(scan *s)
{
    free(s->func);
    free(s->parent);
    free(s->start);
    free(s->order);
    free(s->stack);
    free(s->active);
    free(s->eactive);
    free(s->edge_of);
    free(s->fseen);
    free(s->forder);
    free(s->frows);
    free(s->erows);
    free(s->ekey);
    free(s->map.keys);
    free(s->map.ids);
}

/* The new edge `id` (just numbered by map_id) gets its row; 0 / -1 out of memory. */
static int scan_new_edge(scan *s, int32_t id, uint64_t key)
{
    if (id >= s->cap_edges) {
        int32_t cap = s->cap_edges ? s->cap_edges * 2 : 256;
        row *r = realloc(s->erows, (size_t)cap * sizeof *r);
        if (r)
            s->erows = r;
        int32_t *a = realloc(s->eactive, (size_t)cap * sizeof *a);
        if (a)
            s->eactive = a;
        uint64_t *k = realloc(s->ekey, (size_t)cap * sizeof *k);
        if (k)
            s->ekey = k;
        if (!r || !a || !k)
            return -1;
        s->cap_edges = cap;
    }
    memset(&s->erows[id], 0, sizeof(row));
    s->eactive[id] = 0;
    s->ekey[id] = key;
    return 0;
}

/* The walk. 0; -1 with MemoryError or OverflowError set. */
static int scan_run(scan *s)
{
    const Py_ssize_t n = s->n;
    const int32_t *func = s->func, *parent = s->parent;
    const uint64_t nf = (uint64_t)s->nf;
    s->start = calloc((size_t)n + 1, sizeof(int32_t));
    s->order = malloc((size_t)n * sizeof(int32_t));
    s->stack = malloc(((size_t)n + 1) * sizeof(int32_t));
    s->active = calloc((size_t)s->nf, sizeof(int32_t));
    s->fseen = malloc((size_t)s->nf * sizeof(int32_t));
    s->forder = malloc((size_t)s->nf * sizeof(int32_t));
    s->frows = calloc((size_t)s->nf, sizeof(row));
    s->edge_of = malloc((size_t)n * sizeof(int32_t));
    if (!s->start || !s->order || !s->stack || !s->active || !s->fseen || !s->forder || !s->frows ||
        !s->edge_of || (s->edges && map_grow(&s->map) < 0)) {
        PyErr_NoMemory();
        return -1;
    }
    memset(s->fseen, 0xff, (size_t)s->nf * sizeof(int32_t));
    /* children of node p: order[start[p] .. start[p + 1]), in index order (a counting sort) */
    for (Py_ssize_t i = 1; i < n; i++)
        s->start[parent[i] + 1]++;
    for (Py_ssize_t p = 0; p < n; p++)
        s->start[p + 1] += s->start[p];
    int32_t *fill = s->edge_of; /* borrowed as the next free slot of each node */
    memcpy(fill, s->start, (size_t)n * sizeof(int32_t));
    for (Py_ssize_t i = 1; i < n; i++)
        s->order[fill[parent[i]]++] = (int32_t)i;

    /* The stack holds nodes to enter and ~i for "leave node i"; each node is pushed at
     * most once and each inner node's marker replaces it, so n + 1 slots suffice. */
    Py_ssize_t sp = 0;
    for (int32_t k = s->start[1]; k > s->start[0]; k--)
        s->stack[sp++] = s->order[k - 1];
    while (sp) {
        int32_t i = s->stack[--sp];
        if (i < 0) { /* leaving ~i */
            i = ~i;
            s->active[func[i]]--;
            if (s->edge_of[i] >= 0)
                s->eactive[s->edge_of[i]]--;
            continue;
        }
        int32_t f = func[i];
        row *fr = &s->frows[f];
        if (s->fseen[f] < 0) { /* first met: the next in the output */
            s->fseen[f] = s->n_funcs;
            s->forder[s->n_funcs++] = f;
        }
        int64_t c = col_get(&s->calls, i), st = col_get(&s->selft, i), tt = col_get(&s->total, i);
        if (add_row(fr, c, st, tt, s->active[f] == 0) < 0)
            goto overflow;
        int32_t a = s->start[i], b = s->start[i + 1];
        int32_t e = -1;
        int32_t p = parent[i];
        if (s->edges && p > 0) {
            uint64_t key = (uint64_t)func[p] * nf + (uint64_t)f;
            int32_t before = s->n_edges;
            e = map_id(&s->map, key, &s->n_edges);
            if (e < 0 || (e == before && s->n_edges > before && scan_new_edge(s, e, key) < 0)) {
                PyErr_NoMemory();
                return -1;
            }
            if (add_row(&s->erows[e], c, st, tt, s->eactive[e] == 0) < 0)
                goto overflow;
        }
        s->edge_of[i] = e;
        if (a != b) { /* has children: active while they are walked */
            s->active[f]++;
            if (e >= 0)
                s->eactive[e]++;
            s->stack[sp++] = ~i;
            for (int32_t k = b; k > a; k--)
                s->stack[sp++] = s->order[k - 1];
        }
    }
    return 0;
overflow:
    PyErr_SetString(PyExc_OverflowError, "hotpath: a total does not fit 64 bits");
    return -1;
}

/* A list of tuples; NULL with an exception set. New reference. */
static PyObject *rows_out(scan *s, int edges)
{
    Py_ssize_t count = edges ? s->n_edges : s->n_funcs;
    PyObject *out = PyList_New(count);
    if (!out)
        return NULL;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *item;
        if (edges) {
            const row *r = &s->erows[k];
            uint64_t key = s->ekey[k];
            item = Py_BuildValue("(LLLLLL)", (long long)(key / (uint64_t)s->nf),
                                 (long long)(key % (uint64_t)s->nf), (long long)r->calls,
                                 (long long)r->prim, (long long)r->self, (long long)r->cum);
        } else {
            int32_t f = s->forder[k];
            const row *r = &s->frows[f];
            item = Py_BuildValue("(iLLLL)", (int)f, (long long)r->calls, (long long)r->prim,
                                 (long long)r->self, (long long)r->cum);
        }
        if (!item) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, k, item);
    }
    return out;
}

/* _tree_stats(func, parent, calls, self_ticks, total_ticks, edges) ->
 *     ([(func, calls, primitive, self, cum)], [(caller, callee, calls, primitive, self,
 *       cum)])
 * func and parent: buffers of 4-byte ints; the others of 8-byte ints, all of one length.
 * Keys in the order a depth-first walk first meets them; the edge list is empty when
 * `edges` is false. New reference, or NULL with TypeError (not int buffers), ValueError
 * (not a tree as the model draws it), OverflowError or MemoryError set. */
PyObject *hp_func_tree_stats(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    static const char *const what[5] = {"func", "parent", "calls", "self_ticks", "total_ticks"};
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "_tree_stats() takes 6 arguments");
        return NULL;
    }
    int edges = PyObject_IsTrue(args[5]);
    if (edges < 0)
        return NULL;
    Py_buffer views[5];
    column cols[5];
    int got = 0;
    PyObject *result = NULL;
    scan s;
    memset(&s, 0, sizeof s);
    for (; got < 5; got++)
        if (get_column(args[got], &views[got], &cols[got], what[got]) < 0)
            goto done;
    s.n = cols[0].len;
    for (int k = 1; k < 5; k++)
        if (cols[k].len != s.n) {
            PyErr_SetString(PyExc_ValueError, "_tree_stats: columns of different lengths");
            goto done;
        }
    if (s.n > INT32_MAX - 2) {
        PyErr_SetString(PyExc_ValueError, "_tree_stats: too many nodes");
        goto done;
    }
    s.calls = cols[2];
    s.selft = cols[3];
    s.total = cols[4];
    s.edges = edges;
    s.func = malloc(((size_t)s.n + 1) * sizeof(int32_t));
    s.parent = malloc(((size_t)s.n + 1) * sizeof(int32_t));
    if (!s.func || !s.parent) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t max_f = 0;
    s.func[0] = -1;
    s.parent[0] = -1;
    for (Py_ssize_t i = 1; i < s.n; i++) {
        int64_t f = col_get(&cols[0], i), p = col_get(&cols[1], i);
        if (p < 0 || p >= i || f < 0 || f >= INT32_MAX) {
            PyErr_Format(PyExc_ValueError, "_tree_stats: node %zd is out of order", i);
            goto done;
        }
        s.func[i] = (int32_t)f;
        s.parent[i] = (int32_t)p;
        if (f > max_f)
            max_f = f;
    }
    s.nf = max_f + 1;
    if (s.n > 1 && scan_run(&s) < 0)
        goto done;
    PyObject *fl = rows_out(&s, 0);
    PyObject *el = fl ? rows_out(&s, 1) : NULL;
    if (fl && el)
        result = PyTuple_Pack(2, fl, el);
    Py_XDECREF(fl);
    Py_XDECREF(el);
done:
    scan_free(&s);
    while (got-- > 0)
        PyBuffer_Release(&views[got]);
    return result;
}

/* _tree_check(func, parent, nfuncs) -> 0 when every node but the root has a function in
 * [0, nfuncs) and an earlier node as parent, else the first node that does not (the
 * file reader's structural check). Node 0 is not read. New reference, or NULL with
 * TypeError (not int buffers) or ValueError (lengths differ) set. */
PyObject *hp_func_tree_check(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "_tree_check() takes 3 arguments");
        return NULL;
    }
    long long nfuncs = PyLong_AsLongLong(args[2]);
    if (nfuncs == -1 && PyErr_Occurred())
        return NULL;
    Py_buffer vf, vp;
    column f, p;
    if (get_column(args[0], &vf, &f, "func") < 0)
        return NULL;
    if (get_column(args[1], &vp, &p, "parent") < 0) {
        PyBuffer_Release(&vf);
        return NULL;
    }
    Py_ssize_t bad = 0;
    if (f.len != p.len) {
        PyErr_SetString(PyExc_ValueError, "_tree_check: columns of different lengths");
        bad = -1;
    }
    for (Py_ssize_t i = 1; bad == 0 && i < f.len; i++) {
        int64_t fi = col_get(&f, i), pi = col_get(&p, i);
        if (fi < 0 || fi >= nfuncs || pi < 0 || pi >= i)
            bad = i;
    }
    PyBuffer_Release(&vf);
    PyBuffer_Release(&vp);
    return bad < 0 ? NULL : PyLong_FromSsize_t(bad);
}

/* _tree_spans(self_ticks, total_ticks, parent) -> [width per node]: every node's width
 * is max(total, self + Σ children's widths), bottom up (parents precede children), and
 * the root's is Σ of the top-level widths — report.base.node_spans for a measured tree.
 * New reference, or NULL with TypeError, ValueError (not a tree as the model draws it)
 * or OverflowError set. */
PyObject *hp_func_tree_spans(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    static const char *const what[3] = {"self_ticks", "total_ticks", "parent"};
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "_tree_spans() takes 3 arguments");
        return NULL;
    }
    Py_buffer views[3];
    column cols[3];
    int got = 0;
    PyObject *result = NULL;
    int64_t *span = NULL, *below = NULL;
    for (; got < 3; got++)
        if (get_column(args[got], &views[got], &cols[got], what[got]) < 0)
            goto done;
    Py_ssize_t n = cols[0].len;
    if (cols[1].len != n || cols[2].len != n || n < 1) {
        PyErr_SetString(PyExc_ValueError, "_tree_spans: columns of different lengths");
        goto done;
    }
    span = malloc((size_t)n * sizeof *span);
    below = calloc((size_t)n, sizeof *below);
    if (!span || !below) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = n - 1; i >= 1; i--) {
        int64_t p = col_get(&cols[2], i), s = col_get(&cols[0], i);
        int64_t w = col_get(&cols[1], i), inner;
        if (p < 0 || p >= i) {
            PyErr_Format(PyExc_ValueError, "_tree_spans: node %zd is out of order", i);
            goto done;
        }
        if (__builtin_add_overflow(s, below[i], &inner))
            goto overflow;
        if (s > w)
            w = s;
        if (inner > w)
            w = inner;
        span[i] = w;
        if (__builtin_add_overflow(below[p], w, &below[p]))
            goto overflow;
    }
    span[0] = below[0];
    result = PyList_New(n);
    for (Py_ssize_t i = 0; result && i < n; i++) {
        PyObject *v = PyLong_FromLongLong(span[i]);
        if (!v) {
            Py_CLEAR(result);
            break;
        }
        PyList_SET_ITEM(result, i, v);
    }
    goto done;
overflow:
    PyErr_SetString(PyExc_OverflowError, "hotpath: a width does not fit 64 bits");
done:
    free(span);
    free(below);
    while (got-- > 0)
        PyBuffer_Release(&views[got]);
    return result;
}
