/* funcreg.c — registering functions on first sight and labelling C functions. */
#include "funcreg.h"

#include <stdlib.h>

_Static_assert(sizeof(void *) >= 8, "co_extra values pack a session tag and an id");

Py_ssize_t hp_funcreg_extra_index = -1;

/* Append an entry (steals `code` and `label`). Returns the id or HP_NO_FUNC. */
static uint32_t append(hp_funcreg *r, PyObject *code, PyObject *label)
{
    if (r->n == r->cap) {
        uint32_t cap = r->cap ? r->cap * 2 : 256;
        hp_funcentry *e = realloc(r->entries, (size_t)cap * sizeof *e);
        if (!e) {
            Py_XDECREF(code);
            Py_XDECREF(label);
            PyErr_NoMemory();
            return HP_NO_FUNC;
        }
        r->entries = e;
        r->cap = cap;
    }
    r->entries[r->n].code = code;
    r->entries[r->n].label = label;
    return r->n++;
}

int hp_funcreg_init(hp_funcreg *r, uint32_t session32)
{
    memset(r, 0, sizeof *r);
    r->session32 = session32 ? session32 : 1;
    PyObject *label = PyUnicode_FromString("<hotpath: call tree size cap reached>");
    if (!label)
        return -1;
    return append(r, NULL, label) == HP_NO_FUNC ? -1 : 0;
}

void hp_funcreg_clear(hp_funcreg *r)
{
    for (uint32_t i = 0; i < r->n; i++) {
        Py_XDECREF(r->entries[i].code);
        Py_XDECREF(r->entries[i].label);
    }
    free(r->entries);
    hp_ptrmap_clear(&r->by_addr);
    r->entries = NULL;
    r->n = r->cap = 0;
}

uint32_t hp_funcreg_code_slow(hp_funcreg *r, PyCodeObject *co)
{
    uint32_t id;
    if (!hp_ptrmap_get(&r->by_addr, co, &id)) {
        id = append(r, Py_NewRef((PyObject *)co), NULL);
        if (id == HP_NO_FUNC)
            return HP_NO_FUNC;
        if (hp_ptrmap_put(&r->by_addr, co, id) < 0) {
            PyErr_NoMemory();
            return HP_NO_FUNC;
        }
    }
    uintptr_t v = (uintptr_t)r->session32 << 32 | id;
    if (hp_code_set_extra((PyObject *)co, hp_funcreg_extra_index, (void *)v) < 0)
        PyErr_Clear();   /* only a missed cache; the address map still answers */
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

uint32_t hp_funcreg_cfunc_slow(hp_funcreg *r, PyMethodDef *ml, PyObject *cfunc)
{
    uint32_t id;
    if (hp_ptrmap_get(&r->by_addr, ml, &id))
        return id;
    PyObject *label = cfunc_label(cfunc);
    if (!label)
        return HP_NO_FUNC;
    id = append(r, NULL, label);
    if (id == HP_NO_FUNC)
        return HP_NO_FUNC;
    if (hp_ptrmap_put(&r->by_addr, ml, id) < 0) {
        PyErr_NoMemory();
        return HP_NO_FUNC;
    }
    return id;
}

PyObject *hp_funcreg_export(hp_funcreg *r)
{
    PyObject *list = PyList_New(r->n);
    if (!list)
        return NULL;
    for (uint32_t i = 0; i < r->n; i++) {
        hp_funcentry *e = &r->entries[i];
        PyObject *item;
        if (e->code) {
            PyCodeObject *co = (PyCodeObject *)e->code;
            item = Py_BuildValue("(OiOOO)", co->co_filename, co->co_firstlineno,
                                 co->co_name, hp_code_qualname(co), co);
        }
        else
            item = Py_BuildValue("(siOOO)", "~", 0, e->label, e->label, e->label);
        if (!item) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, item);
    }
    return list;
}
