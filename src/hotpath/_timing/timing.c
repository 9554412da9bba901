/* timing.c — hotpath._timing: the benchmark timing loop and loop-count calibration.
 *
 * The Python side (hotpath.bench.runner) decides what to time, how many rounds and
 * what to subtract; this file does only what must not carry interpreter overhead:
 *
 *   run(func, loops, args, kwargs, clock, gc)    one round: `loops` calls, one clock pair
 *   run_both(func, loops, args, kwargs, gc)      one round timed on two clocks at once:
 *                                                wall (perf) and this thread's CPU time
 *   run_each(func, calls, clock, gc)             one round over prepared (args, kwargs)
 *   calibrate(func, target_ns, args, kwargs, clock, gc, max_loops)
 *                                                the loop count whose round lasts at
 *                                                least target_ns
 *   count(func, loops, args, kwargs, gc, perf)   one round inside hp_timing_counted_region,
 *                                                the only code counted: by perf events
 *                                                (perf=True: returns the counts) or by
 *                                                callgrind toggled on that function's name
 *   perf_status()                                0 when perf events count instructions
 *                                                here, else the errno that refused them
 *   noop(*args, **kwargs)                        a do-nothing builtin: the reference for
 *                                                the loop's own cost with C callables
 *   clock_info()                                 resolution and read cost of each clock
 *
 * Invariants:
 * - A round reads its clock exactly twice, outside the loop (run_both: the CPU clock
 *   nested inside the wall clock); the loop body is one
 *   vectorcall and one decref. Everything a call needs (argument array, keyword names)
 *   is built before the first clock read and released after the second.
 * - The garbage collector is disabled for the round unless gc=True, and its previous
 *   state is restored on every exit path, including when the callable raises.
 * - Every function holds the GIL throughout. The module state is written only by
 *   exec (before the module is visible) and read-only afterwards.
 *
 * Return convention: every METH_* function returns a new reference, or NULL with an
 * exception set. Static helpers state their own convention above them.
 */
#include "common/compat.h" /* Python.h and the version predicates */

#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "timing.h"
#include "counters.h"

/* ------------------------------------------------------------------------ clocks */

static const clockid_t hp_timing_clock_ids[HP_TIMING_NCLOCKS] = {
    CLOCK_MONOTONIC,          /* HP_TIMING_CLOCK_PERF */
    CLOCK_PROCESS_CPUTIME_ID, /* HP_TIMING_CLOCK_PROCESS */
    CLOCK_THREAD_CPUTIME_ID,  /* HP_TIMING_CLOCK_THREAD */
};

/* Per-module state: measured once at exec, read-only afterwards. */
typedef struct {
    int64_t resolution_ns[HP_TIMING_NCLOCKS]; /* clock_getres */
    double read_cost_ns[HP_TIMING_NCLOCKS];   /* best-of-batches cost of one clock read */
} hp_timing_state;

static inline hp_timing_state *hp_timing_get_state(PyObject *module)
{
    return (hp_timing_state *)PyModule_GetState(module);
}

/* Current time of `clock` in ns. Cannot fail for a checked clock number. */
static inline int64_t hp_timing_now(int clock)
{
    struct timespec ts;
    clock_gettime(hp_timing_clock_ids[clock], &ts);
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

/* 0, or -1 with ValueError set. */
static int hp_timing_check_clock(int clock)
{
    if (clock < 0 || clock >= HP_TIMING_NCLOCKS) {
        PyErr_Format(PyExc_ValueError, "clock must be 0 (perf), 1 (process) or 2 (thread), not %d",
                     clock);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- garbage collector */

/* Disable the collector unless keep_gc; returns what hp_timing_gc_restore needs. */
static inline int hp_timing_gc_off(int keep_gc)
{
    return keep_gc ? 0 : PyGC_Disable();
}

static inline void hp_timing_gc_restore(int was_enabled)
{
    if (was_enabled) {
        PyGC_Enable();
    }
}

/* -------------------------------------------------------------- call preparation */

/* A call prepared for vectorcall. base[0] is a spare slot so the callee may use
 * PY_VECTORCALL_ARGUMENTS_OFFSET (bound methods do, to avoid a copy); base[1..] holds
 * the positional arguments then the keyword values, each a strong reference. */
typedef struct {
    PyObject **base;
    Py_ssize_t nargs;
    Py_ssize_t nkw;
    PyObject *kwnames; /* NULL or a tuple of str, strong */
} hp_timing_call;

static void hp_timing_call_clear(hp_timing_call *call)
{
    if (call->base != NULL) {
        for (Py_ssize_t i = 1; i <= call->nargs + call->nkw; i++) {
            Py_XDECREF(call->base[i]);
        }
        PyMem_Free(call->base);
        call->base = NULL;
    }
    Py_CLEAR(call->kwnames);
    call->nargs = call->nkw = 0;
}

/* Fill `call` from args (a tuple, or NULL/None) and kwargs (a dict, or NULL/None).
 * 0 on success; -1 with an exception set, with `call` left cleared. */
static int hp_timing_call_init(hp_timing_call *call, PyObject *args, PyObject *kwargs)
{
    call->base = NULL;
    call->nargs = call->nkw = 0;
    call->kwnames = NULL;
    if (args == Py_None) {
        args = NULL;
    }
    if (kwargs == Py_None) {
        kwargs = NULL;
    }
    if (args != NULL && !PyTuple_Check(args)) {
        PyErr_SetString(PyExc_TypeError, "args must be a tuple or None");
        return -1;
    }
    if (kwargs != NULL && !PyDict_Check(kwargs)) {
        PyErr_SetString(PyExc_TypeError, "kwargs must be a dict or None");
        return -1;
    }
    Py_ssize_t nargs = args ? PyTuple_GET_SIZE(args) : 0;
    Py_ssize_t nkw = kwargs ? PyDict_GET_SIZE(kwargs) : 0;
    call->base = PyMem_Calloc((size_t)(nargs + nkw + 1), sizeof(PyObject *));
    if (call->base == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        call->base[1 + i] = Py_NewRef(PyTuple_GET_ITEM(args, i));
    }
    call->nargs = nargs;
    if (nkw > 0) {
        call->kwnames = PyTuple_New(nkw);
        if (call->kwnames == NULL) {
            hp_timing_call_clear(call);
            return -1;
        }
        Py_ssize_t pos = 0, i = 0;
        PyObject *key, *value;
        while (i < nkw && PyDict_Next(kwargs, &pos, &key, &value)) {
            if (!PyUnicode_Check(key)) {
                PyErr_SetString(PyExc_TypeError, "keywords must be strings");
                hp_timing_call_clear(call);
                return -1;
            }
            PyTuple_SET_ITEM(call->kwnames, i, Py_NewRef(key));
            call->base[1 + nargs + i] = Py_NewRef(value);
            call->nkw = ++i;
        }
    }
    return 0;
}

/* One call; new reference or NULL with an exception set. */
static inline PyObject *hp_timing_call_once(PyObject *func, const hp_timing_call *call)
{
    return PyObject_Vectorcall(func, call->base + 1,
                               (size_t)call->nargs | PY_VECTORCALL_ARGUMENTS_OFFSET, call->kwnames);
}

/* ------------------------------------------------------------------------- rounds */

/* Time `loops` calls of func. Elapsed ns in *elapsed; 0, or -1 with the callable's
 * exception set (the collector's state is restored either way). */
static int hp_timing_round(PyObject *func, const hp_timing_call *call, long long loops, int clock,
                           int keep_gc, int64_t *elapsed)
{
    int gc_was = hp_timing_gc_off(keep_gc);
    int64_t t0 = hp_timing_now(clock);
    for (long long i = 0; i < loops; i++) {
        PyObject *r = hp_timing_call_once(func, call);
        if (r == NULL) {
            hp_timing_gc_restore(gc_was);
            return -1;
        }
        Py_DECREF(r);
    }
    int64_t t1 = hp_timing_now(clock);
    hp_timing_gc_restore(gc_was);
    *elapsed = t1 - t0;
    return 0;
}

PyDoc_STRVAR(hp_timing_run_doc,
             "run(func, loops, args=None, kwargs=None, clock=0, gc=False) -> int\n\n"
             "Call func(*args, **kwargs) `loops` times between two reads of `clock` and return\n"
             "the elapsed nanoseconds. The collector is off for the round unless gc is true.\n"
             "An exception raised by func propagates.");

static PyObject *hp_timing_run(PyObject *module, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"func", "loops", "args", "kwargs", "clock", "gc", NULL};
    PyObject *func, *fargs = NULL, *fkwargs = NULL;
    long long loops;
    int clock = HP_TIMING_CLOCK_PERF, keep_gc = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OL|OOip:run", kwlist, &func, &loops, &fargs,
                                     &fkwargs, &clock, &keep_gc)) {
        return NULL;
    }
    if (hp_timing_check_clock(clock) < 0) {
        return NULL;
    }
    if (loops < 0) {
        PyErr_SetString(PyExc_ValueError, "loops must be >= 0");
        return NULL;
    }
    hp_timing_call call;
    if (hp_timing_call_init(&call, fargs, fkwargs) < 0) {
        return NULL;
    }
    int64_t elapsed;
    int rc = hp_timing_round(func, &call, loops, clock, keep_gc, &elapsed);
    hp_timing_call_clear(&call);
    if (rc < 0) {
        return NULL;
    }
    return PyLong_FromLongLong(elapsed);
}

PyDoc_STRVAR(hp_timing_run_both_doc,
             "run_both(func, loops, args=None, kwargs=None, gc=False) -> (wall_ns, cpu_ns)\n\n"
             "As run(), timing the round on the wall clock and on this thread's CPU clock at once\n"
             "(the CPU reads nested inside the wall reads). The CPU time leaves out the time the\n"
             "thread was not running: other programs holding the CPU, sleeping, waiting.");

static PyObject *hp_timing_run_both(PyObject *module, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"func", "loops", "args", "kwargs", "gc", NULL};
    PyObject *func, *fargs = NULL, *fkwargs = NULL;
    long long loops;
    int keep_gc = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OL|OOp:run_both", kwlist, &func, &loops, &fargs,
                                     &fkwargs, &keep_gc)) {
        return NULL;
    }
    if (loops < 0) {
        PyErr_SetString(PyExc_ValueError, "loops must be >= 0");
        return NULL;
    }
    hp_timing_call call;
    if (hp_timing_call_init(&call, fargs, fkwargs) < 0) {
        return NULL;
    }
    int gc_was = hp_timing_gc_off(keep_gc);
    int64_t w0 = hp_timing_now(HP_TIMING_CLOCK_PERF);
    int64_t c0 = hp_timing_now(HP_TIMING_CLOCK_THREAD);
    int failed = 0;
    for (long long i = 0; i < loops; i++) {
        PyObject *r = hp_timing_call_once(func, &call);
        if (r == NULL) {
            failed = 1;
            break;
        }
        Py_DECREF(r);
    }
    int64_t c1 = hp_timing_now(HP_TIMING_CLOCK_THREAD);
    int64_t w1 = hp_timing_now(HP_TIMING_CLOCK_PERF);
    hp_timing_gc_restore(gc_was);
    hp_timing_call_clear(&call);
    if (failed) {
        return NULL;
    }
    return Py_BuildValue("(LL)", (long long)(w1 - w0), (long long)(c1 - c0));
}

PyDoc_STRVAR(hp_timing_run_each_doc,
             "run_each(func, calls, clock=0, gc=False) -> int\n\n"
             "calls is a sequence of (args, kwargs) pairs prepared beforehand (setup kept out of\n"
             "the timing). Call func once with each, in order, between two reads of `clock`, and\n"
             "return the elapsed nanoseconds.");

static PyObject *hp_timing_run_each(PyObject *module, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"func", "calls", "clock", "gc", NULL};
    PyObject *func, *calls_obj;
    int clock = HP_TIMING_CLOCK_PERF, keep_gc = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|ip:run_each", kwlist, &func, &calls_obj, &clock,
                                     &keep_gc)) {
        return NULL;
    }
    if (hp_timing_check_clock(clock) < 0) {
        return NULL;
    }
    PyObject *seq = PySequence_Fast(calls_obj, "calls must be a sequence of (args, kwargs)");
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    hp_timing_call *calls = PyMem_Calloc((size_t)(n ? n : 1), sizeof(hp_timing_call));
    if (calls == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    Py_ssize_t ready = 0;
    PyObject *result = NULL;
    for (; ready < n; ready++) {
        PyObject *pair = PySequence_Fast_GET_ITEM(seq, ready);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "each call must be an (args, kwargs) tuple");
            goto done;
        }
        if (hp_timing_call_init(&calls[ready], PyTuple_GET_ITEM(pair, 0),
                                PyTuple_GET_ITEM(pair, 1)) < 0) {
            goto done;
        }
    }
    int gc_was = hp_timing_gc_off(keep_gc);
    int64_t t0 = hp_timing_now(clock);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *r = hp_timing_call_once(func, &calls[i]);
        if (r == NULL) {
            hp_timing_gc_restore(gc_was);
            goto done;
        }
        Py_DECREF(r);
    }
    int64_t t1 = hp_timing_now(clock);
    hp_timing_gc_restore(gc_was);
    result = PyLong_FromLongLong(t1 - t0);
done:
    for (Py_ssize_t i = 0; i < ready; i++) {
        hp_timing_call_clear(&calls[i]);
    }
    PyMem_Free(calls);
    Py_DECREF(seq);
    return result;
}

PyDoc_STRVAR(hp_timing_calibrate_doc,
             "calibrate(func, target_ns, args=None, kwargs=None, clock=0, gc=False,\n"
             "          max_loops=2**40) -> (loops, elapsed_ns)\n\n"
             "Find the loop count whose round lasts at least target_ns: start at one call, grow\n"
             "tenfold while a round is too short to estimate from (under a tenth of the target),\n"
             "then scale by the measured rate with 5% headroom, until a round reaches the target\n"
             "(or max_loops). Returns that loop count and the elapsed ns of its round.");

static PyObject *hp_timing_calibrate(PyObject *module, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"func",  "target_ns", "args",      "kwargs",
                             "clock", "gc",        "max_loops", NULL};
    PyObject *func, *fargs = NULL, *fkwargs = NULL;
    long long target_ns, max_loops = HP_TIMING_MAX_LOOPS;
    int clock = HP_TIMING_CLOCK_PERF, keep_gc = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OL|OOipL:calibrate", kwlist, &func, &target_ns,
                                     &fargs, &fkwargs, &clock, &keep_gc, &max_loops)) {
        return NULL;
    }
    if (hp_timing_check_clock(clock) < 0) {
        return NULL;
    }
    if (target_ns <= 0 || max_loops < 1) {
        PyErr_SetString(PyExc_ValueError, "target_ns and max_loops must be positive");
        return NULL;
    }
    hp_timing_call call;
    if (hp_timing_call_init(&call, fargs, fkwargs) < 0) {
        return NULL;
    }
    long long loops = 1;
    int64_t elapsed = 0;
    for (;;) {
        if (hp_timing_round(func, &call, loops, clock, keep_gc, &elapsed) < 0) {
            hp_timing_call_clear(&call);
            return NULL;
        }
        if (elapsed >= target_ns || loops >= max_loops) {
            break;
        }
        double next;
        if (elapsed * 10 < target_ns) {
            next = (double)loops * 10.0;
        } else {
            /* Close enough to estimate the rate: aim 5% past the target. */
            next = (double)loops * 1.05 * (double)target_ns / (double)elapsed;
            if (next < (double)loops + 1.0) {
                next = (double)loops + 1.0;
            }
        }
        loops = next >= (double)max_loops ? max_loops : (long long)next;
        if (PyErr_CheckSignals() < 0) {
            hp_timing_call_clear(&call);
            return NULL;
        }
    }
    hp_timing_call_clear(&call);
    return Py_BuildValue("(LL)", loops, (long long)elapsed);
}

/* ------------------------------------------------------------ counted regions */

/* Keep the region a real function under its own name, never inlined, cloned or
 * merged: callgrind switches counting on and off by that name
 * (--toggle-collect=hp_timing_counted_region, HP_TIMING_REGION_SYMBOL). */
#if defined(__GNUC__) && !defined(__clang__)
#  define HP_TIMING_REGION_ATTR __attribute__((noipa, used))
#elif defined(__GNUC__)
#  define HP_TIMING_REGION_ATTR __attribute__((noinline, used))
#else
#  define HP_TIMING_REGION_ATTR
#endif

/* `loops` calls of func and nothing else, between hp_ctr_start and hp_ctr_stop when
 * ctr is not NULL. 0, or -1 with the callable's exception set (the counters are
 * stopped either way). */
HP_TIMING_REGION_ATTR static int hp_timing_counted_region(PyObject *func,
                                                          const hp_timing_call *call,
                                                          long long loops, const hp_ctr_group *ctr)
{
    int rc = 0;
    if (ctr != NULL) {
        hp_ctr_start(ctr);
    }
    for (long long i = 0; i < loops; i++) {
        PyObject *r = hp_timing_call_once(func, call);
        if (r == NULL) {
            rc = -1;
            break;
        }
        Py_DECREF(r);
    }
    if (ctr != NULL) {
        hp_ctr_stop(ctr);
    }
    return rc;
}

PyDoc_STRVAR(hp_timing_count_doc,
             "count(func, loops, args=None, kwargs=None, gc=False, perf=False) -> dict | None\n\n"
             "Call func(*args, **kwargs) `loops` times inside hp_timing_counted_region, the one\n"
             "function whose code is counted. perf=True counts it with perf events and returns\n"
             "{'instructions': n, 'cycles': n, 'cache_misses': n, 'branch_misses': n} (those the\n"
             "CPU gives; OSError when perf events cannot count instructions here). perf=False\n"
             "returns None: callgrind, toggled on the region's name, does the counting.");

static PyObject *hp_timing_count(PyObject *module, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"func", "loops", "args", "kwargs", "gc", "perf", NULL};
    PyObject *func, *fargs = NULL, *fkwargs = NULL;
    long long loops;
    int keep_gc = 0, use_perf = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OL|OOpp:count", kwlist, &func, &loops, &fargs,
                                     &fkwargs, &keep_gc, &use_perf)) {
        return NULL;
    }
    if (loops < 0) {
        PyErr_SetString(PyExc_ValueError, "loops must be >= 0");
        return NULL;
    }
    hp_timing_call call;
    if (hp_timing_call_init(&call, fargs, fkwargs) < 0) {
        return NULL;
    }
    hp_ctr_group group;
    if (use_perf && hp_ctr_open(&group) < 0) {
        hp_timing_call_clear(&call);
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    int gc_was = hp_timing_gc_off(keep_gc);
    int rc = hp_timing_counted_region(func, &call, loops, use_perf ? &group : NULL);
    hp_timing_gc_restore(gc_was);
    hp_timing_call_clear(&call);
    int64_t values[HP_CTR_N];
    int read_rc = use_perf ? hp_ctr_read(&group, values) : 0;
    if (use_perf) {
        hp_ctr_close(&group);
    }
    if (rc < 0) {
        return NULL;
    }
    if (read_rc < 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    if (!use_perf) {
        Py_RETURN_NONE;
    }
    PyObject *d = PyDict_New();
    if (d == NULL) {
        return NULL;
    }
    for (int i = 0; i < HP_CTR_N; i++) {
        if (values[i] < 0) {
            continue;
        }
        PyObject *v = PyLong_FromLongLong((long long)values[i]);
        if (v == NULL || PyDict_SetItemString(d, hp_ctr_names[i], v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(v);
    }
    return d;
}

PyDoc_STRVAR(hp_timing_perf_status_doc,
             "perf_status() -> int\n\n"
             "0 when perf events can count this thread's instructions, else the errno\n"
             "perf_event_open gave (ENOENT or EOPNOTSUPP: no hardware counters, as in many VMs;\n"
             "EACCES or EPERM: perf_event_paranoid forbids it; ENOSYS: not Linux).");

static PyObject *hp_timing_perf_status(PyObject *module, PyObject *unused)
{
    hp_ctr_group group;
    if (hp_ctr_open(&group) < 0) {
        return PyLong_FromLong(errno ? errno : -1);
    }
    hp_ctr_close(&group);
    return PyLong_FromLong(0);
}

PyDoc_STRVAR(hp_timing_noop_doc,
             "noop(*args, **kwargs) -> None\n\n"
             "Do nothing. The reference call for the loop's own cost with C callables.");

static PyObject *hp_timing_noop(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                PyObject *kwnames)
{
    Py_RETURN_NONE;
}

PyDoc_STRVAR(hp_timing_clock_info_doc,
             "clock_info() -> {clock: (resolution_ns, read_cost_ns)}\n\n"
             "For each clock number: clock_getres() and the cost of one read, measured at import.");

static PyObject *hp_timing_clock_info(PyObject *module, PyObject *unused)
{
    hp_timing_state *st = hp_timing_get_state(module);
    PyObject *d = PyDict_New();
    if (d == NULL) {
        return NULL;
    }
    for (int c = 0; c < HP_TIMING_NCLOCKS; c++) {
        PyObject *k = PyLong_FromLong(c);
        PyObject *v = Py_BuildValue("(Ld)", (long long)st->resolution_ns[c], st->read_cost_ns[c]);
        if (k == NULL || v == NULL || PyDict_SetItem(d, k, v) < 0) {
            Py_XDECREF(k);
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(k);
        Py_DECREF(v);
    }
    return d;
}

/* ------------------------------------------------------------------------- module */

static PyMethodDef hp_timing_methods[] = {
    {"run", (PyCFunction)(void (*)(void))hp_timing_run, METH_VARARGS | METH_KEYWORDS,
     hp_timing_run_doc},
    {"run_both", (PyCFunction)(void (*)(void))hp_timing_run_both, METH_VARARGS | METH_KEYWORDS,
     hp_timing_run_both_doc},
    {"run_each", (PyCFunction)(void (*)(void))hp_timing_run_each, METH_VARARGS | METH_KEYWORDS,
     hp_timing_run_each_doc},
    {"calibrate", (PyCFunction)(void (*)(void))hp_timing_calibrate, METH_VARARGS | METH_KEYWORDS,
     hp_timing_calibrate_doc},
    {"count", (PyCFunction)(void (*)(void))hp_timing_count, METH_VARARGS | METH_KEYWORDS,
     hp_timing_count_doc},
    {"perf_status", hp_timing_perf_status, METH_NOARGS, hp_timing_perf_status_doc},
    {"noop", (PyCFunction)(void (*)(void))hp_timing_noop, METH_FASTCALL | METH_KEYWORDS,
     hp_timing_noop_doc},
    {"clock_info", hp_timing_clock_info, METH_NOARGS, hp_timing_clock_info_doc},
    {NULL, NULL, 0, NULL},
};

/* Measure each clock's resolution and read cost. 0, or -1 with an exception set. */
static int hp_timing_exec(PyObject *module)
{
    hp_timing_state *st = hp_timing_get_state(module);
    for (int c = 0; c < HP_TIMING_NCLOCKS; c++) {
        struct timespec res;
        if (clock_getres(hp_timing_clock_ids[c], &res) != 0) {
            PyErr_SetFromErrno(PyExc_OSError);
            return -1;
        }
        st->resolution_ns[c] = (int64_t)res.tv_sec * 1000000000 + res.tv_nsec;
        double best = -1.0;
        for (int batch = 0; batch < 5; batch++) {
            enum {
                READS = 200
            };
            int64_t t0 = hp_timing_now(c);
            for (int i = 0; i < READS; i++) {
                (void)hp_timing_now(c);
            }
            int64_t t1 = hp_timing_now(c);
            double per = (double)(t1 - t0) / (READS + 1);
            if (best < 0 || per < best) {
                best = per;
            }
        }
        st->read_cost_ns[c] = best;
    }
    if (PyModule_AddIntConstant(module, "CLOCK_PERF", HP_TIMING_CLOCK_PERF) < 0 ||
        PyModule_AddIntConstant(module, "CLOCK_PROCESS", HP_TIMING_CLOCK_PROCESS) < 0 ||
        PyModule_AddIntConstant(module, "CLOCK_THREAD", HP_TIMING_CLOCK_THREAD) < 0 ||
        PyModule_AddStringConstant(module, "REGION_SYMBOL", "hp_timing_counted_region") < 0) {
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot hp_timing_slots[] = {
    {Py_mod_exec, hp_timing_exec},
#if HP_PY312
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if HP_PY313
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef hp_timing_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "hotpath._timing",
    .m_doc = "hotpath's benchmark timing loop and loop-count calibration (see timing.c).",
    .m_size = sizeof(hp_timing_state),
    .m_methods = hp_timing_methods,
    .m_slots = hp_timing_slots,
};

PyMODINIT_FUNC PyInit__timing(void)
{
    return PyModuleDef_Init(&hp_timing_module);
}
