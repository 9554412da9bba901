/* funcreg.h — the function table: code objects and C functions → dense integer ids.
 *
 * An entry is made when a call tree node is created for the function (never for a call
 * that goes to the overflow node), so the table is bounded by the trees' nodes. It
 * holds no reference to a code object: it keeps the code's address as a key (borrowed,
 * never dereferenced once the object is freed) and takes its identity for the report at
 * registration — filename, first line, name and qualname (references to the code's own
 * strings; no copy). So generated code that is dropped is freed while profiling.
 *
 * Death notices: a registered code object's co_extra slot (index hp_func_reg_extra_index)
 * holds its own address; the interpreter passes that to hp_func_reg_code_freed when the
 * object is freed, and every live table that knows the address marks the entry freed
 * (code = NULL), drops the address and calls its on_code_freed (the profiler makes its
 * call trees forget the key). Only if the slot cannot be set does an entry hold the code
 * strongly (`owned`), as the only way to keep its address from being reused.
 * C functions are keyed by their PyMethodDef, as cProfile keys them, and labelled the
 * way cProfile labels them ("<built-in method builtins.len>", "<method 'append' of
 * 'list' objects>").
 *
 * Id 0 is reserved for the call tree's overflow node. Everything here (each table, the
 * list of live tables) is protected by the GIL; hp_func_reg_code_freed runs in
 * code_dealloc, which holds it.
 */
#ifndef HP_FUNCREG_H
#define HP_FUNCREG_H

#include "common/compat.h"
#include "common/table.h"

#define HP_FUNC_NONE UINT32_MAX /* lookup failed: out of memory, exception set */

typedef struct {
    PyObject *code;     /* borrowed key: the live code object; NULL once freed, and for
                            a C function. Strong only when `owned`. */
    PyObject *filename; /* strong: co_filename, or NULL for a C function */
    PyObject *name;     /* strong: co_name, or the C function's label */
    PyObject *qualname; /* strong: co_qualname, or the C function's label */
    int firstlineno;
    int owned; /* `code` is a strong reference (no death notice possible) */
} hp_func_entry;

typedef struct hp_func_reg {
    hp_func_entry *entries;
    uint32_t n, cap;
    hp_ptrmap by_addr; /* live code object or PyMethodDef* → id */
    /* Called (cold, GIL held) after a registered code object at `key`, function `id`,
     * was freed and its entry marked; must not fail, allocate Python objects or free
     * the table. */
    void (*on_code_freed)(struct hp_func_reg *r, const void *key, uint32_t id);
    struct hp_func_reg *next, **pprev; /* the list of live tables; pprev NULL = unlinked */
} hp_func_reg;

/* The co_extra index, requested once per process at module init
 * (hp_func_reg_request_extra_index, common/module.h). */
extern Py_ssize_t hp_func_reg_extra_index;

/* Start an empty table (id 0 = overflow) and link it into the live list. 0 / -1 with
 * an exception set. `r` must be zeroed or cleared. */
int hp_func_reg_init(hp_func_reg *r, void (*on_code_freed)(hp_func_reg *, const void *, uint32_t));
/* Unlink and free everything; leaves `r` cleared (safe to call again). */
void hp_func_reg_clear(hp_func_reg *r);

/* Cold paths: the id, registering on first sight; HP_FUNC_NONE with an exception set.
 * `cfunc` is the PyCFunction whose label to compute (borrowed). Neither runs Python code
 * or allocates Python objects for a code object (no code object can be freed meanwhile). */
uint32_t hp_func_reg_code(hp_func_reg *r, PyCodeObject *co);
uint32_t hp_func_reg_cfunc_slow(hp_func_reg *r, PyMethodDef *ml, PyObject *cfunc);

/* Returns 1 and sets *id when the C function is known already. */
static inline int hp_func_reg_cfunc_known(hp_func_reg *r, PyMethodDef *ml, uint32_t *id)
{
    return hp_ptrmap_get(&r->by_addr, ml, id);
}

/* The id of a live key (code object or PyMethodDef*) registered here, or
 * HP_FUNC_TRUNCATED when it is not (cannot happen for a key a call tree holds). */
static inline uint32_t hp_func_reg_id_of(const hp_func_reg *r, const void *key)
{
    uint32_t id;
    return hp_ptrmap_get(&r->by_addr, key, &id) ? id : 0;
}

/* New reference: a list of (filename, lineno, name, qualname, code) tuples, index = id;
 * code is the code object while it lives, None once it was freed, or the label string
 * for a C function (as cProfile's getstats). */
PyObject *hp_func_reg_export(hp_func_reg *r);

#endif /* HP_FUNCREG_H */
