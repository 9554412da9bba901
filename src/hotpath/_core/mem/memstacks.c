/* memstacks.c — the stack tree's cold paths: creating nodes, referencing code objects,
 * growing the tables, and turning the tree into Python objects for a snapshot.
 *
 * The index (path hash → node id + 1) and the code table are open addressing with linear
 * probing, kept at most half full and doubled (reinserting everything) when they would
 * pass that. Nodes live in one array that doubles; ids never change. Everything runs
 * under the lock (memstate.h) except where a function says otherwise.
 */
#include "memstacks.h"
#include "common/frames.h"

#include <string.h>

hp_mem_stack_tree hp_mem_stacks;
hp_mem_code_table hp_mem_codes;

/* ---- code objects ----------------------------------------------------------------------- */

static int codes_grow(void)
{
    size_t cap = hp_mem_codes.slots ? 2 * (hp_mem_codes.mask + 1) : 256;
    hp_mem_code *t = hp_mem_raw_calloc(cap, sizeof *t);
    if (!t)
        return -1;
    if (hp_mem_codes.slots) {
        for (size_t i = 0; i <= hp_mem_codes.mask; i++) {
            if (!hp_mem_codes.slots[i].code)
                continue;
            size_t j = hp_mem_ptr_slot((uintptr_t)hp_mem_codes.slots[i].code, cap - 1);
            while (t[j].code)
                j = (j + 1) & (cap - 1);
            t[j] = hp_mem_codes.slots[i];
        }
        hp_mem_raw_free(hp_mem_codes.slots);
    }
    hp_mem_codes.slots = t;
    hp_mem_codes.mask = cap - 1;
    return 0;
}

/* (L) Make sure `co` is kept alive (now, or by the next hook holding the GIL).
 * `gil`: 1 held, 0 not, -1 unknown (find out only if needed). 0 / -1 out of memory. */
static int code_note(PyCodeObject *co, int gil)
{
    if ((hp_mem_codes.used + 1) * 2 > (hp_mem_codes.slots ? hp_mem_codes.mask + 1 : 0) &&
        codes_grow() < 0)
        return -1;
    size_t i = hp_mem_ptr_slot((uintptr_t)co, hp_mem_codes.mask);
    while (hp_mem_codes.slots[i].code) {
        if (hp_mem_codes.slots[i].code == co)
            return 0;
        i = (i + 1) & hp_mem_codes.mask;
    }
    if (gil < 0) {
        PyThreadState *mine = PyGILState_GetThisThreadState();
        gil = mine && hp_tstate_unchecked() == mine;
    }
    hp_mem_codes.slots[i].code = co;
    hp_mem_codes.used++;
    if (gil) {
        Py_INCREF(co);
        hp_mem_codes.slots[i].state = HP_MEM_CODE_HELD;
    } else {
        hp_mem_codes.slots[i].state = HP_MEM_CODE_PENDING;
        __atomic_store_n(&hp_mem_codes.pending, 1, __ATOMIC_RELAXED);
    }
    return 0;
}

void hp_mem_codes_process_pending(void)
{
    if (!hp_mem_codes.slots)
        return;
    for (size_t i = 0; i <= hp_mem_codes.mask; i++) {
        hp_mem_code *c = &hp_mem_codes.slots[i];
        if (c->code && c->state == HP_MEM_CODE_PENDING) {
            if (Py_REFCNT(c->code) > 0) {
                Py_INCREF(c->code);
                c->state = HP_MEM_CODE_HELD;
            } else {
                c->state = HP_MEM_CODE_DEAD;
            }
        }
    }
    __atomic_store_n(&hp_mem_codes.pending, 0, __ATOMIC_RELAXED);
}

/* (L) 1 when `co` is held (safe to use with the GIL). */
static int code_held(PyCodeObject *co)
{
    if (!hp_mem_codes.slots)
        return 0;
    size_t i = hp_mem_ptr_slot((uintptr_t)co, hp_mem_codes.mask);
    while (hp_mem_codes.slots[i].code) {
        if (hp_mem_codes.slots[i].code == co)
            return hp_mem_codes.slots[i].state == HP_MEM_CODE_HELD;
        i = (i + 1) & hp_mem_codes.mask;
    }
    return 0;
}

/* ---- nodes ------------------------------------------------------------------------------ */

static int index_grow(void)
{
    size_t cap = hp_mem_stacks.index ? 2 * (hp_mem_stacks.index_mask + 1) : 1024;
    uint32_t *t = hp_mem_raw_calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (uint32_t id = HP_MEM_NODE_CUT + 1; id < hp_mem_stacks.n; id++) {
        size_t j = (size_t)(hp_mem_stacks.nodes[id].hash >> 20) & (cap - 1);
        while (t[j])
            j = (j + 1) & (cap - 1);
        t[j] = id + 1;
    }
    hp_mem_raw_free(hp_mem_stacks.index);
    hp_mem_stacks.index = t;
    hp_mem_stacks.index_mask = cap - 1;
    return 0;
}

/* Append a node with no counts. Its id, or HP_MEM_NODE_NONE when out of memory. */
static uint32_t append(uint64_t h, uint32_t parent, PyCodeObject *code, intptr_t lasti)
{
    if (hp_mem_stacks.n == hp_mem_stacks.cap) {
        uint32_t cap = hp_mem_stacks.cap ? 2 * hp_mem_stacks.cap : 256;
        hp_mem_stack *s = hp_mem_raw_realloc(hp_mem_stacks.nodes, (size_t)cap * sizeof *s);
        if (!s)
            return HP_MEM_NODE_NONE;
        hp_mem_stacks.nodes = s;
        hp_mem_stacks.cap = cap;
    }
    hp_mem_stack *s = &hp_mem_stacks.nodes[hp_mem_stacks.n];
    memset(s, 0, sizeof *s);
    s->hash = h;
    s->parent = parent;
    s->code = code;
    s->lasti = lasti;
    s->saved_epoch = hp_mem_totals.peak_epoch; /* it had nothing live at the last peak */
    return hp_mem_stacks.n++;
}

uint32_t hp_mem_stacks_child(uint32_t parent, uint64_t h, PyCodeObject *code, intptr_t lasti,
                             int gil)
{
    size_t i = (size_t)(h >> 20) & hp_mem_stacks.index_mask;
    for (;;) {
        uint32_t id = hp_mem_stacks.index[i];
        if (!id)
            break;
        const hp_mem_stack *s = &hp_mem_stacks.nodes[id - 1];
        if (s->hash == h && s->parent == parent && s->code == code && s->lasti == lasti)
            return id - 1;
        i = (i + 1) & hp_mem_stacks.index_mask;
    }
    if (hp_mem_stacks.n >= HP_MEM_MAX_STACKS || (code && code_note(code, gil) < 0))
        return HP_MEM_NODE_NONE;
    uint32_t id = append(h, parent, code, lasti);
    if (id == HP_MEM_NODE_NONE)
        return HP_MEM_NODE_NONE;
    hp_mem_stacks.index[i] = id + 1;
    if ((size_t)hp_mem_stacks.n * 2 > hp_mem_stacks.index_mask + 1 && index_grow() < 0)
        hp_mem_fail(HP_MEM_ERR_NOMEMORY);
    return id;
}

/* ---- session lifetime ------------------------------------------------------------------- */

int hp_mem_stacks_init(void)
{
    int ok = index_grow() == 0 && codes_grow() == 0 &&
        append(0, HP_MEM_NODE_NONE, NULL, 0) == HP_MEM_NODE_OVERFLOW &&
        append(HP_MEM_SEED_ROOT, HP_MEM_NODE_NONE, NULL, 0) == HP_MEM_NODE_ROOT &&
        append(HP_MEM_SEED_CUT, HP_MEM_NODE_NONE, NULL, 0) == HP_MEM_NODE_CUT;
    return ok ? 0 : -1;
}

void hp_mem_stacks_clear(hp_mem_code_table *codes)
{
    *codes = hp_mem_codes;
    hp_mem_raw_free(hp_mem_stacks.nodes);
    hp_mem_raw_free(hp_mem_stacks.index);
    hp_mem_stacks.nodes = NULL;
    hp_mem_stacks.n = hp_mem_stacks.cap = 0;
    hp_mem_stacks.index = NULL;
    hp_mem_stacks.index_mask = 0;
    hp_mem_codes.slots = NULL;
    hp_mem_codes.mask = hp_mem_codes.used = 0;
    hp_mem_codes.pending = 0;
}

void hp_mem_codes_release(hp_mem_code_table *codes)
{
    size_t n = codes->slots ? codes->mask + 1 : 0;
    for (size_t i = 0; i < n; i++)
        if (codes->slots[i].code && codes->slots[i].state == HP_MEM_CODE_HELD)
            Py_DECREF(codes->slots[i].code);
    hp_mem_raw_free(codes->slots);
    codes->slots = NULL;
}

size_t hp_mem_stacks_bytes(void)
{
    return (size_t)hp_mem_stacks.cap * sizeof(hp_mem_stack) +
        (hp_mem_stacks.index ? (hp_mem_stacks.index_mask + 1) * sizeof(uint32_t) : 0) +
        (hp_mem_codes.slots ? (hp_mem_codes.mask + 1) * sizeof(hp_mem_code) : 0);
}

/* ---- snapshots -------------------------------------------------------------------------- */

int hp_mem_stacks_copy(hp_mem_stacks_snap *c)
{
    c->n = hp_mem_stacks.n;
    c->nodes = hp_mem_raw_calloc(c->n ? c->n : 1, sizeof *c->nodes);
    c->peak_dirty = hp_mem_totals.peak_dirty;
    c->peak_epoch = hp_mem_totals.peak_epoch;
    if (!c->nodes)
        return -1;
    memcpy(c->nodes, hp_mem_stacks.nodes, c->n * sizeof *c->nodes);
    for (uint32_t i = 0; i < c->n; i++)
        if (c->nodes[i].code && !code_held(c->nodes[i].code))
            c->nodes[i].code = NULL;
    return 0;
}

/* A node's source line: 0 without a code object, -1 for a native marker. */
static int node_line(const hp_mem_stack *s)
{
    if (s->code)
        return PyCode_Addr2Line(s->code, (int)(s->lasti * (intptr_t)sizeof(_Py_CODEUNIT)));
    return s->lasti == -1 ? -1 : 0;
}

/* A node's blocks and bytes at the peak: the saved ones when saved in the current epoch
 * (memaccount.h), else its live ones. */
static void node_peak(const hp_mem_stacks_snap *c, const hp_mem_stack *s, uint64_t *count,
                      uint64_t *bytes)
{
    if (c->peak_dirty || s->saved_epoch != c->peak_epoch) {
        *bytes = s->alloc_bytes - s->free_bytes;
        *count = s->alloc_count - s->free_count;
    } else {
        *bytes = s->peak_bytes;
        *count = s->peak_count;
    }
}

/* One node's tuple (see hp_mem_stacks_export). */
static PyObject *build_node(const hp_mem_stacks_snap *c, const hp_mem_stack *s)
{
    int line = node_line(s);
    uint64_t peak_bytes, peak_count;
    node_peak(c, s, &peak_count, &peak_bytes);
    return Py_BuildValue("(LOiKKKKKK)", s->parent == HP_MEM_NODE_NONE ? -1LL : (long long)s->parent,
                         s->code ? (PyObject *)s->code : Py_None, line,
                         (unsigned long long)s->alloc_count, (unsigned long long)s->alloc_bytes,
                         (unsigned long long)s->free_count, (unsigned long long)s->free_bytes,
                         (unsigned long long)peak_count, (unsigned long long)peak_bytes);
}

PyObject *hp_mem_stacks_export(const hp_mem_stacks_snap *c)
{
    PyObject *nodes = PyList_New((Py_ssize_t)c->n);
    if (!nodes)
        return NULL;
    for (uint32_t i = 0; i < c->n; i++) {
        PyObject *node = build_node(c, &c->nodes[i]);
        if (!node) {
            Py_DECREF(nodes);
            return NULL;
        }
        PyList_SET_ITEM(nodes, (Py_ssize_t)i, node);
    }
    return nodes;
}

/* The index of each distinct code object, by address: open addressing, at most half full. */
typedef struct {
    PyCodeObject **keys;
    int32_t *vals;
    size_t mask;
} code_index;

static int32_t code_index_get(code_index *ix, PyCodeObject *co, PyObject *codes)
{
    size_t i = ((uintptr_t)co >> 4) * 0x9E3779B97F4A7C15ull & ix->mask;
    while (ix->keys[i]) {
        if (ix->keys[i] == co)
            return ix->vals[i];
        i = (i + 1) & ix->mask;
    }
    if (PyList_Append(codes, (PyObject *)co) < 0)
        return -2;
    ix->keys[i] = co;
    ix->vals[i] = (int32_t)(PyList_GET_SIZE(codes) - 1);
    return ix->vals[i];
}

/* Lines already looked up, by (code index, instruction index): PyCode_Addr2Line scans the
 * line table, and the same frame recurs on many paths. Open addressing, at most half full. */
typedef struct {
    uint64_t *keys; /* code index << 32 | lasti, + 1 (0 = empty) */
    int32_t *lines;
    size_t mask;
} line_cache;

static int32_t line_of(line_cache *lc, int32_t ci, const hp_mem_stack *s)
{
    if ((uint64_t)s->lasti > UINT32_MAX - 1)
        return node_line(s);
    uint64_t key = ((uint64_t)(uint32_t)ci << 32 | (uint64_t)s->lasti) + 1;
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h ^ (h >> 29)) & lc->mask;
    while (lc->keys[i]) {
        if (lc->keys[i] == key)
            return lc->lines[i];
        i = (i + 1) & lc->mask;
    }
    lc->keys[i] = key;
    return lc->lines[i] = node_line(s);
}

PyObject *hp_mem_stacks_export_columns(const hp_mem_stacks_snap *c)
{
    size_t n = c->n, cap = 16;
    while (cap < 2 * n)
        cap <<= 1;
    PyObject *codes = PyList_New(0), *res = NULL;
    PyObject *parent = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(4 * n));
    PyObject *code = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(4 * n));
    PyObject *line = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(4 * n));
    PyObject *counters = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(48 * n));
    code_index ix = {hp_mem_raw_calloc(cap, sizeof(PyCodeObject *)),
                     hp_mem_raw_calloc(cap, sizeof(int32_t)), cap - 1};
    line_cache lc = {hp_mem_raw_calloc(cap, sizeof(uint64_t)),
                     hp_mem_raw_calloc(cap, sizeof(int32_t)), cap - 1};
    if (!codes || !parent || !code || !line || !counters)
        goto done;
    if (!ix.keys || !ix.vals || !lc.keys || !lc.lines) {
        PyErr_NoMemory();
        goto done;
    }
    int32_t *pa = (int32_t *)PyBytes_AS_STRING(parent), *co = (int32_t *)PyBytes_AS_STRING(code),
            *li = (int32_t *)PyBytes_AS_STRING(line);
    int64_t *ct = (int64_t *)PyBytes_AS_STRING(counters);
    for (size_t i = 0; i < n; i++) {
        const hp_mem_stack *s = &c->nodes[i];
        pa[i] = s->parent == HP_MEM_NODE_NONE ? -1 : (int32_t)s->parent;
        co[i] = s->code ? code_index_get(&ix, s->code, codes) : -1;
        if (co[i] == -2)
            goto done;
        li[i] = s->code ? line_of(&lc, co[i], s) : node_line(s);
        uint64_t pc, pb;
        node_peak(c, s, &pc, &pb);
        ct[i] = (int64_t)s->alloc_count;
        ct[n + i] = (int64_t)s->alloc_bytes;
        ct[2 * n + i] = (int64_t)s->free_count;
        ct[3 * n + i] = (int64_t)s->free_bytes;
        ct[4 * n + i] = (int64_t)pc;
        ct[5 * n + i] = (int64_t)pb;
    }
    res = PyTuple_Pack(5, codes, parent, code, line, counters);
done:
    hp_mem_raw_free(ix.keys);
    hp_mem_raw_free(ix.vals);
    hp_mem_raw_free(lc.keys);
    hp_mem_raw_free(lc.lines);
    Py_XDECREF(codes);
    Py_XDECREF(parent);
    Py_XDECREF(code);
    Py_XDECREF(line);
    Py_XDECREF(counters);
    return res;
}

void hp_mem_stacks_snap_free(hp_mem_stacks_snap *c)
{
    hp_mem_raw_free(c->nodes);
    c->nodes = NULL;
}
