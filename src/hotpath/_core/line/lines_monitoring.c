/* lines_monitoring.c — the line profiler's events on CPython 3.12+, through sys.monitoring.
 *
 * The tracer takes the first free tool id of HP_TOOLS_LINES (monitoring.h: 4, else 3 —
 * not 5, the function profiler's first choice, so lines and functions record together;
 * not 2, cProfile's) and registers C callbacks bound to itself (METH_FASTCALL). LINE, PY_START, PY_RESUME,
 * PY_RETURN and PY_YIELD are local events, switched on only for the active code objects
 * (set_local_events); PY_THROW, PY_UNWIND, RAISE and RERAISE can only be global, so
 * their callbacks see every code object and drop the ones hp_line_store_lookup does not
 * know. A frame is identified by its interpreter frame's address, the thread's current
 * frame while its callback runs (hp_current_frame_key).
 *
 * Callbacks never raise. While recording, LINE returns DISABLE for a code object that is
 * not active (sys.monitoring then stops sending that location's LINE event); the other
 * callbacks always return None (DISABLE is not allowed for the global-only events).
 */
#include "common/monitoring.h"
#include "lineprof.h"

#if HP_HAVE_MONITORING

static const int tool_ids[] = HP_TOOLS_LINES; /* preference order; see above */
#  define TOOL_NAME "hotpath-lines"
static PyObject *disable_obj = NULL; /* sys.monitoring.DISABLE (strong; GIL) */

/* LINE(code, line_number) */
static PyObject *mon_line(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_line_tracer *tr = (hp_line_tracer *)self;
    hp_line_code *lc;
    if (!tr->recording || nargs < 2 || !(lc = hp_line_store_lookup(&tr->store, args[0])))
        return Py_NewRef(tr->recording ? disable_obj : Py_None);
    long line = PyLong_AsLong(args[1]);
    if (line == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    hp_line_on_line(tr, lc, hp_current_frame_key(), (int)line);
    Py_RETURN_NONE;
}

/* PY_START / PY_RESUME / PY_THROW (code, offset[, exc]) */
static PyObject *mon_enter(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_line_tracer *tr = (hp_line_tracer *)self;
    hp_line_code *lc;
    if (tr->recording && nargs >= 1 && (lc = hp_line_store_lookup(&tr->store, args[0])))
        hp_line_on_start(tr, lc, hp_current_frame_key());
    Py_RETURN_NONE;
}

/* PY_RETURN / PY_YIELD / PY_UNWIND (code, offset, value) */
static PyObject *mon_leave(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_line_tracer *tr = (hp_line_tracer *)self;
    hp_line_code *lc;
    if (tr->recording && nargs >= 1 && (lc = hp_line_store_lookup(&tr->store, args[0])))
        hp_line_on_leave(tr, lc, hp_current_frame_key(), 1);
    Py_RETURN_NONE;
}

/* RAISE / RERAISE (code, offset, exc): the line ends here, as line_profiler counts it. */
static PyObject *mon_raise(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_line_tracer *tr = (hp_line_tracer *)self;
    hp_line_code *lc;
    if (tr->recording && nargs >= 1 && (lc = hp_line_store_lookup(&tr->store, args[0])))
        hp_line_on_leave(tr, lc, hp_current_frame_key(), 0);
    Py_RETURN_NONE;
}

#  define CB(name, fn)                                           \
    {                                                            \
      name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL, NULL \
    }
static PyMethodDef cb_line = CB("_hotpath_lines_line", mon_line);
static PyMethodDef cb_enter = CB("_hotpath_lines_enter", mon_enter);
static PyMethodDef cb_leave = CB("_hotpath_lines_leave", mon_leave);
static PyMethodDef cb_raise = CB("_hotpath_lines_raise", mon_raise);

static const struct {
    const char *event;
    PyMethodDef *def;
    int local;
} mon_table[] = {
    {"LINE", &cb_line, 1},       {"PY_START", &cb_enter, 1}, {"PY_RESUME", &cb_enter, 1},
    {"PY_RETURN", &cb_leave, 1}, {"PY_YIELD", &cb_leave, 1}, {"PY_THROW", &cb_enter, 0},
    {"PY_UNWIND", &cb_leave, 0}, {"RAISE", &cb_raise, 0},    {"RERAISE", &cb_raise, 0},
};
#  define N_MON (int)(sizeof mon_table / sizeof mon_table[0])
static long local_mask = 0, global_mask = 0; /* from sys.monitoring.events; GIL */

/* Borrowed reference to sys.monitoring, or NULL with an exception set. */
static PyObject *monitoring(void)
{
    PyObject *mon = PySys_GetObject("monitoring");
    if (!mon)
        PyErr_SetString(PyExc_RuntimeError, "sys.monitoring is missing");
    return mon;
}

/* Register our callbacks (on) or None (off) for every event; 0 / -1. */
static int mon_register(hp_line_tracer *tr, PyObject *mon, int on)
{
    PyObject *events = PyObject_GetAttrString(mon, "events");
    if (!events)
        return -1;
    long local = 0, global = 0;
    for (int i = 0; i < N_MON; i++) {
        long bit;
        if (hp_monitoring_register(mon, events, tr->tool_id, mon_table[i].event,
                                   on ? mon_table[i].def : NULL, (PyObject *)tr, &bit) < 0) {
            Py_DECREF(events);
            return -1;
        }
        if (mon_table[i].local)
            local |= bit;
        else
            global |= bit;
    }
    Py_DECREF(events);
    local_mask = local;
    global_mask = global;
    return 0;
}

/* Switch the local events of one code object on or off; 0 / -1. */
static int mon_set_code(hp_line_tracer *tr, hp_line_code *lc, int on)
{
    PyObject *mon = monitoring();
    if (!mon)
        return -1;
    PyObject *r = PyObject_CallMethod(mon, "set_local_events", "iOl", tr->tool_id, lc->code,
                                      on ? local_mask : 0L);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

int hp_line_source_start(hp_line_tracer *tr)
{
    PyObject *mon = monitoring();
    if (!mon)
        return -1;
    if (!disable_obj && !(disable_obj = PyObject_GetAttrString(mon, "DISABLE")))
        return -1;
    tr->tool_id = hp_monitoring_take_tool(mon, TOOL_NAME, tool_ids,
                                          (int)(sizeof tool_ids / sizeof tool_ids[0]));
    if (tr->tool_id < 0)
        return -1;
    PyObject *r;
    if (mon_register(tr, mon, 1) < 0 ||
        !(r = PyObject_CallMethod(mon, "set_events", "il", tr->tool_id, global_mask)))
        goto undo;
    Py_DECREF(r);
    for (uint32_t i = 0; i < tr->store.n_codes; i++) {
        if (tr->store.codes[i]->active && mon_set_code(tr, tr->store.codes[i], 1) < 0)
            goto undo;
    }
    return 0;
undo : {
    hp_saved_exc saved;
    hp_exc_save(&saved); /* nothing stays installed */
    for (uint32_t i = 0; i < tr->store.n_codes; i++) {
        if (tr->store.codes[i]->active)
            mon_set_code(tr, tr->store.codes[i], 0);
    }
    PyErr_Clear();
    Py_XDECREF(PyObject_CallMethod(mon, "set_events", "ii", tr->tool_id, 0));
    PyErr_Clear();
    mon_register(tr, mon, 0);
    PyErr_Clear();
    hp_monitoring_release_tool(mon, tr->tool_id, TOOL_NAME);
    tr->tool_id = -1;
    hp_exc_restore(&saved);
    return -1;
}
}

int hp_line_source_stop(hp_line_tracer *tr)
{
    PyObject *mon = monitoring();
    if (!mon)
        return -1;
    int rc = 0;
    for (uint32_t i = 0; i < tr->store.n_codes; i++) {
        if (tr->store.codes[i]->active && mon_set_code(tr, tr->store.codes[i], 0) < 0)
            rc = -1;
    }
    PyObject *r = PyObject_CallMethod(mon, "set_events", "ii", tr->tool_id, 0);
    if (!r || mon_register(tr, mon, 0) < 0)
        rc = -1;
    Py_XDECREF(r);
    hp_monitoring_release_tool(mon, tr->tool_id, TOOL_NAME);
    return rc;
}

/* Switch the new active code object's local events on. */
int hp_line_source_activate(hp_line_tracer *tr, hp_line_code *lc)
{
    return mon_set_code(tr, lc, 1);
}

#endif /* HP_HAVE_MONITORING */
