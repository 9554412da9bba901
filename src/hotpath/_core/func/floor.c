/* floor.c — a do-nothing hook on the same events hotpath uses: the benchmarks' floor.
 *
 * NullHook().enable() installs, for the running interpreter's event source, hooks that
 * return at once (3.11: a C profile hook on the current thread; 3.12+: C callbacks for the
 * profiler's own sys.monitoring event table, hp_monitoring_func_events, under a tool id taken the
 * profiler's way — monitoring.h — so it runs wherever the profiler does, cProfile too).
 * What the floor costs is what the interpreter charges to deliver events; a profiler
 * cannot go below it.
 */
#include "common/compat.h"
#include "common/module.h"
#include "common/monitoring.h"

typedef struct {
    PyObject_HEAD
    int enabled;
    int builtins;
    int tool_id; /* 3.12+: the sys.monitoring tool id held while enabled, or -1 */
} hp_func_floor;

#if HP_HAVE_MONITORING
#  define TOOL_NAME "hotpath-floor"
static const int tool_ids[] = HP_TOOLS_FUNC; /* the profiler's order: same footing */

static PyObject *nothing(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_RETURN_NONE;
}
static PyMethodDef nothing_def = {"_hotpath_nothing", (PyCFunction)(void (*)(void))nothing,
                                  METH_FASTCALL, NULL};

/* Register `on` ? the do-nothing callback : None for the profiler's events
 * (hp_monitoring_func_events; the builtin ones only with builtins=True) and set the tool's events
 * to match. 0 / -1. */
static int floor_register(hp_func_floor *f, PyObject *mon, int on)
{
    PyObject *evs = PyObject_GetAttrString(mon, "events");
    if (!evs)
        return -1;
    long mask = 0;
    int rc = 0;
    for (int i = 0; i < hp_monitoring_n_func_events && rc == 0; i++) {
        int wanted = on && (f->builtins || !hp_monitoring_func_events[i].builtin);
        long bit;
        rc = hp_monitoring_register(mon, evs, f->tool_id, hp_monitoring_func_events[i].name,
                                    wanted ? &nothing_def : NULL, (PyObject *)f, &bit);
        if (wanted)
            mask |= bit;
    }
    Py_DECREF(evs);
    if (rc == 0) {
        PyObject *r = PyObject_CallMethod(mon, "set_events", "il", f->tool_id, on ? mask : 0L);
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

static PyObject *Floor_enable(hp_func_floor *f, PyObject *Py_UNUSED(ignored))
{
    if (f->enabled)
        Py_RETURN_NONE;
#if HP_HAVE_MONITORING
    PyObject *mon = PySys_GetObject("monitoring"); /* borrowed */
    if (!mon)
        return NULL;
    f->tool_id = hp_monitoring_take_tool(mon, TOOL_NAME, tool_ids,
                                         (int)(sizeof tool_ids / sizeof tool_ids[0]));
    if (f->tool_id < 0)
        return NULL;
    if (floor_register(f, mon, 1) < 0) {
        hp_saved_exc saved; /* nothing stays installed */
        hp_exc_save(&saved);
        floor_register(f, mon, 0);
        PyErr_Clear();
        hp_monitoring_release_tool(mon, f->tool_id, TOOL_NAME);
        f->tool_id = -1;
        hp_exc_restore(&saved);
        return NULL;
    }
#else
    PyEval_SetProfile(null_hook, (PyObject *)f);
#endif
    f->enabled = 1;
    Py_RETURN_NONE;
}

static PyObject *Floor_disable(hp_func_floor *f, PyObject *Py_UNUSED(ignored))
{
    if (!f->enabled)
        Py_RETURN_NONE;
    f->enabled = 0;
#if HP_HAVE_MONITORING
    PyObject *mon = PySys_GetObject("monitoring"); /* borrowed */
    if (!mon)
        return NULL;
    int rc = floor_register(f, mon, 0);
    hp_monitoring_release_tool(mon, f->tool_id, TOOL_NAME);
    f->tool_id = -1;
    if (rc < 0)
        return NULL;
#else
    PyEval_SetProfile(NULL, NULL);
#endif
    Py_RETURN_NONE;
}

static int Floor_init(hp_func_floor *f, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"builtins", NULL};
    f->builtins = 1;
    f->tool_id = -1;
    return PyArg_ParseTupleAndKeywords(args, kwds, "|p:NullHook", kwlist, &f->builtins) ? 0 : -1;
}

static void Floor_dealloc(hp_func_floor *f)
{
    PyTypeObject *tp = Py_TYPE(f);
    tp->tp_free(f);
    Py_DECREF(tp);
}

static PyMethodDef Floor_methods[] = {
    {"enable", (PyCFunction)Floor_enable, METH_NOARGS, "Install the do-nothing hooks."},
    {"disable", (PyCFunction)Floor_disable, METH_NOARGS, "Remove them."},
    {NULL}};

static PyType_Slot Floor_slots[] = {
    {Py_tp_doc, "NullHook(builtins=True): do-nothing hooks on hotpath's events (the floor)."},
    {Py_tp_init, Floor_init},
    {Py_tp_dealloc, Floor_dealloc},
    {Py_tp_methods, Floor_methods},
    {0, NULL}};

PyType_Spec hp_func_floor_spec = {
    .name = "hotpath._core.NullHook",
    .basicsize = sizeof(hp_func_floor),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Floor_slots,
};
