/* floor.c — a do-nothing hook on the same events hotpath uses: the benchmarks' floor.
 *
 * NullHook().enable() installs, for the running interpreter's event source, hooks that
 * return at once (3.11: a C profile hook on the current thread; 3.12+: C callbacks for the
 * same sys.monitoring events as the profiler, under the same tool id). What the floor
 * costs is what the interpreter charges to deliver events; a profiler cannot go below it.
 */
#include "compat.h"
#include "module.h"

typedef struct {
    PyObject_HEAD
    int enabled;
    int builtins;
} hp_floor;

#if HP_HAVE_MONITORING
static PyObject *nothing(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_RETURN_NONE;
}
static PyMethodDef nothing_def = {"_hotpath_nothing", (PyCFunction)(void (*)(void))nothing,
                                  METH_FASTCALL, NULL};
static const char *events[] = {"PY_START", "PY_RESUME", "PY_THROW", "PY_RETURN", "PY_YIELD",
                               "PY_UNWIND", "CALL", "C_RETURN", "C_RAISE"};

/* Register `on` ? the do-nothing callback : None for the events; 0 / -1. */
static int floor_register(hp_floor *f, int on)
{
    PyObject *mon = PySys_GetObject("monitoring");   /* borrowed */
    PyObject *evs = mon ? PyObject_GetAttrString(mon, "events") : NULL;
    if (!evs)
        return -1;
    PyObject *cb = on ? PyCFunction_NewEx(&nothing_def, (PyObject *)f, NULL) : Py_NewRef(Py_None);
    long mask = 0;
    int rc = cb ? 0 : -1;
    int n = f->builtins ? 9 : 6;
    for (int i = 0; i < 9 && rc == 0; i++) {
        PyObject *ev = PyObject_GetAttrString(evs, events[i]);
        PyObject *r = ev ? PyObject_CallMethod(mon, "register_callback", "iOO", 2, ev,
                                               (i < n) ? cb : Py_None) : NULL;
        if (i < n && ev)
            mask |= PyLong_AsLong(ev);
        Py_XDECREF(ev);
        if (!r)
            rc = -1;
        Py_XDECREF(r);
    }
    Py_XDECREF(cb);
    Py_DECREF(evs);
    if (rc == 0) {
        PyObject *r = PyObject_CallMethod(mon, "set_events", "il", 2, on ? mask : 0L);
        rc = r ? 0 : -1;
        Py_XDECREF(r);
    }
    return rc;
}
#else
static int null_hook(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    return 0;
}
#endif

static PyObject *Floor_enable(hp_floor *f, PyObject *Py_UNUSED(ignored))
{
    if (f->enabled)
        Py_RETURN_NONE;
#if HP_HAVE_MONITORING
    PyObject *mon = PySys_GetObject("monitoring");
    PyObject *r = mon ? PyObject_CallMethod(mon, "use_tool_id", "is", 2, "hotpath-floor") : NULL;
    if (!r)
        return NULL;
    Py_DECREF(r);
    if (floor_register(f, 1) < 0)
        return NULL;
#else
    PyEval_SetProfile(null_hook, (PyObject *)f);
#endif
    f->enabled = 1;
    Py_RETURN_NONE;
}

static PyObject *Floor_disable(hp_floor *f, PyObject *Py_UNUSED(ignored))
{
    if (!f->enabled)
        Py_RETURN_NONE;
    f->enabled = 0;
#if HP_HAVE_MONITORING
    if (floor_register(f, 0) < 0)
        return NULL;
    PyObject *r = PyObject_CallMethod(PySys_GetObject("monitoring"), "free_tool_id", "i", 2);
    if (!r)
        return NULL;
    Py_DECREF(r);
#else
    PyEval_SetProfile(NULL, NULL);
#endif
    Py_RETURN_NONE;
}

static int Floor_init(hp_floor *f, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"builtins", NULL};
    f->builtins = 1;
    return PyArg_ParseTupleAndKeywords(args, kwds, "|p:NullHook", kwlist, &f->builtins) ? 0 : -1;
}

static void Floor_dealloc(hp_floor *f)
{
    PyTypeObject *tp = Py_TYPE(f);
    tp->tp_free(f);
    Py_DECREF(tp);
}

static PyMethodDef Floor_methods[] = {
    {"enable", (PyCFunction)Floor_enable, METH_NOARGS, "Install the do-nothing hooks."},
    {"disable", (PyCFunction)Floor_disable, METH_NOARGS, "Remove them."},
    {NULL}
};

static PyType_Slot Floor_slots[] = {
    {Py_tp_doc, "NullHook(builtins=True): do-nothing hooks on hotpath's events (the floor)."},
    {Py_tp_init, Floor_init},
    {Py_tp_dealloc, Floor_dealloc},
    {Py_tp_methods, Floor_methods},
    {0, NULL}
};

PyType_Spec hp_floor_spec = {
    .name = "hotpath._core.NullHook",
    .basicsize = sizeof(hp_floor),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Floor_slots,
};
