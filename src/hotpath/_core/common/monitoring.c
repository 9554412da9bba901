/* monitoring.c — see monitoring.h. */
#include "monitoring.h"

#if HP_HAVE_MONITORING
const hp_monitoring_event hp_monitoring_func_events[] = {
    {"PY_START", HP_EV_ENTER, 0},  {"PY_RESUME", HP_EV_ENTER, 0},  {"PY_THROW", HP_EV_ENTER, 0},
    {"PY_RETURN", HP_EV_LEAVE, 0}, {"PY_YIELD", HP_EV_LEAVE, 0},   {"PY_UNWIND", HP_EV_LEAVE, 0},
    {"CALL", HP_EV_C_CALL, 1},     {"C_RETURN", HP_EV_C_LEAVE, 1}, {"C_RAISE", HP_EV_C_LEAVE, 1},
};
const int hp_monitoring_n_func_events =
    (int)(sizeof hp_monitoring_func_events / sizeof hp_monitoring_func_events[0]);

/* Set the "all taken" RuntimeError: "... ids 5 (held by 'x'), 3 (...) and 2 (...) ...". */
static void all_taken(PyObject *mon, const char *name, const int *order, int n)
{
    PyObject *ids = PyUnicode_FromString("");
    for (int i = 0; i < n && ids; i++) {
        PyObject *holder = PyObject_CallMethod(mon, "get_tool", "i", order[i]);
        const char *sep = i == 0 ? "" : (i == n - 1 ? " and " : ", ");
        PyObject *part =
            holder ? PyUnicode_FromFormat("%s%d (held by %R)", sep, order[i], holder) : NULL;
        Py_XDECREF(holder);
        Py_XSETREF(ids, part ? PyUnicode_Concat(ids, part) : NULL);
        Py_XDECREF(part);
    }
    if (!ids)
        return;
    /* profiler.py turns errors starting "another profiler is active" into ProfilerActiveError */
    PyErr_Format(PyExc_RuntimeError,
                 "another profiler is active: sys.monitoring tool ids %U are all taken; stop "
                 "one of the tools holding them before enabling %s",
                 ids, name);
    Py_DECREF(ids);
}

int hp_monitoring_take_tool(PyObject *mon, const char *name, const int *order, int n)
{
    for (int i = 0; i < n; i++) {
        PyObject *holder = PyObject_CallMethod(mon, "get_tool", "i", order[i]);
        if (!holder)
            return -1;
        int free_id = holder == Py_None;
        Py_DECREF(holder);
        if (!free_id)
            continue;
        PyObject *r = PyObject_CallMethod(mon, "use_tool_id", "is", order[i], name);
        if (!r)
            return -1;
        Py_DECREF(r);
        return order[i];
    }
    all_taken(mon, name, order, n);
    return -1;
}

void hp_monitoring_release_tool(PyObject *mon, int tool, const char *name)
{
    if (tool < 0)
        return;
    hp_saved_exc saved;
    hp_exc_save(&saved);
    PyObject *holder = PyObject_CallMethod(mon, "get_tool", "i", tool);
    if (holder && PyUnicode_Check(holder) && PyUnicode_CompareWithASCIIString(holder, name) == 0)
        Py_XDECREF(PyObject_CallMethod(mon, "free_tool_id", "i", tool));
    Py_XDECREF(holder);
    PyErr_Clear();
    hp_exc_restore(&saved);
}

int hp_monitoring_register(PyObject *mon, PyObject *events, int tool, const char *event,
                           PyMethodDef *def, PyObject *self, long *bit)
{
    PyObject *ev = PyObject_GetAttrString(events, event);
    *bit = ev ? PyLong_AsLong(ev) : -1;
    PyObject *cb = def ? PyCFunction_NewEx(def, self, NULL) : Py_NewRef(Py_None);
    PyObject *r = (ev && cb && *bit >= 0) ?
        PyObject_CallMethod(mon, "register_callback", "iOO", tool, ev, cb) :
        NULL;
    Py_XDECREF(ev);
    Py_XDECREF(cb);
    Py_XDECREF(r);
    return r ? 0 : -1;
}
#endif
