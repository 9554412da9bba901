/* memtrack.c — hotpath._core.MemTracker: a session's lifetime (start, stop, clear, fork)
 * and its snapshot. The model is described in memtrack.h; the hooks that record are in
 * memhooks.c.
 *
 * Invariants:
 * - Everything here runs with the GIL, which is what serializes start, stop, snapshot
 *   and clear; the tables are still touched only under the lock (memstate.h), since the
 *   hooks run without the GIL.
 * - Only one tracker records at a time (the hooks are process-wide): hp_mem_session.owner is
 *   the MemTracker whose data the tables hold, and the methods of any other one see no
 *   data.
 * - A session's tables are made by data_init() before the hooks are installed, and
 *   replaced or freed only while not recording.
 */
#include "memtrack.h"
#include "common/module.h"
#include "memaccount.h"
#include "memblocks.h"
#include "memcaller.h"
#include "memforget.h"
#include "memtrace.h"
#include "memhooks.h"
#include "memmaps.h"
#include "memshape.h"
#include "memstacks.h"
#include "memtimeline.h"
#include "common/frames.h"

#include <pthread.h>
#include <string.h>

/* ---- fork ------------------------------------------------------------------------------- */

static void atfork_prepare(void)
{
    hp_mem_tls.busy++;
    hp_mem_lock();
}

static void atfork_parent(void)
{
    hp_mem_unlock();
    hp_mem_tls.busy--;
}

/* The child stops recording: the tables are its own copy, the parent's stay intact. The
 * timeline thread does not exist in the child. */
static void atfork_child(void)
{
    if (__atomic_load_n(&hp_mem_session.active, __ATOMIC_RELAXED))
        hp_mem_session.forked = 1;
    __atomic_store_n(&hp_mem_session.active, 0, __ATOMIC_RELAXED);
    hp_mem_timeline_atfork_child();
    hp_mem_lock_word = 0;
    hp_mem_tls.busy--;
}

/* ---- session lifetime ------------------------------------------------------------------- */

/* GIL held, not recording. Free the tables; release the code objects. */
static void data_clear(void)
{
    hp_mem_code_table codes;
    hp_mem_lock();
    hp_mem_blocks_clear();
    hp_mem_maps_clear();
    hp_mem_stacks_clear(&codes);
    hp_mem_timeline_clear();
    hp_mem_account_clear();
    hp_mem_session.error = 0;
    hp_mem_session.forked = 0;
    hp_mem_session.owner = NULL;
    hp_mem_unlock();
    hp_mem_codes_release(&codes);
}

/* GIL held, not recording: fresh tables. 0 / -1 with MemoryError set. */
static int data_init(int sampled)
{
    data_clear();
    hp_mem_lock();
    int ok = hp_mem_blocks_init(sampled) == 0 && hp_mem_stacks_init() == 0 &&
        hp_mem_maps_init() == 0 && hp_mem_timeline_init() == 0;
    hp_mem_unlock();
    if (!ok) {
        data_clear();
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* (L) */
static size_t tracker_bytes(void)
{
    return hp_mem_blocks_bytes() + hp_mem_stacks_bytes() + hp_mem_maps_bytes() +
        hp_mem_timeline_bytes();
}

/* ---- the MemTracker type ---------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
} hp_mem_tracker;

static int atfork_registered = 0; /* GIL */

/* start(mode, sample_bytes, max_frames, interval, native): None, or NULL with an
 * exception set (bad arguments, another tracker recording, out of memory). */
static PyObject *MemTracker_start(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"mode", "sample_bytes", "max_frames", "interval", "native", NULL};
    const char *mode = "exact";
    double sample_bytes = 16384.0, interval = 0.01;
    int max_frames = 64, native = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|sdidp", kwlist, &mode, &sample_bytes,
                                     &max_frames, &interval, &native))
        return NULL;
    int m;
    if (strcmp(mode, "exact") == 0)
        m = HP_MEM_EXACT;
    else if (strcmp(mode, "sampled") == 0)
        m = HP_MEM_SAMPLED;
    else {
        PyErr_Format(PyExc_ValueError, "mode must be 'exact' or 'sampled', not '%s'", mode);
        return NULL;
    }
    if (!(sample_bytes >= 1.0) || max_frames < 1 || max_frames > HP_MEM_MAX_FRAMES ||
        !(interval >= 0.0)) {
        PyErr_Format(PyExc_ValueError,
                     "need sample_bytes >= 1, 1 <= max_frames <= %d, "
                     "interval >= 0",
                     HP_MEM_MAX_FRAMES);
        return NULL;
    }
    if (hp_mem_active()) {
        PyErr_SetString(PyExc_RuntimeError,
                        "hotpath: another memory tracker is recording in this process");
        return NULL;
    }
    /* The hooks read frames through frames.h: refuse to record rather than read garbage
     * when this interpreter's layout is not the one the core was built for. */
    char why[160];
    if (hp_frames_selfcheck(why, sizeof why) < 0) {
        PyErr_Format(PyExc_RuntimeError,
                     "hotpath: the memory tracker cannot read this "
                     "Python's frames (%s); memory profiling is unavailable",
                     why);
        return NULL;
    }
    if (!atfork_registered) {
        if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child) != 0) {
            PyErr_SetString(PyExc_RuntimeError, "hotpath: pthread_atfork failed");
            return NULL;
        }
        atfork_registered = 1;
    }
    hp_mem_caller_init();
    if (data_init(m == HP_MEM_SAMPLED) < 0)
        return NULL;
    hp_mem_session.mode = m;
    hp_mem_session.sample_bytes = sample_bytes;
    hp_mem_session.max_frames = max_frames;
    hp_mem_session.id++;
    hp_mem_session.owner = self;
    clock_gettime(CLOCK_MONOTONIC, &hp_mem_session.t0);
    hp_mem_session.native = 0;
    if (hp_mem_timeline_start(interval) < 0) {
        data_clear();
        PyErr_SetString(PyExc_RuntimeError, "hotpath: cannot start the timeline thread");
        return NULL;
    }
    hp_mem_hooks_install();
    __atomic_store_n(&hp_mem_session.active, 1, __ATOMIC_RELEASE);
    if (native && hp_mem_hooks_native_attach())
        hp_mem_session.native = 1;
    Py_RETURN_NONE;
}

/* None, or NULL with MemoryError set when the tracker ran out of memory while recording. */
static PyObject *MemTracker_stop(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (hp_mem_session.owner != self)
        Py_RETURN_NONE;
    if (hp_mem_session.native && hp_mem_hooks_native_detach())
        hp_mem_session.native = 2; /* was attached */
    int was_active = __atomic_exchange_n(&hp_mem_session.active, 0, __ATOMIC_ACQ_REL);
    if (was_active || hp_mem_session.error) {
        hp_mem_hooks_uninstall();
        hp_mem_timeline_stop();
    }
    hp_mem_lock();
    hp_mem_codes_process_pending();
    int err = hp_mem_session.error;
    hp_mem_unlock();
    if (err == HP_MEM_ERR_NOMEMORY) {
        PyErr_SetString(PyExc_MemoryError,
                        "hotpath: the memory tracker ran out of memory and stopped recording");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* The data as a new dict (nodes: hp_mem_stacks_export, or with `columns` the key columns:
 * hp_mem_stacks_export_columns; timeline: hp_mem_timeline_export; the totals), or NULL with
 * an exception set. The tables are copied under the lock and turned into Python objects
 * after it, with this thread paused (they are not the program's). */
static PyObject *snapshot(PyObject *self, int columns)
{
    if (hp_mem_session.owner != self) {
        PyErr_SetString(PyExc_RuntimeError,
                        "hotpath: this memory tracker has no data "
                        "(not started, cleared, or another tracker started since)");
        return NULL;
    }
    hp_mem_stacks_snap sc = {0};
    hp_mem_timeline_snap tc = {0};
    hp_mem_tls.busy++;
    hp_mem_lock();
    hp_mem_codes_process_pending();
    if (hp_mem_active())
        hp_mem_maps_sync(); /* touched mappings as of now (memmaps.h) */
    int stacks_ok = hp_mem_stacks_copy(&sc) == 0;
    int points_ok = hp_mem_timeline_copy(&tc) == 0;
    double peak_time = hp_mem_totals.peak_dirty ? hp_mem_now() : hp_mem_totals.peak_time;
    unsigned long long totals[9] = {hp_mem_totals.alloc_count,
                                    hp_mem_totals.alloc_bytes,
                                    hp_mem_totals.free_count,
                                    hp_mem_totals.free_bytes,
                                    (unsigned long long)hp_mem_totals.live_count,
                                    (unsigned long long)hp_mem_totals.live_bytes,
                                    (unsigned long long)hp_mem_totals.peak_count,
                                    (unsigned long long)hp_mem_totals.peak_bytes,
                                    hp_mem_totals.samples};
    unsigned long long maps[5] = {hp_mem_maps.reserved, hp_mem_maps.touched,
                                  hp_mem_maps.reserved_max, hp_mem_maps.n, hp_mem_maps.mapped};
    size_t tbytes = tracker_bytes();
    hp_mem_unlock();
    hp_mem_tls.busy--;
    if (!stacks_ok || !points_ok) {
        hp_mem_stacks_snap_free(&sc);
        hp_mem_timeline_snap_free(&tc);
        return PyErr_NoMemory();
    }

    hp_mem_tls.paused++; /* the snapshot's own objects are not the program's */
    PyObject *res = NULL, *nodes = NULL, *timeline = NULL;
    nodes = columns ? hp_mem_stacks_export_columns(&sc) : hp_mem_stacks_export(&sc);
    if (!nodes || !(timeline = hp_mem_timeline_export(&tc)))
        goto done;
    res = Py_BuildValue(
        "{s:s,s:d,s:i,s:O,s:O,s:O,s:O,s:O,s:K,s:K,s:K,s:K,s:L,s:L,s:K,s:K,s:d,s:K,s:n,s:d,"
        "s:K,s:K,s:K,s:K,s:K,s:O}",
        "mode", hp_mem_session.mode == HP_MEM_SAMPLED ? "sampled" : "exact", "sample_bytes",
        hp_mem_session.sample_bytes, "max_frames", hp_mem_session.max_frames, "native",
        hp_mem_session.native ? Py_True : Py_False, "active", hp_mem_active() ? Py_True : Py_False,
        "forked", hp_mem_session.forked ? Py_True : Py_False, columns ? "columns" : "nodes", nodes,
        "timeline", timeline, "alloc_count", totals[0], "alloc_bytes", totals[1], "free_count",
        totals[2], "free_bytes", totals[3], "live_count", (long long)totals[4], "live_bytes",
        (long long)totals[5], "peak_count", totals[6], "peak_bytes", totals[7], "peak_time",
        peak_time, "samples", totals[8], "tracker_bytes", (Py_ssize_t)tbytes, "duration",
        hp_mem_now(), "reserved_bytes", maps[0], "reserved_touched", maps[1], "reserved_max",
        maps[2], "reserved_count", maps[3], "mappings", maps[4], "native_by_caller",
        hp_mem_caller.hi ? Py_True : Py_False);
done:
    Py_XDECREF(nodes);
    Py_XDECREF(timeline);
    hp_mem_tls.paused--;
    hp_mem_stacks_snap_free(&sc);
    hp_mem_timeline_snap_free(&tc);
    return res;
}

static PyObject *MemTracker_snapshot(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return snapshot(self, 0);
}

static PyObject *MemTracker_snapshot_columns(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return snapshot(self, 1);
}

static PyObject *MemTracker_live(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromLongLong(__atomic_load_n(&hp_mem_totals.live_bytes, __ATOMIC_RELAXED));
}

static PyObject *MemTracker_peak(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    hp_mem_lock();
    if (hp_mem_active())
        hp_mem_maps_sync(); /* nothing here allocates: no busy flag needed */
    long long p = hp_mem_totals.peak_bytes;
    hp_mem_unlock();
    return PyLong_FromLongLong(p);
}

/* The peak starts again from the current live total (for memit). */
static PyObject *MemTracker_reset_peak(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    hp_mem_lock();
    hp_mem_account_reset_peak();
    hp_mem_unlock();
    Py_RETURN_NONE;
}

static PyObject *MemTracker_pause(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    hp_mem_tls.paused++;
    Py_RETURN_NONE;
}

static PyObject *MemTracker_resume(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (hp_mem_tls.paused > 0)
        hp_mem_tls.paused--;
    Py_RETURN_NONE;
}

/* forget(*objs): each object, in the order given (newest first), is forgotten when it is
 * this thread's newest recorded block (memforget.h). The number of blocks forgotten.
 * Nothing is allocated before the objects are forgotten (a small int is returned). */
static PyObject *MemTracker_forget(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    int n = 0;
    if (hp_mem_session.owner == self)
        for (Py_ssize_t i = 0; i < nargs; i++)
            n += hp_mem_forget_object(args[i]);
    return PyLong_FromLong(n);
}

static PyObject *MemTracker_settrace(PyObject *self, PyObject *callback)
{
    return hp_mem_trace_set(callback);
}

static PyObject *MemTracker_watch(PyObject *self, PyObject *code)
{
    return hp_mem_trace_watch(code);
}

/* ---- the audit hook (finding functions chosen by file, as their module runs) ----------- */

/* While an audit hook is installed, CPython builds every audited event's argument tuple
 * before calling any hook; a Python-level hook adds the event's name, an iterator over
 * the hooks and the call. This C hook is called first and alone: it forgets the tuple and
 * the arguments made for it (reference count 1: the tuple's own), newest first, and calls
 * the callback, paused, for "exec" events only. C audit hooks cannot be removed: once
 * installed it stays, inert while no callback is set. All of it is protected by the GIL. */
static PyObject *audit_callback = NULL; /* callback(code) for "exec" events */
static PyObject *audit_owner = NULL;    /* the MemTracker that set it (borrowed) */
static int audit_installed = 0;

static void forget_event_args(PyObject *args)
{
    PyObject *made[9];
    int n = 0, left;
    made[n++] = args;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args) && n < 9; i++) {
        PyObject *a = PyTuple_GET_ITEM(args, i);
        if (Py_REFCNT(a) == 1)
            made[n++] = a;
    }
    /* Newest first, whatever order they were made in (a tuple is made before its items,
     * or after a single one): retry until a pass forgets nothing. */
    do {
        left = 0;
        for (int i = 0; i < n; i++)
            if (made[i] && hp_mem_forget_object(made[i])) {
                made[i] = NULL;
                left = 1;
            }
    } while (left);
}

static int audit_hook(const char *event, PyObject *args, void *data)
{
    if (!audit_callback || hp_mem_session.owner != audit_owner)
        return 0;
    if (args && PyTuple_Check(args))
        forget_event_args(args);
    if (strcmp(event, "exec") != 0 || !args || !PyTuple_Check(args) || PyTuple_GET_SIZE(args) < 1)
        return 0;
    PyObject *cb = Py_NewRef(audit_callback);
    hp_mem_tls.paused++;
    PyObject *r = PyObject_CallOneArg(cb, PyTuple_GET_ITEM(args, 0));
    if (r)
        Py_DECREF(r);
    else
        PyErr_WriteUnraisable(cb); /* never into the program's exec */
    hp_mem_tls.paused--;
    Py_DECREF(cb);
    return 0;
}

/* audit_exec(callback or None): call callback(code) for every "exec" audit event while
 * this tracker records, and forget every audited event's arguments (above). */
static PyObject *MemTracker_audit_exec(PyObject *self, PyObject *callback)
{
    if (callback == Py_None) {
        if (audit_owner == self) {
            Py_CLEAR(audit_callback);
            audit_owner = NULL;
        }
        Py_RETURN_NONE;
    }
    if (!PyCallable_Check(callback)) {
        PyErr_SetString(PyExc_TypeError, "audit_exec() needs a callable or None");
        return NULL;
    }
    if (!audit_installed) {
        if (PySys_AddAuditHook(audit_hook, NULL) < 0)
            return NULL;
        audit_installed = 1;
    }
    Py_XSETREF(audit_callback, Py_NewRef(callback));
    audit_owner = self;
    Py_RETURN_NONE;
}

static PyObject *MemTracker_clear(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (hp_mem_session.owner == self) {
        if (hp_mem_active()) {
            PyErr_SetString(PyExc_RuntimeError, "hotpath: stop the memory tracker first");
            return NULL;
        }
        data_clear();
    }
    Py_RETURN_NONE;
}

static PyObject *MemTracker_native_available(PyObject *cls, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(hp_mem_hooks_native_available());
}

static PyObject *MemTracker_get_active(PyObject *self, void *closure)
{
    return PyBool_FromLong(hp_mem_session.owner == self && hp_mem_active());
}

static PyObject *MemTracker_get_forked(PyObject *self, void *closure)
{
    return PyBool_FromLong(hp_mem_session.owner == self && hp_mem_session.forked);
}

static void MemTracker_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (audit_owner == self) {
        Py_CLEAR(audit_callback);
        audit_owner = NULL;
    }
    if (hp_mem_session.owner == self) {
        PyObject *r = MemTracker_stop(self, NULL);
        if (!r)
            PyErr_Clear();
        Py_XDECREF(r);
        data_clear();
    }
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef MemTracker_methods[] = {
    {"start", (PyCFunction)(void (*)(void))MemTracker_start, METH_VARARGS | METH_KEYWORDS,
     "start(mode='exact', sample_bytes=16384, max_frames=64, interval=0.01, native=True)\n"
     "Record allocations from now on (fresh data)."},
    {"stop", MemTracker_stop, METH_NOARGS, "Stop recording; the data stays until clear()."},
    {"snapshot", MemTracker_snapshot, METH_NOARGS, "The data: stacks, totals, timeline (a dict)."},
    {"snapshot_columns", MemTracker_snapshot_columns, METH_NOARGS,
     "The data as snapshot() gives it, with 'columns' (codes, parent, code, line, counters: "
     "a list and packed int32/int64 columns) in place of 'nodes'."},
    {"shape", (PyCFunction)(void (*)(void))hp_mem_shape, METH_FASTCALL | METH_STATIC,
     "shape(parent, code, line, counters, code_fid, code_flags, none_fid, has_entry)\n"
     "The memory section's tree and stacks from snapshot_columns() (memshape.h)."},
    {"tree_nearest", (PyCFunction)(void (*)(void))hp_mem_tree_nearest, METH_FASTCALL | METH_STATIC,
     "tree_nearest(parent, value) -> int32 bytes: per node, value of the nearest node on its "
     "path (itself first) whose value is >= 0, else -1."},
    {"tree_inclusive", (PyCFunction)(void (*)(void))hp_mem_tree_inclusive,
     METH_FASTCALL | METH_STATIC,
     "tree_inclusive(parent, key, nkeys, stack_node, weights, k) -> (int64 bytes nkeys*k, "
     "seen bytes): per key, the weights of the stacks through a node of that key, once each."},
    {"tree_expand", (PyCFunction)(void (*)(void))hp_mem_tree_expand, METH_FASTCALL | METH_STATIC,
     "tree_expand(parent, frame, stack_node) -> (flat int32 bytes, offsets int64 bytes): "
     "each stack's frames, innermost first."},
    {"sum_by", (PyCFunction)(void (*)(void))hp_mem_sum_by, METH_FASTCALL | METH_STATIC,
     "sum_by(keys, weights, k) -> (keys int32 bytes in first-seen order, int64 sums bytes)."},
    {"column_bounds", hp_mem_column_bounds, METH_O | METH_STATIC,
     "column_bounds(column) -> (min, max, bad): an integer column's least and greatest value "
     "(None when empty), and its first index i > 0 whose value is not in [0, i), or -1."},
    {"live", MemTracker_live, METH_NOARGS, "Tracked live bytes now."},
    {"peak", MemTracker_peak, METH_NOARGS, "Tracked live bytes at the peak."},
    {"reset_peak", MemTracker_reset_peak, METH_NOARGS, "Restart the peak from the live bytes now."},
    {"pause", MemTracker_pause, METH_NOARGS, "Stop recording this thread's allocations (nests)."},
    {"resume", MemTracker_resume, METH_NOARGS, "Undo one pause()."},
    {"forget", (PyCFunction)(void (*)(void))MemTracker_forget, METH_FASTCALL,
     "forget(*objs) -> int\nDrop objects the interpreter just allocated for a hook, newest "
     "first, as if never allocated (only this thread's newest recorded blocks; see "
     "docs/memory.md). Returns how many blocks were dropped."},
    {"settrace", MemTracker_settrace, METH_O,
     "settrace(callback or None)\n3.11: callback(frame, event) (0 call, 2 line, 3 return) "
     "for code marked with watch(), from a C trace function on every thread; called "
     "paused. The frame object 3.11 makes for each call is forgotten."},
    {"watch", MemTracker_watch, METH_O, "watch(code)\n3.11: mark code for settrace()."},
    {"audit_exec", MemTracker_audit_exec, METH_O,
     "audit_exec(callback or None)\nCall callback(code) for each 'exec' audit event while "
     "this tracker records; audited events' argument tuples are forgotten."},
    {"clear", MemTracker_clear, METH_NOARGS, "Drop the data (not while recording)."},
    {"native_available", MemTracker_native_available, METH_NOARGS | METH_STATIC,
     "Whether the preload shim is loaded, so native allocations can be tracked."},
    {NULL}};

static PyGetSetDef MemTracker_getset[] = {
    {"active", MemTracker_get_active, NULL, "Recording now.", NULL},
    {"forked", MemTracker_get_forked, NULL, "This is a fork child of the recording process.", NULL},
    {NULL}};

static PyType_Slot MemTracker_slots[] = {
    {Py_tp_doc, "MemTracker(): the memory tracker's capture (one records at a time)."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, MemTracker_dealloc},
    {Py_tp_methods, MemTracker_methods},
    {Py_tp_getset, MemTracker_getset},
    {0, NULL}};

PyType_Spec hp_mem_tracker_spec = {
    .name = "hotpath._core.MemTracker",
    .basicsize = sizeof(hp_mem_tracker),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = MemTracker_slots,
};
