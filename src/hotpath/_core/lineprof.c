/* lineprof.c — line timings for chosen code objects (see lineprof.h for the model).
 *
 * Invariants:
 * - A code object's co_extra slot (index `extra_index`, ours alone) holds NULL or a
 *   pointer to the hp_linecode of the tracer that last claimed it; every hp_linecode
 *   holds a strong reference to its code object, and the tracer resets the slot before
 *   freeing the hp_linecode, so a non-NULL slot never dangles. The hot path checks the
 *   entry's session before trusting it.
 * - A thread's stack holds one entry per running chosen frame, innermost last. Entries
 *   are pushed on a frame's start/resume and popped on its return/yield/unwind; a frame
 *   seen first in the middle (tracing switched on while it ran) is adopted on its first
 *   event, and entries whose frames vanished unseen are dropped when an outer frame's
 *   event finds them above itself.
 * - Failures on the per-event path (out of memory) set `error` and stop recording; they
 *   are raised by the next disable().
 *
 * All fields are protected by the GIL; the sampler's `stop` flag by its mutex.
 */
#include "lineprof.h"
#include "clock.h"
#include "module.h"
#include "newthreads.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- data ----------------------------------------------------------------------- */

typedef struct {
    uint64_t hits;
    int64_t ticks;
} hp_linestat;

typedef struct {
    PyObject *code;          /* strong */
    uint64_t session;        /* the owning tracer's session */
    int first;               /* smallest line number in the code */
    int n;                   /* lines[i] is line first + i */
    hp_linestat *lines;
    int active;              /* line events wanted */
    int auto_chosen;         /* chosen by the automatic mode */
    double chosen_at;        /* seconds after enable() when chosen (auto) */
    uint64_t chosen_samples; /* own-time samples when chosen (auto) */
    double chosen_seconds;   /* sampled own time when chosen (auto) */
} hp_linecode;

typedef struct {
    hp_linecode *lc;
    const void *frame;       /* interpreter frame address: the frame's identity */
    int32_t last;            /* index of the line running, or -1 */
    int64_t t;               /* tick at which it started */
} hp_lineframe;

typedef struct hp_linethread {
    struct hp_linethread *next;
    hp_lineframe *stack;
    uint32_t depth, cap;
} hp_linethread;

typedef struct {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started;             /* thread running (GIL) */
    int stop;                /* protected by mu */
    double interval;         /* seconds between samples */
    uint64_t min_samples;    /* a function needs this many own-time samples, */
    double min_seconds;      /* this much sampled own time, */
    double fraction;         /* and this share of all sampled time so far */
    uint32_t max_chosen;
    PyObject *exclude;       /* tuple of filename prefixes never chosen (strong) */
    PyObject *counts;        /* dict code -> (samples, seconds) (strong; GIL) */
    uint64_t total;          /* thread samples taken */
    double total_seconds;    /* wall time they stand for, summed over threads */
    int64_t last;            /* tick of the previous sample */
    uint32_t chosen;
} hp_sampler;

typedef struct {
    PyObject_HEAD
    uint64_t session;
    hp_linecode **codes;
    uint32_t n_codes, cap_codes;
    hp_linethread *threads;
    int enabled;             /* armed: the event source is installed */
    int recording;           /* armed, and timing (not paused, no error) */
    int explicit;            /* enable() was called (until disable()) */
    uint32_t by_count;       /* decorated calls running (enable_by_count) */
    int error;
    int tool_id;             /* 3.12+: the sys.monitoring tool id held while enabled */
    int64_t enabled_at;
    int64_t enabled_ticks;
    int auto_mode;
    hp_sampler sampler;
} hp_linetracer;

enum { LP_ERR_NONE, LP_ERR_NOMEMORY };

static Py_ssize_t extra_index = -1;           /* process-wide; GIL */
static uint64_t next_session = 1;             /* GIL */
static hp_linetracer *active_tracer = NULL;   /* the one recording tracer; GIL */

typedef struct {
    hp_linethread *t;
    uint64_t session;
} hp_linetls;
static _Thread_local hp_linetls tls;

/* ---- cold helpers ----------------------------------------------------------------- */

static void lp_fail(hp_linetracer *tr, int err)
{
    if (!tr->error)
        tr->error = err;
    tr->recording = 0;
}

/* The calling thread's state under `tr`, created on first sight. NULL on failure. */
static hp_linethread *new_thread(hp_linetracer *tr)
{
    hp_linethread *t = calloc(1, sizeof *t);
    if (!t) {
        lp_fail(tr, LP_ERR_NOMEMORY);
        return NULL;
    }
    t->next = tr->threads;
    tr->threads = t;
    tls.t = t;
    tls.session = tr->session;
    return t;
}

static inline hp_linethread *cur_thread(hp_linetracer *tr)
{
    if (tls.session == tr->session)
        return tls.t;
    return new_thread(tr);
}

/* Push a fresh entry. Returns it, or NULL (recording stopped) when out of memory. */
static hp_lineframe *push(hp_linetracer *tr, hp_linethread *t, hp_linecode *lc, const void *frame)
{
    if (t->depth == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 64;
        hp_lineframe *s = realloc(t->stack, (size_t)cap * sizeof *s);
        if (!s) {
            lp_fail(tr, LP_ERR_NOMEMORY);
            return NULL;
        }
        t->stack = s;
        t->cap = cap;
    }
    hp_lineframe *e = &t->stack[t->depth++];
    e->lc = lc;
    e->frame = frame;
    e->last = -1;
    e->t = 0;
    return e;
}

/* The entry of `frame`, when the top is not it: drop stale entries above it, or adopt
 * the frame (push) when it has none. NULL when out of memory. */
static hp_lineframe *resync(hp_linetracer *tr, hp_linethread *t, hp_linecode *lc, const void *frame)
{
    for (uint32_t i = t->depth; i-- > 0;) {
        if (t->stack[i].frame == frame && t->stack[i].lc == lc) {
            t->depth = i + 1;
            return &t->stack[i];
        }
    }
    return push(tr, t, lc, frame);
}

static inline hp_lineframe *entry_for(hp_linetracer *tr, hp_linethread *t, hp_linecode *lc,
                                      const void *frame)
{
    if (t->depth) {
        hp_lineframe *e = &t->stack[t->depth - 1];
        if (e->frame == frame && e->lc == lc)
            return e;
    }
    return resync(tr, t, lc, frame);
}

/* Look an entry of ours up when the co_extra slot holds another tracer's (cold). */
static hp_linecode *find_code(hp_linetracer *tr, PyObject *code)
{
    for (uint32_t i = 0; i < tr->n_codes; i++) {
        if (tr->codes[i]->code == code) {
            if (hp_code_set_extra(code, extra_index, tr->codes[i]) < 0)
                PyErr_Clear();
            return tr->codes[i];
        }
    }
    return NULL;
}

/* The active entry of `code` under `tr`, or NULL. */
static inline hp_linecode *lookup(hp_linetracer *tr, PyObject *code)
{
    void *extra = NULL;
    if (hp_code_get_extra(code, extra_index, &extra) < 0) {
        PyErr_Clear();
        return NULL;
    }
    hp_linecode *lc = extra;
    if (!lc)
        return NULL;
    if (lc->session != tr->session)
        lc = find_code(tr, code);
    return (lc && lc->active) ? lc : NULL;
}

/* ---- the per-event logic, shared by both event sources ------------------------------ */

/* Close the running line of `e` at `now`. */
static inline void credit(hp_lineframe *e, int64_t now)
{
    if (e->last >= 0) {
        hp_linestat *s = &e->lc->lines[e->last];
        s->hits++;
        s->ticks += now - e->t;
        e->last = -1;
    }
}

static inline void on_lineev(hp_linetracer *tr, hp_linecode *lc, const void *frame, int line)
{
    int64_t now = hp_clock_now();
    hp_linethread *t = cur_thread(tr);
    if (!t)
        return;
    hp_lineframe *e = entry_for(tr, t, lc, frame);
    if (!e)
        return;
    credit(e, now);
    int idx = line - lc->first;
    if (idx >= 0 && idx < lc->n) {
        e->last = idx;
        e->t = hp_clock_now();   /* again, so the tracer's own time is not charged */
    }
}

/* A frame starts or resumes: a fresh entry (replacing a stale one at the same address). */
static inline void on_start(hp_linetracer *tr, hp_linecode *lc, const void *frame)
{
    hp_linethread *t = cur_thread(tr);
    if (!t)
        return;
    if (t->depth && t->stack[t->depth - 1].frame == frame) {
        hp_lineframe *e = &t->stack[t->depth - 1];
        e->lc = lc;
        e->last = -1;
        return;
    }
    push(tr, t, lc, frame);
}

/* A frame returns, yields or unwinds: close its line; pop its entry when `leave`. */
static inline void on_leave(hp_linetracer *tr, hp_linecode *lc, const void *frame, int leave)
{
    int64_t now = hp_clock_now();
    hp_linethread *t = cur_thread(tr);
    if (!t || !t->depth)
        return;
    hp_lineframe *e = &t->stack[t->depth - 1];
    if (e->frame != frame || e->lc != lc) {
        /* a frame we have no entry for exits: nothing to close; drop stale ones above */
        uint32_t i = t->depth;
        while (i-- > 0 && !(t->stack[i].frame == frame && t->stack[i].lc == lc))
            ;
        if (i == UINT32_MAX)
            return;
        t->depth = i + 1;
        e = &t->stack[i];
    }
    credit(e, now);
    if (leave)
        t->depth--;
}

/* ---- 3.12+: sys.monitoring ---------------------------------------------------------- */

#if HP_HAVE_MONITORING

static const int tool_ids[] = {4, 3};          /* preference order; 2 is the profiler's */
static PyObject *disable_obj = NULL;           /* sys.monitoring.DISABLE (strong; GIL) */

static inline const void *frame_key(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyThreadState_GetUnchecked()->current_frame;
#else
    return PyThreadState_GET()->cframe->current_frame;
#endif
}

/* LINE(code, line_number) */
static PyObject *mon_line(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_linetracer *tr = (hp_linetracer *)self;
    hp_linecode *lc;
    if (!tr->recording || nargs < 2 || !(lc = lookup(tr, args[0])))
        return Py_NewRef(tr->recording ? disable_obj : Py_None);
    long line = PyLong_AsLong(args[1]);
    if (line == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    on_lineev(tr, lc, frame_key(), (int)line);
    Py_RETURN_NONE;
}

/* PY_START / PY_RESUME / PY_THROW (code, offset[, exc]) */
static PyObject *mon_enter(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_linetracer *tr = (hp_linetracer *)self;
    hp_linecode *lc;
    if (tr->recording && nargs >= 1 && (lc = lookup(tr, args[0])))
        on_start(tr, lc, frame_key());
    Py_RETURN_NONE;
}

/* PY_RETURN / PY_YIELD / PY_UNWIND (code, offset, value) */
static PyObject *mon_leave(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_linetracer *tr = (hp_linetracer *)self;
    hp_linecode *lc;
    if (tr->recording && nargs >= 1 && (lc = lookup(tr, args[0])))
        on_leave(tr, lc, frame_key(), 1);
    Py_RETURN_NONE;
}

/* RAISE / RERAISE (code, offset, exc): the line ends here, as line_profiler counts it. */
static PyObject *mon_raise(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_linetracer *tr = (hp_linetracer *)self;
    hp_linecode *lc;
    if (tr->recording && nargs >= 1 && (lc = lookup(tr, args[0])))
        on_leave(tr, lc, frame_key(), 0);
    Py_RETURN_NONE;
}

#define CB(name, fn) {name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL, NULL}
static PyMethodDef cb_line = CB("_hotpath_lines_line", mon_line);
static PyMethodDef cb_enter = CB("_hotpath_lines_enter", mon_enter);
static PyMethodDef cb_leave = CB("_hotpath_lines_leave", mon_leave);
static PyMethodDef cb_raise = CB("_hotpath_lines_raise", mon_raise);

static const struct { const char *event; PyMethodDef *def; int local; } mon_table[] = {
    {"LINE", &cb_line, 1}, {"PY_START", &cb_enter, 1}, {"PY_RESUME", &cb_enter, 1},
    {"PY_RETURN", &cb_leave, 1}, {"PY_YIELD", &cb_leave, 1},
    {"PY_THROW", &cb_enter, 0}, {"PY_UNWIND", &cb_leave, 0},
    {"RAISE", &cb_raise, 0}, {"RERAISE", &cb_raise, 0},
};
#define N_MON (int)(sizeof mon_table / sizeof mon_table[0])
static long local_mask = 0, global_mask = 0;   /* from sys.monitoring.events; GIL */

/* Borrowed reference to sys.monitoring, or NULL with an exception set. */
static PyObject *monitoring(void)
{
    PyObject *mon = PySys_GetObject("monitoring");
    if (!mon)
        PyErr_SetString(PyExc_RuntimeError, "sys.monitoring is missing");
    return mon;
}

/* Register our callbacks (on) or None (off) for every event; 0 / -1. */
static int mon_register(hp_linetracer *tr, PyObject *mon, int on)
{
    PyObject *events = PyObject_GetAttrString(mon, "events");
    if (!events)
        return -1;
    long local = 0, global = 0;
    for (int i = 0; i < N_MON; i++) {
        PyObject *ev = PyObject_GetAttrString(events, mon_table[i].event);
        long bit = ev ? PyLong_AsLong(ev) : -1;
        PyObject *cb = on ? PyCFunction_NewEx(mon_table[i].def, (PyObject *)tr, NULL)
                          : Py_NewRef(Py_None);
        PyObject *r = (ev && cb && bit >= 0) ?
            PyObject_CallMethod(mon, "register_callback", "iOO", tr->tool_id, ev, cb) : NULL;
        Py_XDECREF(ev);
        Py_XDECREF(cb);
        if (!r) {
            Py_DECREF(events);
            return -1;
        }
        Py_DECREF(r);
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
static int mon_set_code(hp_linetracer *tr, hp_linecode *lc, int on)
{
    PyObject *mon = monitoring();
    if (!mon)
        return -1;
    PyObject *r = PyObject_CallMethod(mon, "set_local_events", "iOl", tr->tool_id, lc->code,
                                      on ? local_mask : 0L);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

static int source_start(hp_linetracer *tr)
{
    PyObject *mon = monitoring();
    if (!mon)
        return -1;
    if (!disable_obj && !(disable_obj = PyObject_GetAttrString(mon, "DISABLE")))
        return -1;
    tr->tool_id = -1;
    PyObject *holders[2] = {NULL, NULL};
    for (int i = 0; i < 2 && tr->tool_id < 0; i++) {
        holders[i] = PyObject_CallMethod(mon, "get_tool", "i", tool_ids[i]);
        if (!holders[i])
            goto fail;
        if (holders[i] == Py_None)
            tr->tool_id = tool_ids[i];
    }
    if (tr->tool_id < 0) {
        PyErr_Format(PyExc_RuntimeError,
            "hotpath's line profiler needs a free sys.monitoring tool id: %d is held by %R "
            "and %d by %R; stop those tools first", tool_ids[0], holders[0], tool_ids[1],
            holders[1]);
        goto fail;
    }
    Py_CLEAR(holders[0]);
    Py_CLEAR(holders[1]);
    PyObject *r = PyObject_CallMethod(mon, "use_tool_id", "is", tr->tool_id, "hotpath-lines");
    if (!r)
        return -1;
    Py_DECREF(r);
    if (mon_register(tr, mon, 1) < 0 ||
        !(r = PyObject_CallMethod(mon, "set_events", "il", tr->tool_id, global_mask)))
        goto undo;
    Py_DECREF(r);
    for (uint32_t i = 0; i < tr->n_codes; i++) {
        if (tr->codes[i]->active && mon_set_code(tr, tr->codes[i], 1) < 0)
            goto undo;
    }
    return 0;
undo: {
        hp_saved_exc saved;
        hp_exc_save(&saved);
        mon_register(tr, mon, 0);
        Py_XDECREF(PyObject_CallMethod(mon, "free_tool_id", "i", tr->tool_id));
        PyErr_Clear();
        hp_exc_restore(&saved);
        return -1;
    }
fail:
    Py_XDECREF(holders[0]);
    Py_XDECREF(holders[1]);
    return -1;
}

static int source_stop(hp_linetracer *tr)
{
    PyObject *mon = monitoring();
    if (!mon)
        return -1;
    int rc = 0;
    for (uint32_t i = 0; i < tr->n_codes; i++) {
        if (tr->codes[i]->active && mon_set_code(tr, tr->codes[i], 0) < 0)
            rc = -1;
    }
    PyObject *r = PyObject_CallMethod(mon, "set_events", "ii", tr->tool_id, 0);
    if (!r || mon_register(tr, mon, 0) < 0)
        rc = -1;
    Py_XDECREF(r);
    r = PyObject_CallMethod(mon, "free_tool_id", "i", tr->tool_id);
    if (!r)
        rc = -1;
    Py_XDECREF(r);
    return rc;
}

/* A code object becomes active while enabled: switch its events on. 0 / -1. */
static int source_activate(hp_linetracer *tr, hp_linecode *lc)
{
    return mon_set_code(tr, lc, 1);
}

/* ---- 3.11: the C trace function ------------------------------------------------------ */

#else

static PyObject *str_f_trace_lines = NULL;    /* interned "f_trace_lines"; GIL */

/* 3.11's struct _frame up to f_trace_lines (Include/internal/pycore_frame.h). Muting a
 * frame is the one thing done for every call of code we do not time, so it writes the
 * field directly once a runtime check at enable() has confirmed the layout; otherwise
 * it goes through the f_trace_lines attribute. */
typedef struct {
    PyObject_HEAD
    PyFrameObject *f_back;
    void *f_frame;
    PyObject *f_trace;
    int f_lineno;
    char f_trace_lines;
} hp_frame311;
static int direct_mute = -1;                   /* -1 unknown, 0 no, 1 yes; GIL */

static void check_layout(void)
{
    PyFrameObject *f = PyEval_GetFrame();      /* borrowed */
    direct_mute = 0;
    if (!f)
        return;
    PyObject *old = PyObject_GetAttr((PyObject *)f, str_f_trace_lines);
    if (!old) {
        PyErr_Clear();
        return;
    }
    int ok = PyObject_SetAttr((PyObject *)f, str_f_trace_lines, Py_False) == 0 &&
             ((hp_frame311 *)f)->f_trace_lines == 0 &&
             PyObject_SetAttr((PyObject *)f, str_f_trace_lines, Py_True) == 0 &&
             ((hp_frame311 *)f)->f_trace_lines == 1;
    PyErr_Clear();
    if (PyObject_SetAttr((PyObject *)f, str_f_trace_lines, old) < 0)
        PyErr_Clear();
    Py_DECREF(old);
    direct_mute = ok;
}

/* Stop line events for a frame we do not time. */
static inline void mute_frame(PyFrameObject *frame)
{
    if (direct_mute == 1)
        ((hp_frame311 *)frame)->f_trace_lines = 0;
    else if (PyObject_SetAttr((PyObject *)frame, str_f_trace_lines, Py_False) < 0)
        PyErr_Clear();
}

static int trace_hook(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    hp_linetracer *tr = (hp_linetracer *)obj;
    if (!tr->recording)
        return 0;
    if (what != PyTrace_LINE && what != PyTrace_CALL && what != PyTrace_RETURN)
        return 0;
    PyCodeObject *co = PyFrame_GetCode(frame);
    hp_linecode *lc = lookup(tr, (PyObject *)co);
    Py_DECREF(co);
    if (!lc) {
        if (what != PyTrace_RETURN)
            mute_frame(frame);
        return 0;
    }
    switch (what) {
    case PyTrace_CALL:
        on_start(tr, lc, frame);
        break;
    case PyTrace_LINE:
        on_lineev(tr, lc, frame, PyFrame_GetLineNumber(frame));
        break;
    case PyTrace_RETURN:
        on_leave(tr, lc, frame, 1);
        break;
    }
    return 0;
}

/* threading's trace hook for new threads, (frame, event, arg): installs the C hook and
 * forwards this first event. */
static PyObject *thread_bootstrap(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_linetracer *tr = (hp_linetracer *)self;
    if (!tr->enabled || nargs != 3) {
        PyEval_SetTrace(NULL, NULL);
        Py_RETURN_NONE;
    }
    PyEval_SetTrace(trace_hook, self);
    if (PyUnicode_Check(args[1]) && PyUnicode_CompareWithASCIIString(args[1], "call") == 0)
        trace_hook(self, (PyFrameObject *)args[0], PyTrace_CALL, Py_None);
    Py_RETURN_NONE;
}

static PyMethodDef bootstrap_def = {
    "_hotpath_lines_bootstrap", (PyCFunction)(void (*)(void))thread_bootstrap, METH_FASTCALL,
    "Installs hotpath's C line-trace hook in a new thread."
};

static int source_start(hp_linetracer *tr)
{
    if (!str_f_trace_lines && !(str_f_trace_lines = PyUnicode_InternFromString("f_trace_lines")))
        return -1;
    if (direct_mute < 0)
        check_layout();
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts; ts = PyThreadState_Next(ts)) {
        if (ts->c_tracefunc && !(ts->c_tracefunc == trace_hook && ts->c_traceobj == (PyObject *)tr)) {
            PyErr_SetString(PyExc_RuntimeError,
                "another tracer is active (sys.settrace: a debugger, coverage or "
                "line_profiler holds the interpreter's trace slot); stop it before enabling "
                "hotpath's line profiler");
            return -1;
        }
    }
    PyObject *boot = PyCFunction_NewEx(&bootstrap_def, (PyObject *)tr, NULL);
    if (!boot)
        return -1;
    int rc = hp_newthreads_set("settrace", boot);
    Py_DECREF(boot);
    if (rc < 0)
        return -1;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts; ts = PyThreadState_Next(ts)) {
        if (_PyEval_SetTrace(ts, trace_hook, (PyObject *)tr) < 0)
            return -1;
    }
    return 0;
}

static int source_stop(hp_linetracer *tr)
{
    int rc = 0;
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts; ts = PyThreadState_Next(ts)) {
        if (ts->c_traceobj == (PyObject *)tr && _PyEval_SetTrace(ts, NULL, NULL) < 0)
            rc = -1;
    }
    if (hp_newthreads_set("settrace", Py_None) < 0)
        rc = -1;
    return rc;
}

/* Frames started from now on see the code on their call event; frames of it already
 * running were muted on their first event, so unmute them (every thread). 0 / -1. */
static int source_activate(hp_linetracer *tr, hp_linecode *lc)
{
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts; ts = PyThreadState_Next(ts)) {
        PyFrameObject *f = PyThreadState_GetFrame(ts);
        while (f) {
            PyCodeObject *co = PyFrame_GetCode(f);
            if ((PyObject *)co == lc->code &&
                PyObject_SetAttr((PyObject *)f, str_f_trace_lines, Py_True) < 0)
                PyErr_Clear();
            Py_DECREF(co);
            PyFrameObject *back = PyFrame_GetBack(f);
            Py_DECREF(f);
            f = back;
        }
    }
    return 0;
}

#endif /* HP_HAVE_MONITORING */

/* ---- registering code objects --------------------------------------------------------- */

/* The range of line numbers the code's instructions carry (with co_firstlineno). 0 / -1. */
static int line_range(PyCodeObject *co, int *first, int *last)
{
    PyObject *bytes = PyCode_GetCode(co);
    if (!bytes)
        return -1;
    Py_ssize_t size = PyBytes_GET_SIZE(bytes);
    Py_DECREF(bytes);
    int lo = co->co_firstlineno, hi = co->co_firstlineno;
    for (Py_ssize_t off = 0; off < size; off += 2) {
        int line = PyCode_Addr2Line(co, (int)off);
        if (line < 0)
            continue;
        if (line < lo)
            lo = line;
        if (line > hi)
            hi = line;
    }
    *first = lo;
    *last = hi;
    return 0;
}

/* Our entry for `code`, created when missing (`created` says which). NULL with an
 * exception set. */
static hp_linecode *register_code(hp_linetracer *tr, PyObject *code, int *created)
{
    *created = 0;
    void *extra = NULL;
    if (hp_code_get_extra(code, extra_index, &extra) < 0)
        return NULL;
    if (extra && ((hp_linecode *)extra)->session == tr->session)
        return extra;
    hp_linecode *lc = find_code(tr, code);
    if (lc)
        return lc;
    int first, last;
    if (line_range((PyCodeObject *)code, &first, &last) < 0)
        return NULL;
    if (tr->n_codes == tr->cap_codes) {
        uint32_t cap = tr->cap_codes ? tr->cap_codes * 2 : 32;
        hp_linecode **c = realloc(tr->codes, (size_t)cap * sizeof *c);
        if (!c) {
            PyErr_NoMemory();
            return NULL;
        }
        tr->codes = c;
        tr->cap_codes = cap;
    }
    lc = calloc(1, sizeof *lc);
    hp_linestat *lines = calloc((size_t)(last - first + 1), sizeof *lines);
    if (!lc || !lines) {
        free(lc);
        free(lines);
        PyErr_NoMemory();
        return NULL;
    }
    lc->code = Py_NewRef(code);
    lc->session = tr->session;
    lc->first = first;
    lc->n = last - first + 1;
    lc->lines = lines;
    if (hp_code_set_extra(code, extra_index, lc) < 0) {
        Py_DECREF(lc->code);
        free(lines);
        free(lc);
        return NULL;
    }
    tr->codes[tr->n_codes++] = lc;
    *created = 1;
    return lc;
}

/* Make `lc` active (line events on). 0 / -1. */
static int activate(hp_linetracer *tr, hp_linecode *lc)
{
    if (lc->active)
        return 0;
    lc->active = 1;
    if (tr->enabled && source_activate(tr, lc) < 0) {
        lc->active = 0;
        return -1;
    }
    return 0;
}

static void free_codes(hp_linetracer *tr)
{
    for (uint32_t i = 0; i < tr->n_codes; i++) {
        hp_linecode *lc = tr->codes[i];
        void *extra = NULL;
        if (hp_code_get_extra(lc->code, extra_index, &extra) == 0 && extra == lc) {
            if (hp_code_set_extra(lc->code, extra_index, NULL) < 0)
                PyErr_Clear();
        }
        else
            PyErr_Clear();
        Py_DECREF(lc->code);
        free(lc->lines);
        free(lc);
    }
    free(tr->codes);
    tr->codes = NULL;
    tr->n_codes = tr->cap_codes = 0;
}

static void free_threads(hp_linetracer *tr)
{
    hp_linethread *t = tr->threads;
    while (t) {
        hp_linethread *next = t->next;
        free(t->stack);
        free(t);
        t = next;
    }
    tr->threads = NULL;
    tr->session = next_session++;   /* invalidates every thread-local pointer */
    for (uint32_t i = 0; i < tr->n_codes; i++)
        tr->codes[i]->session = tr->session;
}

/* ---- the automatic mode's sampler ------------------------------------------------------ */

static double now_seconds(hp_linetracer *tr)
{
    return (double)(hp_clock_now() - tr->enabled_at) * hp_clock_tick_seconds();
}

/* Whether the sampler may choose `co`: a function (not module or class body) from a
 * real file outside the excluded prefixes. */
static int eligible(hp_sampler *s, PyCodeObject *co)
{
    if (!(co->co_flags & CO_NEWLOCALS))
        return 0;
    PyObject *fn = co->co_filename;
    if (!PyUnicode_Check(fn) || PyUnicode_GET_LENGTH(fn) == 0 || PyUnicode_READ_CHAR(fn, 0) == '<')
        return 0;
    if (s->exclude) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(s->exclude); i++) {
            Py_ssize_t m = PyUnicode_Tailmatch(fn, PyTuple_GET_ITEM(s->exclude, i), 0,
                                               PY_SSIZE_T_MAX, -1);
            if (m != 0) {
                PyErr_Clear();
                return 0;
            }
        }
    }
    return 1;
}

/* One sample of every other thread's innermost frame; chooses functions past the
 * threshold. Runs with the GIL held, in the sampler thread. Never raises. */
static void take_sample(hp_linetracer *tr, PyThreadState *me)
{
    hp_sampler *s = &tr->sampler;
    if (!tr->recording)
        return;
    /* each sample stands for the wall time since the previous one: taking the GIL can
     * wait a switch interval (5 ms), so the rate is not the requested one */
    int64_t now = hp_clock_now();
    double dt = (double)(now - (s->last ? s->last : tr->enabled_at)) * hp_clock_tick_seconds();
    s->last = now;
    hp_saved_exc saved;
    hp_exc_save(&saved);
    PyInterpreterState *interp = PyThreadState_GetInterpreter(me);
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts; ts = PyThreadState_Next(ts)) {
        if (ts == me)
            continue;
        PyFrameObject *f = PyThreadState_GetFrame(ts);
        if (!f)
            continue;
        PyCodeObject *co = PyFrame_GetCode(f);
        Py_DECREF(f);
        s->total++;
        s->total_seconds += dt;
        unsigned long long n = 1;
        double secs = dt;
        PyObject *old = PyDict_GetItemWithError(s->counts, (PyObject *)co);
        if (old && PyTuple_Check(old) && PyTuple_GET_SIZE(old) == 2) {
            n += PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(old, 0));
            secs += PyFloat_AsDouble(PyTuple_GET_ITEM(old, 1));
        }
        PyObject *v = Py_BuildValue("(Kd)", n, secs);
        if (!v || PyDict_SetItem(s->counts, (PyObject *)co, v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(co);
            PyErr_Clear();
            continue;
        }
        Py_DECREF(v);
        if (s->chosen < s->max_chosen && n >= s->min_samples && secs >= s->min_seconds &&
            secs >= s->fraction * s->total_seconds && eligible(s, co)) {
            void *extra = NULL;
            if (hp_code_get_extra((PyObject *)co, extra_index, &extra) < 0)
                PyErr_Clear();
            hp_linecode *lc = extra;
            if (!(lc && lc->session == tr->session && lc->active)) {
                int created;
                lc = register_code(tr, (PyObject *)co, &created);
                if (lc && !lc->active) {
                    lc->auto_chosen = 1;
                    lc->chosen_at = now_seconds(tr);
                    lc->chosen_samples = n;
                    lc->chosen_seconds = secs;
                    if (activate(tr, lc) == 0)
                        s->chosen++;
                }
                PyErr_Clear();
            }
        }
        Py_DECREF(co);
    }
    hp_exc_restore(&saved);
}

static void *sampler_main(void *arg)
{
    hp_linetracer *tr = arg;
    hp_sampler *s = &tr->sampler;
    PyGILState_STATE g = PyGILState_Ensure();
    PyThreadState *me = PyEval_SaveThread();
    for (;;) {
        pthread_mutex_lock(&s->mu);
        if (!s->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long ns = ts.tv_nsec + (long)(s->interval * 1e9);
            ts.tv_sec += ns / 1000000000L;
            ts.tv_nsec = ns % 1000000000L;
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        }
        int stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            break;
        PyEval_RestoreThread(me);
        take_sample(tr, me);
        me = PyEval_SaveThread();
    }
    PyEval_RestoreThread(me);
    PyGILState_Release(g);
    return NULL;
}

/* Start the sampler thread (GIL held). 0 / -1. */
static int sampler_start(hp_linetracer *tr)
{
    hp_sampler *s = &tr->sampler;
    if (!s->counts && !(s->counts = PyDict_New()))
        return -1;
    s->stop = 0;
    s->last = 0;
    if (pthread_create(&s->thread, NULL, sampler_main, tr) != 0) {
        PyErr_SetString(PyExc_RuntimeError, "hotpath: cannot start the sampler thread");
        return -1;
    }
    s->started = 1;
    return 0;
}

/* Stop and join the sampler (GIL held; released while joining). */
static void sampler_stop(hp_linetracer *tr)
{
    hp_sampler *s = &tr->sampler;
    if (!s->started)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    Py_BEGIN_ALLOW_THREADS
    pthread_join(s->thread, NULL);
    Py_END_ALLOW_THREADS
    s->started = 0;
}

/* ---- the type --------------------------------------------------------------------------- */

static int LineTracer_init(hp_linetracer *tr, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, ":LineTracer", kwlist))
        return -1;
    if (tr->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "cannot re-initialize an enabled LineTracer");
        return -1;
    }
    if (extra_index < 0) {
        extra_index = hp_code_request_extra_index(NULL);
        if (extra_index < 0) {
            PyErr_SetString(PyExc_RuntimeError, "hotpath: no code-object extra slot left");
            return -1;
        }
    }
    if (!tr->session) {
        tr->session = next_session++;
        pthread_mutex_init(&tr->sampler.mu, NULL);
        pthread_cond_init(&tr->sampler.cv, NULL);
        tr->sampler.interval = 0.001;
        tr->sampler.min_samples = 2;
        tr->sampler.min_seconds = 0.01;
        tr->sampler.fraction = 0.05;
        tr->sampler.max_chosen = 10;
    }
    return 0;
}

static int disarm(hp_linetracer *tr);

static void LineTracer_dealloc(hp_linetracer *tr)
{
    PyTypeObject *tp = Py_TYPE(tr);
    PyObject_GC_UnTrack(tr);
    if (tr->enabled) {
        hp_saved_exc saved;
        hp_exc_save(&saved);
        if (disarm(tr) < 0)
            PyErr_WriteUnraisable((PyObject *)tr);
        hp_exc_restore(&saved);
    }
    free_threads(tr);
    free_codes(tr);
    Py_CLEAR(tr->sampler.exclude);
    Py_CLEAR(tr->sampler.counts);
    if (tr->session) {
        pthread_mutex_destroy(&tr->sampler.mu);
        pthread_cond_destroy(&tr->sampler.cv);
    }
    tp->tp_free(tr);
    Py_DECREF(tp);
}

static int LineTracer_traverse(hp_linetracer *tr, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(tr));
    Py_VISIT(tr->sampler.exclude);
    Py_VISIT(tr->sampler.counts);
    for (uint32_t i = 0; i < tr->n_codes; i++)
        Py_VISIT(tr->codes[i]->code);
    return 0;
}

static int LineTracer_clear_refs(hp_linetracer *tr)
{
    Py_CLEAR(tr->sampler.exclude);
    if (!tr->sampler.started)
        Py_CLEAR(tr->sampler.counts);
    return 0;
}

/* add_code(code) -> bool: time this code object's lines; True when it was new. */
static PyObject *LineTracer_add_code(hp_linetracer *tr, PyObject *code)
{
    if (!PyCode_Check(code)) {
        PyErr_Format(PyExc_TypeError, "add_code() needs a code object, not %.200s",
                     Py_TYPE(code)->tp_name);
        return NULL;
    }
    int created;
    hp_linecode *lc = register_code(tr, code, &created);
    if (!lc)
        return NULL;
    int was_active = lc->active;
    if (activate(tr, lc) < 0)
        return NULL;
    return PyBool_FromLong(created || !was_active);
}

/* The exception in flight as one object (new reference), cleared. */
static PyObject *take_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

/* Recording on / off; the time recorded adds up in enabled_ticks. */
static void rec_on(hp_linetracer *tr)
{
    if (!tr->recording && !tr->error) {
        tr->recording = 1;
        tr->enabled_at = hp_clock_now();
    }
}

static void rec_off(hp_linetracer *tr)
{
    if (tr->recording) {
        tr->recording = 0;
        tr->enabled_ticks += hp_clock_now() - tr->enabled_at;
    }
}

/* Remove the event source (and the sampler); frames still running lose their open
 * line, as with line_profiler's disable(). 0 / -1 with an exception set. */
static int disarm(hp_linetracer *tr)
{
    if (!tr->enabled)
        return 0;
    sampler_stop(tr);
    rec_off(tr);
    int rc = source_stop(tr);
    tr->enabled = 0;
    if (active_tracer == tr)
        active_tracer = NULL;
    free_threads(tr);
    return rc;
}

/* Install the event source. A tracer that is only paused (armed by a decorator whose
 * calls have all returned) gives way; one that records does not. 0 / -1. */
static int arm(hp_linetracer *tr)
{
    if (tr->enabled)
        return 0;
    if (active_tracer && active_tracer != tr) {
        hp_linetracer *other = active_tracer;
        if (other->explicit || other->by_count) {
            PyErr_SetString(PyExc_RuntimeError,
                "another hotpath line profiler is enabled; disable it first");
            return -1;
        }
        if (disarm(other) < 0)
            return -1;
    }
    /* reclaim the co_extra slots another tracer may have taken meanwhile */
    for (uint32_t i = 0; i < tr->n_codes; i++) {
        if (hp_code_set_extra(tr->codes[i]->code, extra_index, tr->codes[i]) < 0)
            return -1;
    }
    hp_clock_init();
    tr->enabled = 1;   /* before the source starts: new threads check it */
    if (source_start(tr) < 0) {
        tr->enabled = 0;
        return -1;
    }
    active_tracer = tr;
    if (tr->auto_mode && sampler_start(tr) < 0) {
        hp_saved_exc saved;
        hp_exc_save(&saved);
        disarm(tr);
        PyErr_Clear();
        hp_exc_restore(&saved);
        return -1;
    }
    return 0;
}

static PyObject *LineTracer_enable(hp_linetracer *tr, PyObject *Py_UNUSED(ignored))
{
    if (arm(tr) < 0)
        return NULL;
    tr->explicit = 1;
    rec_on(tr);
    Py_RETURN_NONE;
}

static PyObject *LineTracer_disable(hp_linetracer *tr, PyObject *Py_UNUSED(ignored))
{
    tr->explicit = 0;
    tr->by_count = 0;
    if (disarm(tr) < 0)
        return NULL;
    if (tr->error) {
        tr->error = 0;
        return PyErr_NoMemory();
    }
    Py_RETURN_NONE;
}

/* The decorator's entry: record while at least one decorated call runs. Never raises
 * for a conflict with another recording tracer (the call then runs unrecorded, with a
 * warning), so decorating cannot break the program. */
static PyObject *LineTracer_enable_by_count(hp_linetracer *tr, PyObject *Py_UNUSED(ignored))
{
    if (tr->by_count++ == 0 && !tr->explicit) {
        if (arm(tr) < 0) {
            if (!PyErr_ExceptionMatches(PyExc_RuntimeError))
                return NULL;
            PyObject *exc = take_exception();
            int rc = PyErr_WarnFormat(PyExc_RuntimeWarning, 1,
                                      "hotpath: line profiling skipped: %S", exc);
            Py_XDECREF(exc);
            if (rc < 0)
                return NULL;
            Py_RETURN_NONE;
        }
        rec_on(tr);
    }
    Py_RETURN_NONE;
}

/* The decorator's exit. On 3.12+ the tool stays installed, paused (events reach only the
 * chosen code objects, which run through the decorator anyway); on 3.11 the trace hook,
 * which slows every line of the program, comes off. */
static PyObject *LineTracer_disable_by_count(hp_linetracer *tr, PyObject *Py_UNUSED(ignored))
{
    if (tr->by_count == 0 || --tr->by_count > 0 || tr->explicit)
        Py_RETURN_NONE;
    rec_off(tr);
#if !HP_HAVE_MONITORING
    if (disarm(tr) < 0)
        return NULL;
#endif
    Py_RETURN_NONE;
}

/* auto(interval=0.001, min_seconds=0.01, min_samples=2, fraction=0.05, max_functions=10,
 *      exclude=()) */
static PyObject *LineTracer_auto(hp_linetracer *tr, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"interval", "min_seconds", "min_samples", "fraction",
                             "max_functions", "exclude", NULL};
    hp_sampler *s = &tr->sampler;
    double interval = s->interval, fraction = s->fraction, min_seconds = s->min_seconds;
    unsigned long long min_samples = s->min_samples;
    unsigned int max_chosen = s->max_chosen;
    PyObject *exclude = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|ddKdIO!:auto", kwlist, &interval,
                                     &min_seconds, &min_samples, &fraction, &max_chosen,
                                     &PyTuple_Type, &exclude))
        return NULL;
    if (tr->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "configure the automatic mode before enable()");
        return NULL;
    }
    if (!(interval >= 1e-5 && interval <= 10.0)) {
        PyErr_SetString(PyExc_ValueError, "interval must be between 1e-5 and 10 seconds");
        return NULL;
    }
    if (exclude) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(exclude); i++) {
            if (!PyUnicode_Check(PyTuple_GET_ITEM(exclude, i))) {
                PyErr_SetString(PyExc_TypeError, "exclude must be a tuple of str");
                return NULL;
            }
        }
        Py_XSETREF(s->exclude, Py_NewRef(exclude));
    }
    s->interval = interval;
    s->min_samples = min_samples ? min_samples : 1;
    s->fraction = fraction;
    s->min_seconds = min_seconds;
    s->max_chosen = max_chosen;
    tr->auto_mode = 1;
    Py_RETURN_NONE;
}

static PyObject *LineTracer_clear_data(hp_linetracer *tr, PyObject *Py_UNUSED(ignored))
{
    for (uint32_t i = 0; i < tr->n_codes; i++)
        memset(tr->codes[i]->lines, 0, (size_t)tr->codes[i]->n * sizeof(hp_linestat));
    for (hp_linethread *t = tr->threads; t; t = t->next)
        t->depth = 0;
    tr->enabled_ticks = 0;
    if (tr->enabled)
        tr->enabled_at = hp_clock_now();
    Py_RETURN_NONE;
}

/* snapshot() -> dict: tick_seconds, clock, enabled_seconds, samples, and codes: a list
 * of (code, [(lineno, hits, ticks), ...] for lines hit, auto) where auto is None or
 * (chosen_at_seconds, samples_when_chosen, sampled_own_seconds_when_chosen). */
static PyObject *LineTracer_snapshot(hp_linetracer *tr, PyObject *Py_UNUSED(ignored))
{
    PyObject *codes = PyList_New(0);
    if (!codes)
        return NULL;
    for (uint32_t i = 0; i < tr->n_codes; i++) {
        hp_linecode *lc = tr->codes[i];
        PyObject *lines = PyList_New(0);
        if (!lines)
            goto fail;
        for (int j = 0; j < lc->n; j++) {
            if (!lc->lines[j].hits)
                continue;
            PyObject *row = Py_BuildValue("(iKL)", lc->first + j,
                                          (unsigned long long)lc->lines[j].hits,
                                          (long long)lc->lines[j].ticks);
            if (!row || PyList_Append(lines, row) < 0) {
                Py_XDECREF(row);
                Py_DECREF(lines);
                goto fail;
            }
            Py_DECREF(row);
        }
        PyObject *autoinfo = lc->auto_chosen ?
            Py_BuildValue("(dKd)", lc->chosen_at, (unsigned long long)lc->chosen_samples,
                          lc->chosen_seconds) :
            Py_NewRef(Py_None);
        PyObject *item = autoinfo ? Py_BuildValue("(ONN)", lc->code, lines, autoinfo) : NULL;
        if (!autoinfo)
            Py_DECREF(lines);
        if (!item || PyList_Append(codes, item) < 0) {
            Py_XDECREF(item);
            goto fail;
        }
        Py_DECREF(item);
    }
    int64_t ticks = tr->enabled_ticks + (tr->enabled ? hp_clock_now() - tr->enabled_at : 0);
    double tick_seconds = hp_clock_tick_seconds();
    return Py_BuildValue("{s:N,s:d,s:s,s:d,s:K,s:i}", "codes", codes,
                         "tick_seconds", tick_seconds, "clock", hp_clock_name(),
                         "enabled_seconds", (double)ticks * tick_seconds,
                         "samples", (unsigned long long)tr->sampler.total,
                         "tool_id",
#if HP_HAVE_MONITORING
                         tr->enabled ? tr->tool_id : -1
#else
                         -1
#endif
                         );
fail:
    Py_DECREF(codes);
    return NULL;
}

static PyObject *LineTracer_get_enabled(hp_linetracer *tr, void *closure)
{
    return PyBool_FromLong(tr->recording);
}

static PyObject *LineTracer_get_codes(hp_linetracer *tr, void *closure)
{
    PyObject *list = PyList_New(0);
    for (uint32_t i = 0; list && i < tr->n_codes; i++) {
        if (tr->codes[i]->active && PyList_Append(list, tr->codes[i]->code) < 0)
            Py_CLEAR(list);
    }
    return list;
}

static PyMethodDef LineTracer_methods[] = {
    {"add_code", (PyCFunction)LineTracer_add_code, METH_O,
     "add_code(code) -> bool: time the lines of this code object (True when new)."},
    {"enable", (PyCFunction)LineTracer_enable, METH_NOARGS, "Start timing lines."},
    {"disable", (PyCFunction)LineTracer_disable, METH_NOARGS, "Stop timing lines."},
    {"enable_by_count", (PyCFunction)LineTracer_enable_by_count, METH_NOARGS,
     "Record while at least one decorated call runs (nests)."},
    {"disable_by_count", (PyCFunction)LineTracer_disable_by_count, METH_NOARGS,
     "Undo one enable_by_count()."},
    {"auto", (PyCFunction)(void (*)(void))LineTracer_auto, METH_VARARGS | METH_KEYWORDS,
     "auto(interval=0.001, min_seconds=0.01, min_samples=2, fraction=0.05, max_functions=10,\n"
     "     exclude=()):\n"
     "choose functions automatically while enabled, by sampling their own time."},
    {"clear", (PyCFunction)LineTracer_clear_data, METH_NOARGS, "Zero every line's counters."},
    {"snapshot", (PyCFunction)LineTracer_snapshot, METH_NOARGS,
     "The timings recorded so far, as plain Python data."},
    {NULL}
};

static PyGetSetDef LineTracer_getset[] = {
    {"enabled", (getter)LineTracer_get_enabled, NULL, "whether lines are being timed", NULL},
    {"codes", (getter)LineTracer_get_codes, NULL, "the code objects being timed", NULL},
    {NULL}
};

static PyType_Slot LineTracer_slots[] = {
    {Py_tp_doc, "LineTracer()\n\nThe C capture behind hotpath.LineProfiler: per-line hits "
                "and ticks of chosen code objects."},
    {Py_tp_init, LineTracer_init},
    {Py_tp_dealloc, LineTracer_dealloc},
    {Py_tp_traverse, LineTracer_traverse},
    {Py_tp_clear, LineTracer_clear_refs},
    {Py_tp_methods, LineTracer_methods},
    {Py_tp_getset, LineTracer_getset},
    {0, NULL}
};

PyType_Spec hp_linetracer_spec = {
    .name = "hotpath._core.LineTracer",
    .basicsize = sizeof(hp_linetracer),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = LineTracer_slots,
};
