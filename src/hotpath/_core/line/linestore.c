/* linestore.c — the line store's cold paths: registering code objects, growing and
 * resyncing stacks, sessions, freeing (see linestore.h for the layout and invariants).
 *
 * Everything here runs with the GIL held. The functions called from the per-event path
 * (new_thread, grow, find, search, resync) never raise and leave no exception set.
 */
#include "linestore.h"

#include <stdlib.h>
#include <string.h>

Py_ssize_t hp_linestore_extra_index = -1;      /* process-wide; protected by the GIL */
_Thread_local hp_linetls hp_linestore_tls;
static uint64_t next_session = 1;              /* protected by the GIL */

int hp_linestore_request_slot(void)
{
    if (hp_linestore_extra_index < 0) {
        hp_linestore_extra_index = hp_code_request_extra_index(NULL);
        if (hp_linestore_extra_index < 0) {
            PyErr_SetString(PyExc_RuntimeError, "hotpath: no code-object extra slot left");
            return -1;
        }
    }
    return 0;
}

void hp_linestore_init(hp_linestore *st)
{
    st->session = next_session++;
}

/* ---- called from the per-event path ----------------------------------------------- */

hp_linethread *hp_linestore_new_thread(hp_linestore *st)
{
    hp_linethread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->next = st->threads;
    st->threads = t;
    hp_linestore_tls.t = t;
    hp_linestore_tls.session = st->session;
    return t;
}

int hp_linestore_grow(hp_linethread *t)
{
    uint32_t cap = t->cap ? t->cap * 2 : 64;
    hp_lineframe *s = realloc(t->stack, (size_t)cap * sizeof *s);
    if (!s)
        return -1;
    t->stack = s;
    t->cap = cap;
    return 0;
}

hp_linecode *hp_linestore_find(hp_linestore *st, PyObject *code)
{
    for (uint32_t i = 0; i < st->n_codes; i++) {
        if (st->codes[i]->code == code) {
            if (hp_code_set_extra(code, hp_linestore_extra_index, st->codes[i]) < 0)
                PyErr_Clear();
            return st->codes[i];
        }
    }
    return NULL;
}

hp_lineframe *hp_linestore_search(hp_linethread *t, hp_linecode *lc, const void *frame)
{
    for (uint32_t i = t->depth; i-- > 0;) {
        if (t->stack[i].frame == frame && t->stack[i].lc == lc) {
            t->depth = i + 1;
            return &t->stack[i];
        }
    }
    return NULL;
}

hp_lineframe *hp_linestore_resync(hp_linethread *t, hp_linecode *lc, const void *frame)
{
    hp_lineframe *e = hp_linestore_search(t, lc, frame);
    return e ? e : hp_linestore_push(t, lc, frame);
}

/* ---- registering code objects --------------------------------------------------------- */

/* The range of line numbers the code's instructions carry (with co_firstlineno). 0 / -1. */
static int line_range(PyCodeObject *co, int *first, int *last)
{
    PyObject *bytes = PyCode_GetCode(co);
    if (!bytes)
        return -1;
    Py_ssize_t size = PyBytes_GET_SIZE(bytes);
    Py_DECREF(bytes);
    int lo = co->co_firstlineno, hi = co->co_firstlineno;
    for (Py_ssize_t off = 0; off < size; off += 2) {
        int line = PyCode_Addr2Line(co, (int)off);
        if (line < 0)
            continue;
        if (line < lo)
            lo = line;
        if (line > hi)
            hi = line;
    }
    *first = lo;
    *last = hi;
    return 0;
}

hp_linecode *hp_linestore_add(hp_linestore *st, PyObject *code, int *created)
{
    *created = 0;
    void *extra = NULL;
    if (hp_code_get_extra(code, hp_linestore_extra_index, &extra) < 0)
        return NULL;
    if (extra && ((hp_linecode *)extra)->session == st->session)
        return extra;
    hp_linecode *lc = hp_linestore_find(st, code);
    if (lc)
        return lc;
    int first, last;
    if (line_range((PyCodeObject *)code, &first, &last) < 0)
        return NULL;
    if (st->n_codes == st->cap_codes) {
        uint32_t cap = st->cap_codes ? st->cap_codes * 2 : 32;
        hp_linecode **c = realloc(st->codes, (size_t)cap * sizeof *c);
        if (!c) {
            PyErr_NoMemory();
            return NULL;
        }
        st->codes = c;
        st->cap_codes = cap;
    }
    lc = calloc(1, sizeof *lc);
    hp_linestat *lines = calloc((size_t)(last - first + 1), sizeof *lines);
    if (!lc || !lines) {
        free(lc);
        free(lines);
        PyErr_NoMemory();
        return NULL;
    }
    lc->code = Py_NewRef(code);
    lc->session = st->session;
    lc->first = first;
    lc->n = last - first + 1;
    lc->lines = lines;
    if (hp_code_set_extra(code, hp_linestore_extra_index, lc) < 0) {
        Py_DECREF(lc->code);
        free(lines);
        free(lc);
        return NULL;
    }
    st->codes[st->n_codes++] = lc;
    *created = 1;
    return lc;
}

int hp_linestore_reclaim(hp_linestore *st)
{
    for (uint32_t i = 0; i < st->n_codes; i++) {
        if (hp_code_set_extra(st->codes[i]->code, hp_linestore_extra_index, st->codes[i]) < 0)
            return -1;
    }
    return 0;
}

void hp_linestore_clear(hp_linestore *st)
{
    for (uint32_t i = 0; i < st->n_codes; i++)
        memset(st->codes[i]->lines, 0, (size_t)st->codes[i]->n * sizeof(hp_linestat));
    for (hp_linethread *t = st->threads; t; t = t->next)
        t->depth = 0;
}

/* ---- freeing ----------------------------------------------------------------------------- */

void hp_linestore_free_codes(hp_linestore *st)
{
    for (uint32_t i = 0; i < st->n_codes; i++) {
        hp_linecode *lc = st->codes[i];
        void *extra = NULL;
        if (hp_code_get_extra(lc->code, hp_linestore_extra_index, &extra) == 0 && extra == lc) {
            if (hp_code_set_extra(lc->code, hp_linestore_extra_index, NULL) < 0)
                PyErr_Clear();
        }
        else
            PyErr_Clear();
        Py_DECREF(lc->code);
        free(lc->lines);
        free(lc);
    }
    free(st->codes);
    st->codes = NULL;
    st->n_codes = st->cap_codes = 0;
}

void hp_linestore_free_threads(hp_linestore *st)
{
    hp_linethread *t = st->threads;
    while (t) {
        hp_linethread *next = t->next;
        free(t->stack);
        free(t);
        t = next;
    }
    st->threads = NULL;
    st->session = next_session++;   /* invalidates every thread-local pointer */
    for (uint32_t i = 0; i < st->n_codes; i++)
        st->codes[i]->session = st->session;
}
