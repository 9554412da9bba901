/* funcprof.c — the Profiler type: lifecycle, threads, the custom timer and snapshots.
 *
 * A Profiler owns its function table and one call tree per thread. enable() installs
 * the version's event source, disable() removes it and closes frames still open (as
 * cProfile's flush_unmatched does), snapshot() copies everything out as Python data for
 * the model. Only one profiler records at a time: the interpreter has one profiler slot.
 */
#include "funcprof.h"
#include "common/module.h"
#include "common/newthreads.h"

#include <math.h>
#include <stdlib.h>

_Thread_local hp_func_tls_slot hp_func_tls HP_TLS_INITIAL_EXEC;
static uint64_t next_session = 1; /* protected by the GIL */
static uint64_t next_serial = 1;  /* protected by the GIL */
hp_func_profiler *hp_func_active_profiler = NULL;

/* ---- cold paths called from the hot path --------------------------------------- */

void hp_func_fail(hp_func_profiler *p, int err)
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

hp_func_thread *hp_func_new_thread(hp_func_profiler *p)
{
    if (!hp_func_tls.serial)
        hp_func_tls.serial = next_serial++;
    for (hp_func_thread *t = p->threads; t; t = t->next) {
        if (t->serial == hp_func_tls.serial) {
            hp_func_tls.tree = t;
            hp_func_tls.session = p->session;
            return t;
        }
    }
    hp_saved_exc saved;
    hp_exc_save(&saved);
    hp_func_thread *t = hp_func_calltree_new(p->max_nodes);
    if (!t) {
        hp_func_fail(p, HP_FUNC_ERR_NOMEMORY);
        hp_exc_restore(&saved);
        return NULL;
    }
    t->ident = PyThread_get_thread_ident();
    t->native_id = PyThread_get_thread_native_id();
    t->serial = hp_func_tls.serial;
    t->session = p->session;
    t->name = current_thread_name(t->ident);
    *p->threads_tail = t; /* append, keeping first-seen order */
    p->threads_tail = &t->next;
    hp_func_tls.tree = t;
    hp_func_tls.session = p->session;
    hp_exc_restore(&saved);
    return t;
}

void hp_func_name_thread(hp_func_profiler *p)
{
    hp_func_thread *t = hp_func_current_thread(p);
    if (t && !t->name) {
        hp_saved_exc saved;
        hp_exc_save(&saved);
        t->name = current_thread_name(t->ident);
        hp_exc_restore(&saved);
    }
}

/* Both node makers are out of line and marked cold, so the per-event callers keep a
 * short prologue. A full tree sends the call to its overflow node without registering
 * the function: the table only grows with the trees. */
__attribute__((cold, noinline)) uint32_t hp_func_new_code_node(hp_func_profiler *p,
                                                               hp_func_thread *t, PyCodeObject *co)
{
    uint32_t id = hp_func_calltree_full(t) ? HP_FUNC_TRUNCATED : hp_func_reg_code(&p->reg, co);
    uint32_t node = id == HP_FUNC_NONE ? 0 : hp_func_calltree_add(t, co);
    if (!node)
        hp_func_fail(p, HP_FUNC_ERR_NOMEMORY);
    return node;
}

__attribute__((cold, noinline)) uint32_t
hp_func_new_cfunc_node(hp_func_profiler *p, hp_func_thread *t, PyMethodDef *ml, PyObject *cfunc)
{
    uint32_t id = HP_FUNC_TRUNCATED;
    if (!hp_func_calltree_full(t) && !hp_func_reg_cfunc_known(&p->reg, ml, &id)) {
        if (!cfunc)
            return HP_FUNC_NEED_LABEL;
        hp_saved_exc saved;
        hp_exc_save(&saved);
        id = hp_func_reg_cfunc_slow(&p->reg, ml, cfunc);
        if (id == HP_FUNC_NONE)
            PyErr_Clear();
        hp_exc_restore(&saved);
    }
    uint32_t node = id == HP_FUNC_NONE ? 0 : hp_func_calltree_add(t, ml);
    if (!node)
        hp_func_fail(p, HP_FUNC_ERR_NOMEMORY);
    return node;
}

/* cProfile's conversion of a custom timer's result (CallExternalTimer): with timeunit
 * set, an integer count of units; otherwise seconds (float, or int) → integer ns. A timer
 * that fails stops recording (reported by disable()); its traceback is shown once. */
int64_t hp_func_external_now(hp_func_profiler *p)
{
    if (p->error)
        return 0;
    hp_saved_exc saved;
    hp_exc_save(&saved);
    int64_t result = 0;
    p->in_hook++;
    PyObject *o = PyObject_CallNoArgs(p->timer);
    p->in_hook--;
    if (o) {
        if (p->timeunit > 0.0 || !PyFloat_Check(o)) {
            long long v = PyLong_AsLongLong(o); /* ints and __index__ objects */
            if (!PyErr_Occurred()) {
                if (p->timeunit > 0.0)
                    result = v;
                else if (__builtin_mul_overflow(v, 1000000000LL, &result))
                    PyErr_SetString(PyExc_OverflowError, "timer value out of range");
            }
        } else {
            double d = floor(PyFloat_AsDouble(o) * 1e9);
            if (!(d >= -9.2e18 && d <= 9.2e18))
                PyErr_SetString(PyExc_OverflowError, "timer value out of range");
            else
                result = (int64_t)d;
        }
        Py_DECREF(o);
    }
    if (PyErr_Occurred()) {
        PyErr_WriteUnraisable(p->timer);
        hp_func_fail(p, HP_FUNC_ERR_TIMER);
        result = 0;
    }
    hp_exc_restore(&saved);
    return result;
}

/* ---- the type ------------------------------------------------------------------- */

/* funcreg's death notice: every thread's tree forgets the freed code object's key. */
static void forget_code(hp_func_reg *r, const void *key, uint32_t id)
{
    hp_func_profiler *p = (hp_func_profiler *)((char *)r - offsetof(hp_func_profiler, reg));
    for (hp_func_thread *t = p->threads; t; t = t->next)
        hp_func_calltree_forget(t, key, id);
}

static void free_threads(hp_func_profiler *p)
{
    /* Detach first: releasing a name may run Python code that frees a code object,
     * whose death notice walks p->threads. */
    hp_func_thread *t = p->threads;
    p->threads = NULL;
    p->threads_tail = &p->threads;
    while (t) {
        hp_func_thread *next = t->next;
        Py_XDECREF((PyObject *)t->name);
        hp_func_calltree_free(t);
        t = next;
    }
}

/* 0, or -1 with RuntimeError when called from inside one of p's hooks (the custom timer):
 * what the hook is using must stay alive until it returns. */
static int refuse_in_hook(hp_func_profiler *p, const char *what)
{
    if (!p->in_hook)
        return 0;
    PyErr_Format(PyExc_RuntimeError, "cannot %s a profiler from inside its own timer", what);
    return -1;
}

static int Profiler_init(hp_func_profiler *p, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"timer", "timeunit", "builtins", "max_nodes", NULL};
    PyObject *timer = NULL;
    double timeunit = 0.0;
    int builtins = 1;
    unsigned long max_nodes = 1u << 20;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|Odpk:Profiler", kwlist, &timer, &timeunit,
                                     &builtins, &max_nodes))
        return -1;
    if (refuse_in_hook(p, "re-initialize"))
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
    hp_func_reg_clear(&p->reg);
    p->session = next_session++;
    p->error = 0;
    p->displaced = 0;
    p->tool_id = -1;
    p->enabled_ticks = 0;
    return hp_func_reg_init(&p->reg, forget_code);
}

static void Profiler_dealloc(hp_func_profiler *p)
{
    PyTypeObject *tp = Py_TYPE(p);
    PyObject_GC_UnTrack(p);
    if (hp_func_active_profiler == p)
        hp_func_active_profiler = NULL;
    if (p->enabled && !hp_is_finalizing()) {
        /* Never pass `p` itself to the unraisable hook: reporting it would resurrect
         * an object being freed. At shutdown the hooks go with the interpreter. */
        hp_saved_exc saved;
        hp_exc_save(&saved);
        if (hp_func_source_stop(p) < 0)
            PyErr_WriteUnraisable(NULL);
        hp_exc_restore(&saved);
    }
    free_threads(p);
    hp_func_reg_clear(&p->reg);
    Py_CLEAR(p->timer);
    HP_NEWTHREADS_CLEAR(p->threads_hook);
    tp->tp_free(p);
    Py_DECREF(tp);
}

static int Profiler_traverse(hp_func_profiler *p, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(p));
    Py_VISIT(p->timer);
    HP_NEWTHREADS_VISIT(p->threads_hook);
    return 0;
}

static int Profiler_clear(hp_func_profiler *p)
{
    Py_CLEAR(p->timer);
    HP_NEWTHREADS_CLEAR(p->threads_hook);
    return 0;
}

static PyObject *raise_pending_error(hp_func_profiler *p)
{
    if (p->error == HP_FUNC_ERR_NOMEMORY)
        return PyErr_NoMemory();
    if (p->error == HP_FUNC_ERR_TIMER) {
        PyErr_SetString(PyExc_RuntimeError,
                        "hotpath: the custom timer failed; recording stopped at that point");
        return NULL;
    }
    PyErr_SetString(PyExc_RuntimeError, "hotpath: profiling stopped on an internal error");
    return NULL;
}

static PyObject *Profiler_enable(hp_func_profiler *p, PyObject *Py_UNUSED(ignored))
{
    if (p->enabled)
        Py_RETURN_NONE;
    if (!p->reg.entries) {
        PyErr_SetString(PyExc_RuntimeError, "Profiler.__init__ was not called");
        return NULL;
    }
    if (hp_func_active_profiler) {
        /* profiler.py: this prefix becomes ProfilerActiveError */
        PyErr_SetString(
            PyExc_RuntimeError,
            "another profiler is active: a hotpath profiler is already recording in this "
            "process; disable it first");
        return NULL;
    }
    if (hp_func_source_start(p) < 0)
        return NULL;
    hp_func_active_profiler = p;
    p->enabled = 1;
    p->recording = !p->error;
    p->enabled_at = hp_clock_now();
    Py_RETURN_NONE;
}

/* Close every thread's open frames at one instant (without a usable clock, after the
 * custom timer failed, drop them instead). */
static void flush_open_frames(hp_func_profiler *p)
{
    int64_t now = p->error == HP_FUNC_ERR_TIMER ? 0 : hp_func_now(p);
    for (hp_func_thread *t = p->threads; t; t = t->next) {
        if (p->error == HP_FUNC_ERR_TIMER)
            t->depth = 0;
        else
            hp_func_calltree_flush(t, now);
    }
}

static PyObject *Profiler_disable(hp_func_profiler *p, PyObject *Py_UNUSED(ignored))
{
    if (refuse_in_hook(p, "disable"))
        return NULL;
    if (p->enabled) {
        p->recording = 0;
        int rc = hp_func_source_stop(p);
        p->enabled = 0;
        if (hp_func_active_profiler == p)
            hp_func_active_profiler = NULL;
        p->enabled_ticks += hp_clock_now() - p->enabled_at;
        flush_open_frames(p);
        if (rc < 0)
            return NULL;
    }
    if (p->error)
        return raise_pending_error(p);
    Py_RETURN_NONE;
}

static PyObject *Profiler_clear_data(hp_func_profiler *p, PyObject *Py_UNUSED(ignored))
{
    if (refuse_in_hook(p, "clear"))
        return NULL;
    if (p->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "cannot clear an enabled profiler; disable it first");
        return NULL;
    }
    free_threads(p);
    hp_func_reg_clear(&p->reg);
    p->session = next_session++;
    p->error = 0;
    p->displaced = 0;
    p->enabled_ticks = 0;
    if (hp_func_reg_init(&p->reg, forget_code) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* Pack a tree's nodes as little-endian records <u32 func, u32 parent, u64 calls,
 * i64 self, i64 total> (32 bytes each; func and parent 0xFFFFFFFF for the root). */
static PyObject *pack_nodes(const hp_func_reg *r, const hp_func_thread *t)
{
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)t->n_nodes * 32);
    if (!b)
        return NULL;
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(b);
    /* Nodes store their key, not their function: consecutive nodes often share one, so
     * remember the last key looked up. */
    uintptr_t last_key = 0;
    uint32_t last_func = 0;
    for (uint32_t i = 0; i < t->n_nodes; i++, out += 32) {
        const hp_func_node *n = hp_func_calltree_node(t, i);
        uint32_t func;
        if (hp_func_calltree_key_is_func(n->key))
            func = (uint32_t)(n->key >> 1);
        else if (n->key == last_key)
            func = last_func;
        else
            func = last_func = hp_func_reg_id_of(r, (const void *)(last_key = n->key));
        uint32_t u32[2] = {func, n->parent};
        uint64_t u64[3] = {n->calls, (uint64_t)n->self_ticks, (uint64_t)n->total_ticks};
        memcpy(out, u32, 8); /* the build targets are little-endian (x86-64, arm64) */
        memcpy(out + 8, u64, 24);
    }
    return b;
}

/* snapshot() -> dict with functions, threads, tick_seconds, clock, error, wall_seconds */
static PyObject *Profiler_snapshot(hp_func_profiler *p, PyObject *Py_UNUSED(ignored))
{
    PyObject *funcs = hp_func_reg_export(&p->reg);
    if (!funcs)
        return NULL;
    PyObject *threads = PyList_New(0);
    if (!threads) {
        Py_DECREF(funcs);
        return NULL;
    }
    for (hp_func_thread *t = p->threads; t; t = t->next) {
        PyObject *nodes = pack_nodes(&p->reg, t);
        PyObject *item = nodes ?
            Py_BuildValue("{s:k,s:k,s:O,s:N,s:O}", "ident", t->ident, "native_id", t->native_id,
                          "name", t->name ? (PyObject *)t->name : Py_None, "nodes", nodes,
                          "truncated", t->truncated ? Py_True : Py_False) :
            NULL;
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
    } else {
        tick_seconds = clock_seconds;
        clock = hp_clock_name();
    }
    int64_t enabled_ticks = p->enabled_ticks + (p->enabled ? hp_clock_now() - p->enabled_at : 0);
    const char *error = p->error == HP_FUNC_ERR_NOMEMORY ? "out of memory" :
        p->error == HP_FUNC_ERR_TIMER                    ? "the custom timer failed" :
        p->error                                         ? "internal error" :
        p->displaced ? "another tool replaced hotpath's profile hook during "
                       "the run (sys.setprofile or cProfile); calls after "
                       "that point are missing" :
                       NULL;
    return Py_BuildValue("{s:N,s:N,s:d,s:s,s:d,s:z}", "functions", funcs, "threads", threads,
                         "tick_seconds", tick_seconds, "clock", clock, "enabled_seconds",
                         (double)enabled_ticks * clock_seconds, "error", error);
}

/* _tree_stats() -> dict: the C tree's footprint, for tests and benchmarks (not API). */
static PyObject *Profiler_tree_stats(hp_func_profiler *p, PyObject *Py_UNUSED(ignored))
{
    size_t bytes = 0, nodes = 0, wide_slots = 0;
    for (hp_func_thread *t = p->threads; t; t = t->next) {
        bytes += hp_func_calltree_bytes(t);
        nodes += t->n_nodes;
        wide_slots += t->n_slots_used;
    }
    return Py_BuildValue("{s:n,s:n,s:n,s:n,s:n}", "node_size", (Py_ssize_t)sizeof(hp_func_node),
                         "nodes", (Py_ssize_t)nodes, "bytes", (Py_ssize_t)bytes, "wide_children",
                         (Py_ssize_t)wide_slots, "wide_at", (Py_ssize_t)HP_FUNC_WIDE_AT);
}

static PyObject *Profiler_get_enabled(hp_func_profiler *p, void *closure)
{
    return PyBool_FromLong(p->enabled);
}

static PyObject *Profiler_get_builtins(hp_func_profiler *p, void *closure)
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
    {"_tree_stats", (PyCFunction)Profiler_tree_stats, METH_NOARGS,
     "The C call trees' size: node_size (bytes), nodes, bytes held, wide_children."},
    {NULL}};

static int Profiler_set_builtins(hp_func_profiler *p, PyObject *value, void *closure)
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
    {NULL}};

static PyType_Slot Profiler_slots[] = {
    {Py_tp_doc,
     "Profiler(timer=None, timeunit=0.0, builtins=True, max_nodes=2**20)\n\n"
     "The C capture behind hotpath.Profile: a calling-context tree per thread."},
    {Py_tp_init, Profiler_init},
    {Py_tp_dealloc, Profiler_dealloc},
    {Py_tp_traverse, Profiler_traverse},
    {Py_tp_clear, Profiler_clear},
    {Py_tp_methods, Profiler_methods},
    {Py_tp_getset, Profiler_getset},
    {0, NULL}};

PyType_Spec hp_func_profiler_spec = {
    .name = "hotpath._core.Profiler",
    .basicsize = sizeof(hp_func_profiler),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = Profiler_slots,
};
