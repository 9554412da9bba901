/* linestore.c — the line store's cold paths: registering code objects, growing and
 * resyncing stacks, sessions, freeing (see linestore.h for the layout and invariants).
 *
 * Everything here runs with the GIL held. The functions called from the per-event path
 * (new_thread, grow, find, search, resync) never raise and leave no exception set.
 */
#include "linestore.h"

#include <stdlib.h>
#include <string.h>

Py_ssize_t hp_line_store_extra_index = -1; /* process-wide; protected by the GIL */
_Thread_local hp_line_tls hp_line_store_tls;
static uint64_t next_session = 1; /* protected by the GIL */

int hp_line_store_request_slot(void)
{
    if (hp_line_store_extra_index < 0) {
        hp_line_store_extra_index = hp_code_request_extra_index(NULL);
        if (hp_line_store_extra_index < 0) {
            PyErr_SetString(PyExc_RuntimeError, "hotpath: no code-object extra slot left");
            return -1;
        }
    }
    return 0;
}

void hp_line_store_init(hp_line_store *st)
{
    st->session = next_session++;
}

/* ---- called from the per-event path ----------------------------------------------- */

hp_line_thread *hp_line_store_new_thread(hp_line_store *st)
{
    hp_line_thread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->next = st->threads;
    st->threads = t;
    hp_line_store_tls.t = t;
    hp_line_store_tls.session = st->session;
    return t;
}

int hp_line_store_grow(hp_line_thread *t)
{
    uint32_t cap = t->cap ? t->cap * 2 : 64;
    hp_line_frame *s = realloc(t->stack, (size_t)cap * sizeof *s);
    if (!s)
        return -1;
    t->stack = s;
    t->cap = cap;
    return 0;
}

hp_line_code *hp_line_store_find(hp_line_store *st, PyObject *code)
{
    for (uint32_t i = 0; i < st->n_codes; i++) {
        if (st->codes[i]->code == code) {
            if (hp_code_set_extra(code, hp_line_store_extra_index, st->codes[i]) < 0)
                PyErr_Clear();
            return st->codes[i];
        }
    }
    return NULL;
}

hp_line_frame *hp_line_store_search(hp_line_thread *t, hp_line_code *lc, const void *frame)
{
    for (uint32_t i = t->depth; i-- > 0;) {
        if (t->stack[i].frame == frame && t->stack[i].lc == lc) {
            t->depth = i + 1;
            return &t->stack[i];
        }
    }
    return NULL;
}

hp_line_frame *hp_line_store_resync(hp_line_thread *t, hp_line_code *lc, const void *frame)
{
    hp_line_frame *e = hp_line_store_search(t, lc, frame);
    return e ? e : hp_line_store_push(t, lc, frame);
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

hp_line_code *hp_line_store_add(hp_line_store *st, PyObject *code, int *created)
{
    *created = 0;
    void *extra = NULL;
    if (hp_code_get_extra(code, hp_line_store_extra_index, &extra) < 0)
        return NULL;
    if (extra && ((hp_line_code *)extra)->session == st->session)
        return extra;
    hp_line_code *lc = hp_line_store_find(st, code);
    if (lc)
        return lc;
    int first, last;
    if (line_range((PyCodeObject *)code, &first, &last) < 0)
        return NULL;
    if (st->n_codes == st->cap_codes) {
        uint32_t cap = st->cap_codes ? st->cap_codes * 2 : 32;
        hp_line_code **c = realloc(st->codes, (size_t)cap * sizeof *c);
        if (!c) {
            PyErr_NoMemory();
            return NULL;
        }
        st->codes = c;
        st->cap_codes = cap;
    }
    lc = calloc(1, sizeof *lc);
    hp_line_stat *lines = calloc((size_t)(last - first + 1), sizeof *lines);
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
    if (hp_code_set_extra(code, hp_line_store_extra_index, lc) < 0) {
        Py_DECREF(lc->code);
        free(lines);
        free(lc);
        return NULL;
    }
    st->codes[st->n_codes++] = lc;
    *created = 1;
    return lc;
}

int hp_line_store_reclaim(hp_line_store *st)
{
    for (uint32_t i = 0; i < st->n_codes; i++) {
        if (hp_code_set_extra(st->codes[i]->code, hp_line_store_extra_index, st->codes[i]) < 0)
            return -1;
    }
    return 0;
}

void hp_line_store_clear(hp_line_store *st)
{
    for (uint32_t i = 0; i < st->n_codes; i++)
        memset(st->codes[i]->lines, 0, (size_t)st->codes[i]->n * sizeof(hp_line_stat));
    for (hp_line_thread *t = st->threads; t; t = t->next)
        t->depth = 0;
}

/* ---- freeing ----------------------------------------------------------------------------- */

void hp_line_store_free_codes(hp_line_store *st)
{
    for (uint32_t i = 0; i < st->n_codes; i++) {
        hp_line_code *lc = st->codes[i];
        void *extra = NULL;
        if (hp_code_get_extra(lc->code, hp_line_store_extra_index, &extra) == 0 && extra == lc) {
            if (hp_code_set_extra(lc->code, hp_line_store_extra_index, NULL) < 0)
                PyErr_Clear();
        } else
            PyErr_Clear();
        Py_DECREF(lc->code);
        free(lc->lines);
        free(lc);
    }
    free(st->codes);
    st->codes = NULL;
    st->n_codes = st->cap_codes = 0;
}

void hp_line_store_free_threads(hp_line_store *st)
{
    hp_line_thread *t = st->threads;
    while (t) {
        hp_line_thread *next = t->next;
        free(t->stack);
        free(t);
        t = next;
    }
    st->threads = NULL;
    st->session = next_session++; /* invalidates every thread-local pointer */
    for (uint32_t i = 0; i < st->n_codes; i++)
        st->codes[i]->session = st->session;
}
