/* funcprof.c — the Profiler type: lifecycle, threads, the custom timer and snapshots.
 *
 * A Profiler owns its function table and one call tree per thread. enable() installs
 * the version's event source, disable() removes it and closes frames still open (as
 * cProfile's flush_unmatched does), snapshot() copies everything out as Python data for
 * the model. Only one profiler records at a time: the interpreter has one profiler slot.
 */
#include "funcprof.h"
#include "module.h"

#include <math.h>
#include <stdlib.h>

_Thread_local hp_tls_slot hp_tls HP_TLS_MODEL;
static uint64_t next_session = 1;      /* protected by the GIL */

/* ---- cold paths called from the hot path --------------------------------------- */

void hp_funcprof_fail(hp_profiler *p, int err)
{
    if (!p->error)
        p->error = err;
    p->recording = 0;
    PyErr_Clear();
}

/* The Thread object's _name, looked up without running Python code (plain dict and
 * attribute reads), or NULL for a thread the threading module does not know.
 * New reference; never raises (runs inside a hook, with the caller's exception saved). */
static PyObject *current_thread_name(unsigned long ident)
{
    PyObject *name = NULL, *modname = PyUnicode_FromString("threading");
    PyObject *threading = modname ? PyImport_GetModule(modname) : NULL;
    PyObject *active = threading ? PyObject_GetAttrString(threading, "_active") : NULL;
    PyObject *key = active ? PyLong_FromUnsignedLong(ident) : NULL;
    PyObject *thread = (key && PyDict_Check(active)) ? PyDict_GetItemWithError(active, key) : NULL;
    if (thread) {
        name = PyObject_GetAttrString(thread, "_name");
        if (name && !PyUnicode_Check(name))
            Py_CLEAR(name);
    }
    Py_XDECREF(key);
    Py_XDECREF(active);
    Py_XDECREF(threading);
    Py_XDECREF(modname);
    PyErr_Clear();
    return name;
}

hp_thread *hp_funcprof_new_thread(hp_profiler *p)
{
    hp_saved_exc saved;
    hp_exc_save(&saved);
    hp_thread *t = hp_calltree_new(p->max_nodes);
    if (!t) {
        hp_funcprof_fail(p, HP_ERR_NOMEMORY);
        hp_exc_restore(&saved);
        return NULL;
    }
    t->ident = PyThread_get_thread_ident();
    t->native_id = PyThread_get_thread_native_id();
    t->session = p->session;
    t->name = current_thread_name(t->ident);
    /* append, keeping first-seen order */
    hp_thread **tail = &p->threads;
    while (*tail)
        tail = &(*tail)->next;
    *tail = t;
    hp_tls.tree = t;
    hp_tls.session = p->session;
    hp_exc_restore(&saved);
    return t;
}

void hp_funcprof_name_thread(hp_profiler *p)
{
    hp_thread *t = hp_current_thread(p);
    if (t && !t->name) {
        hp_saved_exc saved;
        hp_exc_save(&saved);
        t->name = current_thread_name(t->ident);
        hp_exc_restore(&saved);
    }
}

/* Both node makers are out of line and marked cold, so the per-event callers keep a
 * short prologue. */
__attribute__((cold, noinline))
uint32_t hp_funcprof_new_code_node(hp_profiler *p, hp_thread *t, PyCodeObject *co)
{
    uint32_t id = hp_funcreg_code(&p->reg, co);
    uint32_t node = id == HP_NO_FUNC ? 0 : hp_calltree_add(t, co, id);
    if (!node)
        hp_funcprof_fail(p, HP_ERR_NOMEMORY);
    return node;
}

__attribute__((cold, noinline))
uint32_t hp_funcprof_new_cfunc_node(hp_profiler *p, hp_thread *t, PyMethodDef *ml,
                                    PyObject *cfunc)
{
    uint32_t id;
    if (!hp_funcreg_cfunc_known(&p->reg, ml, &id)) {
        if (!cfunc)
            return HP_NEED_LABEL;
        hp_saved_exc saved;
        hp_exc_save(&saved);
        id = hp_funcreg_cfunc_slow(&p->reg, ml, cfunc);
        if (id == HP_NO_FUNC)
            PyErr_Clear();
        hp_exc_restore(&saved);
    }
    uint32_t node = id == HP_NO_FUNC ? 0 : hp_calltree_add(t, ml, id);
    if (!node)
        hp_funcprof_fail(p, HP_ERR_NOMEMORY);
    return node;
}

/* cProfile's conversion of a custom timer's result (CallExternalTimer). */
int64_t hp_funcprof_external_now(hp_profiler *p)
{
    hp_saved_exc saved;
    hp_exc_save(&saved);
    int64_t result = 0;
    PyObject *o = PyObject_CallNoArgs(p->timer);
    if (o) {
        if (p->timeunit > 0.0) {
            /* an integer count of timeunit */
            if (PyLong_Check(o))
                result = PyLong_AsLongLong(o);
            else
                PyErr_SetString(PyExc_TypeError, "the timer must return an int when timeunit is set");
        }
        else if (PyFloat_Check(o)) {
            double d = floor(PyFloat_AsDouble(o) * 1e9);
            if (!(d >= -9.2e18 && d <= 9.2e18))
                PyErr_SetString(PyExc_OverflowError, "timer value out of range");
            else
                result = (int64_t)d;
        }
        else if (PyLong_Check(o)) {
            long long s = PyLong_AsLongLong(o);
            if (!PyErr_Occurred() && __builtin_mul_overflow(s, 1000000000LL, &result))
                PyErr_SetString(PyExc_OverflowError, "timer value out of range");
        }
        else
            PyErr_Format(PyExc_TypeError, "the timer returned %.200s, not a number",
                         Py_TYPE(o)->tp_name);
        Py_DECREF(o);
    }
    if (PyErr_Occurred()) {
        PyErr_WriteUnraisable(p->timer);
        result = 0;
    }
    hp_exc_restore(&saved);
    return result;
}

/* ---- the type ------------------------------------------------------------------- */

static void free_threads(hp_profiler *p)
{
    hp_thread *t = p->threads;
    while (t) {
        hp_thread *next = t->next;
        Py_XDECREF((PyObject *)t->name);
        hp_calltree_free(t);
        t = next;
    }
    p->threads = NULL;
}

static int Profiler_init(hp_profiler *p, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"timer", "timeunit", "builtins", "max_nodes", NULL};
    PyObject *timer = NULL;
    double timeunit = 0.0;
    int builtins = 1;
    unsigned long max_nodes = 1u << 20;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|Odpk:Profiler", kwlist,
                                     &timer, &timeunit, &builtins, &max_nodes))
        return -1;
    if (p->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "cannot re-initialize an enabled profiler");
        return -1;
    }
    if (timer == Py_None)
        timer = NULL;
    if (timer && !PyCallable_Check(timer)) {
        PyErr_SetString(PyExc_TypeError, "timer must be callable");
        return -1;
    }
    if (max_nodes < 16 || max_nodes > UINT32_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "max_nodes must be between 16 and 2**31");
        return -1;
    }
    Py_XSETREF(p->timer, Py_XNewRef(timer));
    p->timeunit = timeunit;
    p->builtins = builtins;
    p->max_nodes = (uint32_t)max_nodes;
    free_threads(p);
    hp_funcreg_clear(&p->reg);
    p->session = next_session++;
    p->error = 0;
    p->enabled_ticks = 0;
    return hp_funcreg_init(&p->reg, (uint32_t)p->session);
}

static void Profiler_dealloc(hp_profiler *p)
{
    PyTypeObject *tp = Py_TYPE(p);
    PyObject_GC_UnTrack(p);
    if (p->enabled && !hp_is_finalizing()) {
        /* Never pass `p` itself to the unraisable hook: reporting it would resurrect
         * an object being freed. At shutdown the hooks go with the interpreter. */
        hp_saved_exc saved;
        hp_exc_save(&saved);
        if (hp_source_stop(p) < 0)
            PyErr_WriteUnraisable(NULL);
        hp_exc_restore(&saved);
    }
    free_threads(p);
    hp_funcreg_clear(&p->reg);
    Py_CLEAR(p->timer);
    tp->tp_free(p);
    Py_DECREF(tp);
}

static int Profiler_traverse(hp_profiler *p, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(p));
    Py_VISIT(p->timer);
    return 0;
}

static int Profiler_clear(hp_profiler *p)
{
    Py_CLEAR(p->timer);
    return 0;
}

static PyObject *raise_pending_error(hp_profiler *p)
{
    if (p->error == HP_ERR_NOMEMORY)
        return PyErr_NoMemory();
    PyErr_SetString(PyExc_RuntimeError, "hotpath: profiling stopped on an internal error");
    return NULL;
}

static PyObject *Profiler_enable(hp_profiler *p, PyObject *Py_UNUSED(ignored))
{
    if (p->enabled)
        Py_RETURN_NONE;
    if (hp_source_start(p) < 0)
        return NULL;
    p->enabled = 1;
    p->recording = !p->error;
    p->enabled_at = hp_clock_now();
    Py_RETURN_NONE;
}

/* Close every thread's open frames at one instant. */
static void flush_open_frames(hp_profiler *p)
{
    int64_t now = hp_now(p);
    for (hp_thread *t = p->threads; t; t = t->next)
        hp_calltree_flush(t, now);
}

static PyObject *Profiler_disable(hp_profiler *p, PyObject *Py_UNUSED(ignored))
{
    if (p->enabled) {
        p->recording = 0;
        int rc = hp_source_stop(p);
        p->enabled = 0;
        p->enabled_ticks += hp_clock_now() - p->enabled_at;
        flush_open_frames(p);
        if (rc < 0)
            return NULL;
    }
    if (p->error)
        return raise_pending_error(p);
    Py_RETURN_NONE;
}

static PyObject *Profiler_clear_data(hp_profiler *p, PyObject *Py_UNUSED(ignored))
{
    if (p->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "cannot clear an enabled profiler; disable it first");
        return NULL;
    }
    free_threads(p);
    hp_funcreg_clear(&p->reg);
    p->session = next_session++;
    p->error = 0;
    p->enabled_ticks = 0;
    if (hp_funcreg_init(&p->reg, (uint32_t)p->session) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* Pack a tree's nodes as little-endian records <u32 func, u32 parent, u64 calls,
 * i64 self, i64 total> (32 bytes each; func and parent 0xFFFFFFFF for the root). */
static PyObject *pack_nodes(const hp_thread *t)
{
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)t->n_nodes * 32);
    if (!b)
        return NULL;
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(b);
    for (uint32_t i = 0; i < t->n_nodes; i++, out += 32) {
        const hp_node *n = &t->nodes[i];
        uint32_t u32[2] = {n->func, n->parent};
        uint64_t u64[3] = {n->calls, (uint64_t)n->self_ticks, (uint64_t)n->total_ticks};
        memcpy(out, u32, 8);       /* the build targets are little-endian (x86-64, arm64) */
        memcpy(out + 8, u64, 24);
    }
    return b;
}

/* snapshot() -> dict with functions, threads, tick_seconds, clock, error, wall_seconds */
static PyObject *Profiler_snapshot(hp_profiler *p, PyObject *Py_UNUSED(ignored))
{
    PyObject *funcs = hp_funcreg_export(&p->reg);
    if (!funcs)
        return NULL;
    PyObject *threads = PyList_New(0);
    if (!threads) {
        Py_DECREF(funcs);
        return NULL;
    }
    for (hp_thread *t = p->threads; t; t = t->next) {
        PyObject *nodes = pack_nodes(t);
        PyObject *item = nodes ? Py_BuildValue("{s:k,s:k,s:O,s:N,s:O}",
            "ident", t->ident, "native_id", t->native_id,
            "name", t->name ? (PyObject *)t->name : Py_None, "nodes", nodes,
            "truncated", t->truncated ? Py_True : Py_False) : NULL;
        if (!item || PyList_Append(threads, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(funcs);
            Py_DECREF(threads);
            return NULL;
        }
        Py_DECREF(item);
    }
    double tick_seconds, clock_seconds = hp_clock_tick_seconds();
    const char *clock;
    if (p->timer) {
        tick_seconds = p->timeunit > 0.0 ? p->timeunit : 1.0 / 1000000000;
        clock = "custom";
    }
    else {
        tick_seconds = clock_seconds;
        clock = hp_clock_name();
    }
    int64_t enabled_ticks = p->enabled_ticks + (p->enabled ? hp_clock_now() - p->enabled_at : 0);
    const char *error = p->error == HP_ERR_NOMEMORY ? "out of memory" :
                        p->error ? "internal error" : NULL;
    return Py_BuildValue("{s:N,s:N,s:d,s:s,s:d,s:z}",
                         "functions", funcs, "threads", threads,
                         "tick_seconds", tick_seconds, "clock", clock,
                         "enabled_seconds", (double)enabled_ticks * clock_seconds,
                         "error", error);
}

static PyObject *Profiler_get_enabled(hp_profiler *p, void *closure)
{
    return PyBool_FromLong(p->enabled);
}

static PyObject *Profiler_get_builtins(hp_profiler *p, void *closure)
{
    return PyBool_FromLong(p->builtins);
}

static PyMethodDef Profiler_methods[] = {
    {"enable", (PyCFunction)Profiler_enable, METH_NOARGS,
     "Start recording (every thread). Raises if another profiler holds the slot."},
    {"disable", (PyCFunction)Profiler_disable, METH_NOARGS,
     "Stop recording; frames still open are closed now."},
    {"clear", (PyCFunction)Profiler_clear_data, METH_NOARGS, "Forget everything recorded."},
    {"snapshot", (PyCFunction)Profiler_snapshot, METH_NOARGS,
     "Everything recorded so far, as plain Python data for hotpath.model."},
    {NULL}
};

static int Profiler_set_builtins(hp_profiler *p, PyObject *value, void *closure)
{
    if (!value) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete builtins");
        return -1;
    }
    if (p->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "cannot change builtins while enabled");
        return -1;
    }
    int b = PyObject_IsTrue(value);
    if (b < 0)
        return -1;
    p->builtins = b;
    return 0;
}

static PyGetSetDef Profiler_getset[] = {
    {"enabled", (getter)Profiler_get_enabled, NULL, "whether hooks are installed", NULL},
    {"builtins", (getter)Profiler_get_builtins, (setter)Profiler_set_builtins,
     "whether C functions are recorded (settable while disabled)", NULL},
    {NULL}
};

static PyType_Slot Profiler_slots[] = {
    {Py_tp_doc, "Profiler(timer=None, timeunit=0.0, builtins=True, max_nodes=2**20)\n\n"
                "The C capture behind hotpath.Profile: a calling-context tree per thread."},
    {Py_tp_init, Profiler_init},
    {Py_tp_dealloc, Profiler_dealloc},
    {Py_tp_traverse, Profiler_traverse},
    {Py_tp_clear, Profiler_clear},
    {Py_tp_methods, Profiler_methods},
    {Py_tp_getset, Profiler_getset},
    {0, NULL}
};

PyType_Spec hp_profiler_spec = {
    .name = "hotpath._core.Profiler",
    .basicsize = sizeof(hp_profiler),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = Profiler_slots,
};
