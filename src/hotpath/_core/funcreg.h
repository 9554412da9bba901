/* funcreg.h — the function table: code objects and C functions → dense integer ids.
 *
 * A code object's id is cached in one of its co_extra slots as (session << 32 | id), so
 * the per-event lookup is one array read; a slot holding another session's value falls
 * back to an address map (code objects are held strongly, so addresses stay unique).
 * C functions are keyed by their PyMethodDef, as cProfile keys them, and labelled the
 * way cProfile labels them ("<built-in method builtins.len>", "<method 'append' of
 * 'list' objects>").
 *
 * Id 0 is reserved for the call tree's overflow node. Protected by the GIL.
 */
#ifndef HP_FUNCREG_H
#define HP_FUNCREG_H

#include "compat.h"
#include "table.h"

#define HP_NO_FUNC UINT32_MAX   /* lookup failed: out of memory, exception set */

typedef struct {
    PyObject *code;    /* strong: the code object, or NULL for a C function */
    PyObject *label;   /* strong: the C function's label, or NULL for code */
} hp_funcentry;

typedef struct {
    hp_funcentry *entries;
    uint32_t n, cap;
    hp_ptrmap by_addr;     /* code object or PyMethodDef* → id */
    uint32_t session32;    /* nonzero; tags co_extra values as ours */
} hp_funcreg;

/* The co_extra index, requested once per process at module init. */
extern Py_ssize_t hp_funcreg_extra_index;

/* 0 / -1 with an exception set. */
int hp_funcreg_init(hp_funcreg *r, uint32_t session32);
void hp_funcreg_clear(hp_funcreg *r);

/* Cold paths: register on first sight. Return the id, or HP_NO_FUNC with an exception
 * set. `cfunc` is the PyCFunction whose label to compute (borrowed). */
uint32_t hp_funcreg_code_slow(hp_funcreg *r, PyCodeObject *co);
uint32_t hp_funcreg_cfunc_slow(hp_funcreg *r, PyMethodDef *ml, PyObject *cfunc);

static inline uint32_t hp_funcreg_code(hp_funcreg *r, PyCodeObject *co)
{
    void *extra = NULL;
    if (hp_code_get_extra((PyObject *)co, hp_funcreg_extra_index, &extra) == 0 && extra) {
        uintptr_t v = (uintptr_t)extra;
        if ((uint32_t)(v >> 32) == r->session32)
            return (uint32_t)v;
    }
    return hp_funcreg_code_slow(r, co);
}

/* Returns 1 and sets *id when the C function is known already. */
static inline int hp_funcreg_cfunc_known(hp_funcreg *r, PyMethodDef *ml, uint32_t *id)
{
    return hp_ptrmap_get(&r->by_addr, ml, id);
}

/* New reference: a list of (filename, lineno, name, qualname, code) tuples, index = id;
 * code is the code object, or the label string for a C function (as cProfile's getstats). */
PyObject *hp_funcreg_export(hp_funcreg *r);

#endif /* HP_FUNCREG_H */
