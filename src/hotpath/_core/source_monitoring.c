/* source_monitoring.c — events on CPython 3.12+, through sys.monitoring.
 *
 * hotpath takes the profiler tool id (2, as cProfile does) and registers callbacks that
 * are C functions (METH_FASTCALL, bound to the profiler): PY_START/PY_RESUME/PY_THROW
 * enter a Python frame, PY_RETURN/PY_YIELD/PY_UNWIND leave it; CALL enters a C function
 * (a PyCFunction, or a method descriptor called with its self), C_RETURN/C_RAISE leave
 * it. Events are global, so every thread is covered. Callbacks always return None:
 * DISABLE is not allowed for PY_UNWIND/C_RAISE, and the CALL site of a C function may
 * call Python code next time.
 */
#include "funcprof.h"
#include "newthreads.h"

#if HP_HAVE_MONITORING

#define HP_TOOL_ID 2          /* sys.monitoring.PROFILER_ID */

static PyObject *missing;     /* sys.monitoring.MISSING; protected by the GIL */

static PyObject *mon_py_start(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_on_py_start((hp_profiler *)self, (PyCodeObject *)args[0]);
    Py_RETURN_NONE;
}

static PyObject *mon_py_leave(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_on_return((hp_profiler *)self);
    Py_RETURN_NONE;
}

/* The PyMethodDef a CALL/C_RETURN/C_RAISE event is about, or NULL when it is not a C
 * function cProfile would record (the same test as _lsprof's get_cfunc_from_callable). */
static inline PyMethodDef *c_method(PyObject *callable, PyObject *self_arg)
{
    /* Most calls are to Python functions and classes: answer those without
     * PyCFunction_Check's subtype walk. */
    if (Py_IS_TYPE(callable, &PyFunction_Type) || Py_IS_TYPE(callable, &PyMethod_Type) ||
        PyType_Check(callable))
        return NULL;
    if (Py_IS_TYPE(callable, &PyCFunction_Type) || PyCFunction_Check(callable))
        return ((PyCFunctionObject *)callable)->m_ml;
    if (Py_IS_TYPE(callable, &PyMethodDescr_Type) && self_arg != missing &&
        PyObject_TypeCheck(self_arg, PyDescr_TYPE(callable)))
        return ((PyMethodDescrObject *)callable)->d_method;
    return NULL;
}

/* First sight of a method descriptor: label it as the bound method cProfile sees. */
__attribute__((cold, noinline))
static void descriptor_first_call(hp_profiler *p, PyMethodDef *ml, PyObject *descr,
                                  PyObject *self_arg)
{
    hp_saved_exc saved;
    hp_exc_save(&saved);
    PyObject *bound = Py_TYPE(descr)->tp_descr_get(descr, self_arg, (PyObject *)Py_TYPE(self_arg));
    if (bound && PyCFunction_Check(bound))
        hp_on_c_call(p, ml, bound);
    else
        hp_funcprof_fail(p, HP_ERR_INTERNAL);
    Py_XDECREF(bound);
    hp_exc_restore(&saved);
}

static PyObject *mon_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_profiler *p = (hp_profiler *)self;
    if (!p->recording || nargs < 4)
        Py_RETURN_NONE;
    PyObject *callable = args[2];
    PyMethodDef *ml = c_method(callable, args[3]);
    if (ml && !hp_on_c_call(p, ml, PyCFunction_Check(callable) ? callable : NULL))
        descriptor_first_call(p, ml, callable, args[3]);
    Py_RETURN_NONE;
}

static PyObject *mon_c_leave(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_profiler *p = (hp_profiler *)self;
    if (p->recording && nargs >= 4 && c_method(args[2], args[3]))
        hp_on_return(p);
    Py_RETURN_NONE;
}

/* threading's profile hook for new threads, (frame, event, arg) -> None: by then the
 * Thread is registered, so its name can be read; then it removes itself. */
static PyObject *thread_namer(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_profiler *p = (hp_profiler *)self;
    if (p->recording)
        hp_funcprof_name_thread(p);
    PyEval_SetProfile(NULL, NULL);
    Py_RETURN_NONE;
}

#define CB(name, fn) {name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL, NULL}
static PyMethodDef cb_py_start = CB("_hotpath_py_start", mon_py_start);
static PyMethodDef cb_py_leave = CB("_hotpath_py_leave", mon_py_leave);
static PyMethodDef cb_call = CB("_hotpath_call", mon_call);
static PyMethodDef cb_c_leave = CB("_hotpath_c_leave", mon_c_leave);
static PyMethodDef cb_namer = CB("_hotpath_thread_namer", thread_namer);

static const struct { const char *event; PyMethodDef *def; int builtin; } table[] = {
    {"PY_START", &cb_py_start, 0}, {"PY_RESUME", &cb_py_start, 0},
    {"PY_THROW", &cb_py_start, 0}, {"PY_RETURN", &cb_py_leave, 0},
    {"PY_YIELD", &cb_py_leave, 0}, {"PY_UNWIND", &cb_py_leave, 0},
    {"CALL", &cb_call, 1}, {"C_RETURN", &cb_c_leave, 1}, {"C_RAISE", &cb_c_leave, 1},
};
#define N_EVENTS (int)(sizeof table / sizeof table[0])

/* New reference to sys.monitoring, or NULL with an exception set. */
static PyObject *monitoring(void)
{
    return PySys_GetObject("monitoring") ? Py_NewRef(PySys_GetObject("monitoring"))
                                         : (PyErr_SetString(PyExc_RuntimeError, "sys.monitoring is missing"), NULL);
}

/* Register `cb` (a callable or None, borrowed) for every event of the table; with
 * builtins false, only for the Python-frame events. 0 / -1. `mask` gets the events. */
static int register_all(PyObject *mon, hp_profiler *p, int with_callbacks, long *mask)
{
    PyObject *events = PyObject_GetAttrString(mon, "events");
    if (!events)
        return -1;
    *mask = 0;
    for (int i = 0; i < N_EVENTS; i++) {
        if (with_callbacks && table[i].builtin && !p->builtins)
            continue;
        PyObject *ev = PyObject_GetAttrString(events, table[i].event);
        long bit = ev ? PyLong_AsLong(ev) : -1;
        PyObject *cb = with_callbacks ? PyCFunction_NewEx(table[i].def, (PyObject *)p, NULL)
                                      : Py_NewRef(Py_None);
        PyObject *r = (ev && cb && bit >= 0) ?
            PyObject_CallMethod(mon, "register_callback", "iOO", HP_TOOL_ID, ev, cb) : NULL;
        Py_XDECREF(ev);
        Py_XDECREF(cb);
        if (!r) {
            Py_DECREF(events);
            return -1;
        }
        Py_DECREF(r);
        *mask |= bit;
    }
    Py_DECREF(events);
    return 0;
}

int hp_source_start(hp_profiler *p)
{
    PyObject *mon = monitoring();
    if (!mon)
        return -1;
    if (!missing && !(missing = PyObject_GetAttrString(mon, "MISSING")))
        goto fail;
    PyObject *holder = PyObject_CallMethod(mon, "get_tool", "i", HP_TOOL_ID);
    if (!holder)
        goto fail;
    if (holder != Py_None) {
        PyErr_Format(PyExc_RuntimeError,
            "another profiler is active: sys.monitoring's profiler slot (tool id %d) is "
            "held by %R; stop it before enabling hotpath", HP_TOOL_ID, holder);
        Py_DECREF(holder);
        goto fail;
    }
    Py_DECREF(holder);
    PyObject *r = PyObject_CallMethod(mon, "use_tool_id", "is", HP_TOOL_ID, "hotpath");
    if (!r)
        goto fail;
    Py_DECREF(r);
    long mask;
    if (register_all(mon, p, 1, &mask) < 0 ||
        !(r = PyObject_CallMethod(mon, "set_events", "il", HP_TOOL_ID, mask))) {
        hp_saved_exc saved;
        hp_exc_save(&saved);
        register_all(mon, p, 0, &mask);
        Py_XDECREF(PyObject_CallMethod(mon, "free_tool_id", "i", HP_TOOL_ID));
        PyErr_Clear();
        hp_exc_restore(&saved);
        goto fail;
    }
    Py_DECREF(r);
    Py_DECREF(mon);
    PyObject *namer = PyCFunction_NewEx(&cb_namer, (PyObject *)p, NULL);
    int rc = namer ? hp_newthreads_set("setprofile", namer) : -1;
    Py_XDECREF(namer);
    if (rc < 0) {
        hp_saved_exc saved;
        hp_exc_save(&saved);
        hp_source_stop(p);
        hp_exc_restore(&saved);
    }
    return rc;
fail:
    Py_DECREF(mon);
    return -1;
}

int hp_source_stop(hp_profiler *p)
{
    PyObject *mon = monitoring();
    if (!mon)
        return -1;
    long mask;
    PyObject *r = PyObject_CallMethod(mon, "set_events", "ii", HP_TOOL_ID, 0);
    int rc = (r && register_all(mon, p, 0, &mask) == 0) ? 0 : -1;
    Py_XDECREF(r);
    if (rc == 0) {
        r = PyObject_CallMethod(mon, "free_tool_id", "i", HP_TOOL_ID);
        rc = r ? 0 : -1;
        Py_XDECREF(r);
    }
    Py_DECREF(mon);
    if (hp_newthreads_set("setprofile", Py_None) < 0)
        rc = -1;
    return rc;
}

#endif /* HP_HAVE_MONITORING */
