/* funcreg.c — registering functions on first sight, death notices from code objects,
 * and labelling C functions. */
#include "funcreg.h"
#include "common/module.h"

#include <stdlib.h>

Py_ssize_t hp_func_reg_extra_index = -1;
static hp_func_reg *live_tables = NULL; /* protected by the GIL */

/* Append an entry (steals the references in `e`). Returns the id or HP_FUNC_NONE. */
static uint32_t append(hp_func_reg *r, hp_func_entry e)
{
    if (r->n == r->cap) {
        uint32_t cap = r->cap ? r->cap * 2 : 256;
        hp_func_entry *grown = realloc(r->entries, (size_t)cap * sizeof *grown);
        if (!grown) {
            if (e.owned)
                Py_XDECREF(e.code);
            Py_XDECREF(e.filename);
            Py_XDECREF(e.name);
            Py_XDECREF(e.qualname);
            PyErr_NoMemory();
            return HP_FUNC_NONE;
        }
        r->entries = grown;
        r->cap = cap;
    }
    r->entries[r->n] = e;
    return r->n++;
}

/* The co_extra free function: `extra` is the address of a code object being freed (set
 * by hp_func_reg_code). Runs inside code_dealloc with the GIL held, possibly in any
 * thread and in the middle of other work: it only clears keys, never allocates. */
static void code_freed(void *extra)
{
    for (hp_func_reg *r = live_tables; r; r = r->next) {
        uint32_t id;
        if (!hp_ptrmap_get(&r->by_addr, extra, &id))
            continue;
        hp_ptrmap_del(&r->by_addr, extra);
        r->entries[id].code = NULL;
        if (r->on_code_freed)
            r->on_code_freed(r, extra, id);
    }
}

int hp_func_reg_request_extra_index(void)
{
    if (hp_func_reg_extra_index >= 0)
        return 0;
    hp_func_reg_extra_index = hp_code_request_extra_index(code_freed);
    if (hp_func_reg_extra_index < 0) {
        PyErr_SetString(PyExc_RuntimeError, "hotpath: no code-object extra slot left");
        return -1;
    }
    return 0;
}

int hp_func_reg_init(hp_func_reg *r, void (*on_code_freed)(hp_func_reg *, const void *, uint32_t))
{
    memset(r, 0, sizeof *r);
    r->on_code_freed = on_code_freed;
    r->next = live_tables;
    if (live_tables)
        live_tables->pprev = &r->next;
    live_tables = r;
    r->pprev = &live_tables;
    PyObject *label = PyUnicode_FromString("<hotpath: call tree size cap reached>");
    if (!label)
        return -1;
    hp_func_entry e = {NULL, NULL, label, Py_NewRef(label), 0, 0};
    return append(r, e) == HP_FUNC_NONE ? -1 : 0;
}

void hp_func_reg_clear(hp_func_reg *r)
{
    /* Unlink first: releasing an owned code object sends a death notice. */
    if (r->pprev) {
        *r->pprev = r->next;
        if (r->next)
            r->next->pprev = r->pprev;
    }
    hp_func_entry *entries = r->entries;
    uint32_t n = r->n;
    hp_ptrmap_clear(&r->by_addr);
    memset(r, 0, sizeof *r);
    for (uint32_t i = 0; i < n; i++) {
        if (entries[i].owned)
            Py_XDECREF(entries[i].code);
        Py_XDECREF(entries[i].filename);
        Py_XDECREF(entries[i].name);
        Py_XDECREF(entries[i].qualname);
    }
    free(entries);
}

uint32_t hp_func_reg_code(hp_func_reg *r, PyCodeObject *co)
{
    uint32_t id;
    if (hp_ptrmap_get(&r->by_addr, co, &id))
        return id;
    /* Ask for the death notice first: without it the address could be reused while
     * the tree still maps it, so the entry must then own the object. Another live
     * table may have set the slot already (it holds the same address). */
    void *extra = NULL;
    int owned = 0;
    if (hp_code_get_extra((PyObject *)co, hp_func_reg_extra_index, &extra) < 0 ||
        (extra != (void *)co &&
         hp_code_set_extra((PyObject *)co, hp_func_reg_extra_index, (void *)co) < 0)) {
        PyErr_Clear();
        owned = 1;
    }
    hp_func_entry e = {(PyObject *)co,         Py_NewRef(co->co_filename),
                       Py_NewRef(co->co_name), Py_NewRef(hp_code_qualname(co)),
                       co->co_firstlineno,     owned};
    if (owned)
        Py_INCREF(co);
    id = append(r, e);
    if (id == HP_FUNC_NONE)
        return HP_FUNC_NONE;
    if (hp_ptrmap_put(&r->by_addr, co, id) < 0) {
        if (!owned)
            r->entries[id].code = NULL; /* no death notice would reach it */
        PyErr_NoMemory();
        return HP_FUNC_NONE;
    }
    return id;
}

/* cProfile's label for a C function (the logic of _lsprof's normalizeUserObj).
 * New reference, or NULL with an exception set. */
static PyObject *cfunc_label(PyObject *obj)
{
    PyCFunctionObject *fn = (PyCFunctionObject *)obj;
    if (fn->m_self == NULL) {
        /* built-in function: look up the module name */
        PyObject *mod = fn->m_module, *modname = NULL;
        if (mod && PyUnicode_Check(mod))
            modname = Py_NewRef(mod);
        else if (mod && PyModule_Check(mod)) {
            modname = PyModule_GetNameObject(mod);
            if (!modname)
                PyErr_Clear();
        }
        if (modname) {
            if (PyUnicode_CompareWithASCIIString(modname, "builtins") != 0) {
                PyObject *res = PyUnicode_FromFormat("<%U.%s>", modname, fn->m_ml->ml_name);
                Py_DECREF(modname);
                return res;
            }
            Py_DECREF(modname);
        }
        return PyUnicode_FromFormat("<%s>", fn->m_ml->ml_name);
    }
    /* built-in method: repr(getattr(type(__self__), __name__)) when it exists */
    PyObject *name = PyUnicode_FromString(fn->m_ml->ml_name);
    if (name) {
        PyObject *mo = _PyType_Lookup(Py_TYPE(fn->m_self), name);
        Py_XINCREF(mo);
        Py_DECREF(name);
        if (mo) {
            PyObject *res = PyObject_Repr(mo);
            Py_DECREF(mo);
            if (res)
                return res;
        }
    }
    PyErr_Clear();
    PyObject *modname = fn->m_module;
    if (modname && PyUnicode_Check(modname))
        return PyUnicode_FromFormat("<built-in method %S.%s>", modname, fn->m_ml->ml_name);
    return PyUnicode_FromFormat("<built-in method %s>", fn->m_ml->ml_name);
}

uint32_t hp_func_reg_cfunc_slow(hp_func_reg *r, PyMethodDef *ml, PyObject *cfunc)
{
    uint32_t id;
    if (hp_ptrmap_get(&r->by_addr, ml, &id))
        return id;
    PyObject *label = cfunc_label(cfunc);
    if (!label)
        return HP_FUNC_NONE;
    hp_func_entry e = {NULL, NULL, label, Py_NewRef(label), 0, 0};
    id = append(r, e);
    if (id == HP_FUNC_NONE)
        return HP_FUNC_NONE;
    if (hp_ptrmap_put(&r->by_addr, ml, id) < 0) {
        PyErr_NoMemory();
        return HP_FUNC_NONE;
    }
    return id;
}

PyObject *hp_func_reg_export(hp_func_reg *r)
{
    PyObject *list = PyList_New(r->n);
    if (!list)
        return NULL;
    for (uint32_t i = 0; i < r->n; i++) {
        const hp_func_entry *e = &r->entries[i];
        PyObject *item;
        if (e->filename) {
            /* Take the code before allocating anything: an allocation can run the
             * collector, which can free the code object (and clear e->code). */
            PyObject *code = e->code ? Py_NewRef(e->code) : Py_NewRef(Py_None);
            item =
                Py_BuildValue("(OiOON)", e->filename, e->firstlineno, e->name, e->qualname, code);
        } else
            item = Py_BuildValue("(siOOO)", "~", 0, e->name, e->qualname, e->name);
        if (!item) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, item);
    }
    return list;
}
