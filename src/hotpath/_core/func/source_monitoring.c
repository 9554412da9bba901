/* source_monitoring.c — events on CPython 3.12+, through sys.monitoring.
 *
 * hotpath takes the first free sys.monitoring tool id of HP_TOOLS_FUNC (monitoring.h: 5,
 * else 3, else 2 — cProfile's id last, so that a program run under hotpath can still use
 * cProfile) and registers, for the events of monitoring.h's hp_monitoring_func_events, callbacks
 * that are C functions (METH_FASTCALL, bound to the profiler): PY_START/PY_RESUME/PY_THROW
 * enter a Python frame, PY_RETURN/PY_YIELD/PY_UNWIND leave it; CALL enters a C function
 * (a PyCFunction, or a method descriptor called with its self), C_RETURN/C_RAISE leave
 * it. Events are global, so every thread is covered. Callbacks always return None:
 * DISABLE is not allowed for PY_UNWIND/C_RAISE, and the CALL site of a C function may
 * call Python code next time.
 */
#include "funcprof.h"
#include "common/monitoring.h"

#if HP_HAVE_MONITORING

static PyObject *missing; /* sys.monitoring.MISSING; protected by the GIL */

/* The callbacks are ordinary callables (sys.monitoring.register_callback returns them):
 * each checks the one argument it reads, so a call from Python code cannot crash. */
static PyObject *mon_py_start(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs >= 1 && PyCode_Check(args[0]))
        hp_func_on_py_start((hp_func_profiler *)self, (PyCodeObject *)args[0]);
    Py_RETURN_NONE;
}

static PyObject *mon_py_leave(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_func_on_return((hp_func_profiler *)self);
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
__attribute__((cold, noinline)) static void
descriptor_first_call(hp_func_profiler *p, PyMethodDef *ml, PyObject *descr, PyObject *self_arg)
{
    hp_saved_exc saved;
    hp_exc_save(&saved);
    PyObject *bound = Py_TYPE(descr)->tp_descr_get(descr, self_arg, (PyObject *)Py_TYPE(self_arg));
    if (bound && PyCFunction_Check(bound))
        hp_func_on_c_call(p, ml, bound);
    else
        hp_func_fail(p, HP_FUNC_ERR_INTERNAL);
    Py_XDECREF(bound);
    hp_exc_restore(&saved);
}

static PyObject *mon_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_func_profiler *p = (hp_func_profiler *)self;
    if (!p->recording || nargs < 4)
        Py_RETURN_NONE;
    PyObject *callable = args[2];
    PyMethodDef *ml = c_method(callable, args[3]);
    if (ml && !hp_func_on_c_call(p, ml, PyCFunction_Check(callable) ? callable : NULL))
        descriptor_first_call(p, ml, callable, args[3]);
    Py_RETURN_NONE;
}

static PyObject *mon_c_leave(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_func_profiler *p = (hp_func_profiler *)self;
    if (p->recording && nargs >= 4 && c_method(args[2], args[3]))
        hp_func_on_return(p);
    Py_RETURN_NONE;
}

/* threading's profile hook for new threads, (frame, event, arg) -> None: by then the
 * Thread is registered, so its name can be read; then it removes itself. */
static PyObject *thread_namer(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_func_profiler *p = (hp_func_profiler *)self;
    if (p->recording)
        hp_func_name_thread(p);
    PyEval_SetProfile(NULL, NULL);
    Py_RETURN_NONE;
}

#  define CB(name, fn)                                           \
    {                                                            \
      name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL, NULL \
    }
static PyMethodDef cb_py_start = CB("_hotpath_py_start", mon_py_start);
static PyMethodDef cb_py_leave = CB("_hotpath_py_leave", mon_py_leave);
static PyMethodDef cb_call = CB("_hotpath_call", mon_call);
static PyMethodDef cb_c_leave = CB("_hotpath_c_leave", mon_c_leave);
static PyMethodDef cb_namer = CB("_hotpath_thread_namer", thread_namer);

/* The callback for each kind of event of hp_monitoring_func_events. */
static PyMethodDef *const callbacks[] = {
    [HP_EV_ENTER] = &cb_py_start,
    [HP_EV_LEAVE] = &cb_py_leave,
    [HP_EV_C_CALL] = &cb_call,
    [HP_EV_C_LEAVE] = &cb_c_leave,
};
static const int tool_ids[] = HP_TOOLS_FUNC;
#  define TOOL_NAME "hotpath"

/* New reference to sys.monitoring, or NULL with an exception set. */
static PyObject *monitoring(void)
{
    return PySys_GetObject("monitoring") ?
        Py_NewRef(PySys_GetObject("monitoring")) :
        (PyErr_SetString(PyExc_RuntimeError, "sys.monitoring is missing"), NULL);
}

/* Register our callbacks (with_callbacks) or None for every event of hp_monitoring_func_events;
 * with builtins false, only for the Python-frame events. 0 / -1. `mask` gets the events. */
static int register_all(PyObject *mon, hp_func_profiler *p, int with_callbacks, long *mask)
{
    PyObject *events = PyObject_GetAttrString(mon, "events");
    if (!events)
        return -1;
    *mask = 0;
    for (int i = 0; i < hp_monitoring_n_func_events; i++) {
        const hp_monitoring_event *ev = &hp_monitoring_func_events[i];
        if (with_callbacks && ev->builtin && !p->builtins)
            continue;
        long bit;
        if (hp_monitoring_register(mon, events, p->tool_id, ev->name,
                                   with_callbacks ? callbacks[ev->kind] : NULL, (PyObject *)p,
                                   &bit) < 0) {
            Py_DECREF(events);
            return -1;
        }
        *mask |= bit;
    }
    Py_DECREF(events);
    return 0;
}

int hp_func_source_start(hp_func_profiler *p)
{
    PyObject *mon = monitoring();
    if (!mon)
        return -1;
    if (!missing && !(missing = PyObject_GetAttrString(mon, "MISSING")))
        goto fail;
    if ((p->tool_id = hp_monitoring_take_tool(mon, TOOL_NAME, tool_ids,
                                              (int)(sizeof tool_ids / sizeof tool_ids[0]))) < 0)
        goto fail;
    long mask;
    PyObject *r;
    PyObject *namer = NULL;
    if (register_all(mon, p, 1, &mask) < 0 ||
        !(r = PyObject_CallMethod(mon, "set_events", "il", p->tool_id, mask)))
        goto undo;
    Py_DECREF(r);
    namer = PyCFunction_NewEx(&cb_namer, (PyObject *)p, NULL);
    if (!namer || hp_newthreads_take(&p->threads_hook, HP_NEWTHREADS_PROFILE, namer) < 0)
        goto undo;
    Py_DECREF(namer);
    Py_DECREF(mon);
    return 0;
undo : {
    hp_saved_exc saved; /* nothing stays installed */
    hp_exc_save(&saved);
    Py_XDECREF(namer);
    Py_XDECREF(PyObject_CallMethod(mon, "set_events", "ii", p->tool_id, 0));
    PyErr_Clear();
    register_all(mon, p, 0, &mask);
    PyErr_Clear();
    hp_monitoring_release_tool(mon, p->tool_id, TOOL_NAME);
    p->tool_id = -1;
    hp_exc_restore(&saved);
}
fail:
    Py_DECREF(mon);
    return -1;
}

int hp_func_source_stop(hp_func_profiler *p)
{
    PyObject *mon = monitoring();
    if (!mon)
        return -1;
    long mask;
    int rc = 0;
    if (p->tool_id >= 0) {
        PyObject *r = PyObject_CallMethod(mon, "set_events", "ii", p->tool_id, 0);
        rc = (r && register_all(mon, p, 0, &mask) == 0) ? 0 : -1;
        Py_XDECREF(r);
        hp_monitoring_release_tool(mon, p->tool_id, TOOL_NAME);
        p->tool_id = -1;
    }
    Py_DECREF(mon);
    if (hp_newthreads_give_back(&p->threads_hook, HP_NEWTHREADS_PROFILE) < 0)
        rc = -1;
    return rc;
}

#endif /* HP_HAVE_MONITORING */
