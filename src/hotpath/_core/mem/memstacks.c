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

mt_stack_tree mt_stacks;
mt_code_table mt_codes;

/* ---- code objects ----------------------------------------------------------------------- */

static int codes_grow(void)
{
    size_t cap = mt_codes.slots ? 2 * (mt_codes.mask + 1) : 256;
    mt_code *t = mt_raw_calloc(cap, sizeof *t);
    if (!t)
        return -1;
    if (mt_codes.slots) {
        for (size_t i = 0; i <= mt_codes.mask; i++) {
            if (!mt_codes.slots[i].code)
                continue;
            size_t j = mt_ptr_slot((uintptr_t)mt_codes.slots[i].code, cap - 1);
            while (t[j].code)
                j = (j + 1) & (cap - 1);
            t[j] = mt_codes.slots[i];
        }
        mt_raw_free(mt_codes.slots);
    }
    mt_codes.slots = t;
    mt_codes.mask = cap - 1;
    return 0;
}

/* (L) Make sure `co` is kept alive (now, or by the next hook holding the GIL).
 * `gil`: 1 held, 0 not, -1 unknown (find out only if needed). 0 / -1 out of memory. */
static int code_note(PyCodeObject *co, int gil)
{
    if ((mt_codes.used + 1) * 2 > (mt_codes.slots ? mt_codes.mask + 1 : 0) &&
        codes_grow() < 0)
        return -1;
    size_t i = mt_ptr_slot((uintptr_t)co, mt_codes.mask);
    while (mt_codes.slots[i].code) {
        if (mt_codes.slots[i].code == co)
            return 0;
        i = (i + 1) & mt_codes.mask;
    }
    if (gil < 0) {
        PyThreadState *mine = PyGILState_GetThisThreadState();
        gil = mine && hp_tstate_unchecked() == mine;
    }
    mt_codes.slots[i].code = co;
    mt_codes.used++;
    if (gil) {
        Py_INCREF(co);
        mt_codes.slots[i].state = MT_CODE_HELD;
    } else {
        mt_codes.slots[i].state = MT_CODE_PENDING;
        __atomic_store_n(&mt_codes.pending, 1, __ATOMIC_RELAXED);
    }
    return 0;
}

void mt_codes_process_pending(void)
{
    if (!mt_codes.slots)
        return;
    for (size_t i = 0; i <= mt_codes.mask; i++) {
        mt_code *c = &mt_codes.slots[i];
        if (c->code && c->state == MT_CODE_PENDING) {
            if (Py_REFCNT(c->code) > 0) {
                Py_INCREF(c->code);
                c->state = MT_CODE_HELD;
            } else {
                c->state = MT_CODE_DEAD;
            }
        }
    }
    __atomic_store_n(&mt_codes.pending, 0, __ATOMIC_RELAXED);
}

/* (L) 1 when `co` is held (safe to use with the GIL). */
static int code_held(PyCodeObject *co)
{
    if (!mt_codes.slots)
        return 0;
    size_t i = mt_ptr_slot((uintptr_t)co, mt_codes.mask);
    while (mt_codes.slots[i].code) {
        if (mt_codes.slots[i].code == co)
            return mt_codes.slots[i].state == MT_CODE_HELD;
        i = (i + 1) & mt_codes.mask;
    }
    return 0;
}

/* ---- nodes ------------------------------------------------------------------------------ */

static int index_grow(void)
{
    size_t cap = mt_stacks.index ? 2 * (mt_stacks.index_mask + 1) : 1024;
    uint32_t *t = mt_raw_calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (uint32_t id = MT_NODE_CUT + 1; id < mt_stacks.n; id++) {
        size_t j = (size_t)(mt_stacks.nodes[id].hash >> 20) & (cap - 1);
        while (t[j])
            j = (j + 1) & (cap - 1);
        t[j] = id + 1;
    }
    mt_raw_free(mt_stacks.index);
    mt_stacks.index = t;
    mt_stacks.index_mask = cap - 1;
    return 0;
}

/* Append a node with no counts. Its id, or MT_NODE_NONE when out of memory. */
static uint32_t append(uint64_t h, uint32_t parent, PyCodeObject *code, intptr_t lasti)
{
    if (mt_stacks.n == mt_stacks.cap) {
        uint32_t cap = mt_stacks.cap ? 2 * mt_stacks.cap : 256;
        mt_stack *s = mt_raw_realloc(mt_stacks.nodes, (size_t)cap * sizeof *s);
        if (!s)
            return MT_NODE_NONE;
        mt_stacks.nodes = s;
        mt_stacks.cap = cap;
    }
    mt_stack *s = &mt_stacks.nodes[mt_stacks.n];
    memset(s, 0, sizeof *s);
    s->hash = h;
    s->parent = parent;
    s->code = code;
    s->lasti = lasti;
    s->saved_epoch = mt_totals.peak_epoch;     /* it had nothing live at the last peak */
    return mt_stacks.n++;
}

uint32_t mt_stacks_child(uint32_t parent, uint64_t h, PyCodeObject *code, intptr_t lasti,
                         int gil)
{
    size_t i = (size_t)(h >> 20) & mt_stacks.index_mask;
    for (;;) {
        uint32_t id = mt_stacks.index[i];
        if (!id)
            break;
        const mt_stack *s = &mt_stacks.nodes[id - 1];
        if (s->hash == h && s->parent == parent && s->code == code && s->lasti == lasti)
            return id - 1;
        i = (i + 1) & mt_stacks.index_mask;
    }
    if (mt_stacks.n >= MT_MAX_STACKS || (code && code_note(code, gil) < 0))
        return MT_NODE_NONE;
    uint32_t id = append(h, parent, code, lasti);
    if (id == MT_NODE_NONE)
        return MT_NODE_NONE;
    mt_stacks.index[i] = id + 1;
    if ((size_t)mt_stacks.n * 2 > mt_stacks.index_mask + 1 && index_grow() < 0)
        mt_fail(MT_ERR_NOMEMORY);
    return id;
}

/* ---- session lifetime ------------------------------------------------------------------- */

int mt_stacks_init(void)
{
    int ok = index_grow() == 0 && codes_grow() == 0 &&
             append(0, MT_NODE_NONE, NULL, 0) == MT_NODE_OVERFLOW &&
             append(MT_SEED_ROOT, MT_NODE_NONE, NULL, 0) == MT_NODE_ROOT &&
             append(MT_SEED_CUT, MT_NODE_NONE, NULL, 0) == MT_NODE_CUT;
    return ok ? 0 : -1;
}

void mt_stacks_clear(mt_code_table *codes)
{
    *codes = mt_codes;
    mt_raw_free(mt_stacks.nodes);
    mt_raw_free(mt_stacks.index);
    mt_stacks.nodes = NULL;
    mt_stacks.n = mt_stacks.cap = 0;
    mt_stacks.index = NULL;
    mt_stacks.index_mask = 0;
    mt_codes.slots = NULL;
    mt_codes.mask = mt_codes.used = 0;
    mt_codes.pending = 0;
}

void mt_codes_release(mt_code_table *codes)
{
    size_t n = codes->slots ? codes->mask + 1 : 0;
    for (size_t i = 0; i < n; i++)
        if (codes->slots[i].code && codes->slots[i].state == MT_CODE_HELD)
            Py_DECREF(codes->slots[i].code);
    mt_raw_free(codes->slots);
    codes->slots = NULL;
}

size_t mt_stacks_bytes(void)
{
    return (size_t)mt_stacks.cap * sizeof(mt_stack) +
           (mt_stacks.index ? (mt_stacks.index_mask + 1) * sizeof(uint32_t) : 0) +
           (mt_codes.slots ? (mt_codes.mask + 1) * sizeof(mt_code) : 0);
}

/* ---- snapshots -------------------------------------------------------------------------- */

int mt_stacks_copy(mt_stacks_snap *c)
{
    c->n = mt_stacks.n;
    c->nodes = mt_raw_calloc(c->n ? c->n : 1, sizeof *c->nodes);
    c->peak_dirty = mt_totals.peak_dirty;
    c->peak_epoch = mt_totals.peak_epoch;
    if (!c->nodes)
        return -1;
    memcpy(c->nodes, mt_stacks.nodes, c->n * sizeof *c->nodes);
    for (uint32_t i = 0; i < c->n; i++)
        if (c->nodes[i].code && !code_held(c->nodes[i].code))
            c->nodes[i].code = NULL;
    return 0;
}

/* One node's tuple (see mt_stacks_export). Its bytes at the peak: the saved ones when
 * saved in the current epoch (memaccount.h), else its live ones. */
static PyObject *build_node(const mt_stacks_snap *c, const mt_stack *s)
{
    int line = 0;
    if (s->code)
        line = PyCode_Addr2Line(s->code, (int)(s->lasti * (intptr_t)sizeof(_Py_CODEUNIT)));
    else if (s->lasti == -1)
        line = -1;
    uint64_t peak_bytes, peak_count;
    if (c->peak_dirty || s->saved_epoch != c->peak_epoch) {
        peak_bytes = s->alloc_bytes - s->free_bytes;
        peak_count = s->alloc_count - s->free_count;
    } else {
        peak_bytes = s->peak_bytes;
        peak_count = s->peak_count;
    }
    return Py_BuildValue("(LOiKKKKKK)",
                         s->parent == MT_NODE_NONE ? -1LL : (long long)s->parent,
                         s->code ? (PyObject *)s->code : Py_None, line,
                         (unsigned long long)s->alloc_count, (unsigned long long)s->alloc_bytes,
                         (unsigned long long)s->free_count, (unsigned long long)s->free_bytes,
                         (unsigned long long)peak_count, (unsigned long long)peak_bytes);
}

PyObject *mt_stacks_export(const mt_stacks_snap *c)
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

void mt_stacks_snap_free(mt_stacks_snap *c)
{
    mt_raw_free(c->nodes);
    c->nodes = NULL;
}
