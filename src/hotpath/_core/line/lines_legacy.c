/* lines_legacy.c — the line profiler's events on CPython 3.11, through the C trace hook.
 *
 * PyEval_SetTrace's hook is installed on every existing thread state and, through
 * threading.settrace, on every thread started later (its first event runs a bootstrap
 * that swaps itself for the C hook, then forwards that event); threading's previous
 * hook is kept and put back at stop (newthreads.h). A failed start leaves nothing
 * installed. The hook gets call, line
 * and return events for every frame; a frame whose code hp_line_store_lookup does not
 * know is muted on its first event (f_trace_lines = False), so its lines never reach us
 * again. A frame is identified by its PyFrameObject's address. The hook runs with
 * tracing disabled by the interpreter, so nothing it calls re-enters it; it never fails.
 *
 * Gating. With a trace function set, 3.11 runs every instruction of every frame through
 * its line-event check (maybe_call_line_trace), muted frames too: a decorated function
 * calling undecorated ones paid that in all of its callees. So on a thread whose profile
 * slot is free, a C profile hook (gate_hook) of ours is installed as well and switches
 * the thread's trace function on only while a chosen frame is the one running: on a
 * call, on for a chosen code and off for any other; on a return, as the frame returned
 * to. With the trace function off the interpreter only checks for it per instruction.
 * The thread state keeps our c_traceobj while its c_tracefunc is switched (so the
 * reference and the tracing flag stay right); stop() clears both slots. A thread whose
 * profile slot is taken (the function profiler, cProfile) keeps the trace function on.
 */
#include "lineprof.h"
#include "common/newthreads.h"

#if !HP_HAVE_MONITORING

static PyObject *str_f_trace_lines = NULL; /* interned "f_trace_lines"; GIL */

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
} hp_line_frame311;
static int direct_mute = -1; /* -1 unknown, 0 no, 1 yes; GIL */

static void check_layout(void)
{
    PyFrameObject *f = PyEval_GetFrame(); /* borrowed */
    direct_mute = 0;
    if (!f)
        return;
    PyObject *old = PyObject_GetAttr((PyObject *)f, str_f_trace_lines);
    if (!old) {
        PyErr_Clear();
        return;
    }
    int ok = PyObject_SetAttr((PyObject *)f, str_f_trace_lines, Py_False) == 0 &&
        ((hp_line_frame311 *)f)->f_trace_lines == 0 &&
        PyObject_SetAttr((PyObject *)f, str_f_trace_lines, Py_True) == 0 &&
        ((hp_line_frame311 *)f)->f_trace_lines == 1;
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
        ((hp_line_frame311 *)frame)->f_trace_lines = 0;
    else if (PyObject_SetAttr((PyObject *)frame, str_f_trace_lines, Py_False) < 0)
        PyErr_Clear();
}

static int trace_hook(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    hp_line_tracer *tr = (hp_line_tracer *)obj;
    if (!tr->recording)
        return 0;
    if (what != PyTrace_LINE && what != PyTrace_CALL && what != PyTrace_RETURN)
        return 0;
    PyCodeObject *co = PyFrame_GetCode(frame);
    hp_line_code *lc = hp_line_store_lookup(&tr->store, (PyObject *)co);
    Py_DECREF(co);
    if (!lc) {
        if (what != PyTrace_RETURN)
            mute_frame(frame);
        return 0;
    }
    switch (what) {
    case PyTrace_CALL:
        hp_line_on_start(tr, lc, frame);
        break;
    case PyTrace_LINE:
        hp_line_on_line(tr, lc, frame, PyFrame_GetLineNumber(frame));
        break;
    case PyTrace_RETURN:
        hp_line_on_leave(tr, lc, frame, 1);
        break;
    }
    return 0;
}

/* The trace function on (`on`) or off for this thread; the reference to the tracer
 * stays in c_traceobj either way. Only while the trace slot is still ours (a
 * sys.settrace since would have replaced c_traceobj). */
static inline void gate(hp_line_tracer *tr, PyThreadState *ts, int on)
{
    if (ts->c_traceobj == (PyObject *)tr)
        ts->c_tracefunc = on ? trace_hook : NULL;
}

/* Whether `frame` runs code of ours that is active. */
static inline hp_line_code *chosen(hp_line_tracer *tr, PyFrameObject *frame)
{
    PyCodeObject *co = PyFrame_GetCode(frame);
    hp_line_code *lc = hp_line_store_lookup(&tr->store, (PyObject *)co);
    Py_DECREF(co);
    return lc;
}

/* The profile hook that gates the trace function (see the top of the file). The trace
 * function, when on, sees a call before this hook and a return before it too. */
static int gate_hook(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    hp_line_tracer *tr = (hp_line_tracer *)obj;
    PyThreadState *ts;
    if (what == PyTrace_CALL) {
        ts = PyThreadState_Get();
        hp_line_code *lc = tr->recording ? chosen(tr, frame) : NULL;
        if (!lc) {
            gate(tr, ts, 0);
        } else if (ts->c_tracefunc != trace_hook) {
            gate(tr, ts, 1); /* the trace function missed this call: start the frame here */
            hp_line_on_start(tr, lc, frame);
        }
    } else if (what == PyTrace_RETURN) {
        ts = PyThreadState_Get();
        PyFrameObject *back = tr->recording ? PyFrame_GetBack(frame) : NULL;
        gate(tr, ts, back && chosen(tr, back));
        Py_XDECREF(back);
    }
    return 0;
}

/* Gate `ts` if its profile slot is free (or ours); start with the trace function on
 * when its running frame is chosen. */
static void gate_thread(hp_line_tracer *tr, PyThreadState *ts)
{
    if (ts->c_profilefunc &&
        !(ts->c_profilefunc == gate_hook && ts->c_profileobj == (PyObject *)tr))
        return;
    if (_PyEval_SetProfile(ts, gate_hook, (PyObject *)tr) < 0) {
        PyErr_Clear(); /* ungated: the trace function stays on */
        return;
    }
    PyFrameObject *f = PyThreadState_GetFrame(ts);
    gate(tr, ts, f && chosen(tr, f));
    Py_XDECREF(f);
}

/* threading's trace hook for new threads, (frame, event, arg): installs the C hook and
 * forwards this first event. */
static PyObject *thread_bootstrap(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_line_tracer *tr = (hp_line_tracer *)self;
    if (!tr->enabled || nargs != 3) {
        PyEval_SetTrace(NULL, NULL);
        Py_RETURN_NONE;
    }
    PyEval_SetTrace(trace_hook, self);
    if (PyUnicode_Check(args[1]) && PyUnicode_CompareWithASCIIString(args[1], "call") == 0)
        trace_hook(self, (PyFrameObject *)args[0], PyTrace_CALL, Py_None);
    gate_thread(tr, PyThreadState_Get());
    Py_RETURN_NONE;
}

static PyMethodDef bootstrap_def = {"_hotpath_lines_bootstrap",
                                    (PyCFunction)(void (*)(void))thread_bootstrap, METH_FASTCALL,
                                    "Installs hotpath's C line-trace hook in a new thread."};

/* Remove our hook from every thread state that has it. 0 / -1 (all are tried). */
static int uninstall(hp_line_tracer *tr)
{
    int rc = 0;
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (ts->c_profilefunc == gate_hook && ts->c_profileobj == (PyObject *)tr &&
            _PyEval_SetProfile(ts, NULL, NULL) < 0)
            rc = -1;
        if ((ts->c_tracefunc == trace_hook || !ts->c_tracefunc) &&
            ts->c_traceobj == (PyObject *)tr && _PyEval_SetTrace(ts, NULL, NULL) < 0)
            rc = -1;
    }
    return rc;
}

int hp_line_source_start(hp_line_tracer *tr)
{
    if (!str_f_trace_lines && !(str_f_trace_lines = PyUnicode_InternFromString("f_trace_lines")))
        return -1;
    if (direct_mute < 0)
        check_layout();
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
         ts = PyThreadState_Next(ts)) {
        if ((ts->c_tracefunc || ts->c_traceobj) &&
            !((ts->c_tracefunc == trace_hook || !ts->c_tracefunc) &&
              ts->c_traceobj == (PyObject *)tr)) {
            PyErr_SetString(
                PyExc_RuntimeError,
                "another tracer is active (sys.settrace: a debugger, coverage or "
                "line_profiler holds the interpreter's trace slot); stop it before enabling "
                "hotpath's line profiler");
            return -1;
        }
    }
    PyObject *boot = PyCFunction_NewEx(&bootstrap_def, (PyObject *)tr, NULL);
    if (!boot)
        return -1;
    int rc = hp_newthreads_take(&tr->threads_hook, HP_NEWTHREADS_TRACE, boot);
    Py_DECREF(boot);
    if (rc < 0)
        return -1;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (_PyEval_SetTrace(ts, trace_hook, (PyObject *)tr) < 0) {
            hp_saved_exc saved; /* roll back: nothing stays installed */
            hp_exc_save(&saved);
            if (uninstall(tr) < 0 ||
                hp_newthreads_give_back(&tr->threads_hook, HP_NEWTHREADS_TRACE) < 0)
                PyErr_Clear();
            hp_exc_restore(&saved);
            return -1;
        }
    }
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts; ts = PyThreadState_Next(ts))
        gate_thread(tr, ts);
    return 0;
}

int hp_line_source_stop(hp_line_tracer *tr)
{
    int rc = uninstall(tr);
    if (hp_newthreads_give_back(&tr->threads_hook, HP_NEWTHREADS_TRACE) < 0)
        rc = -1;
    return rc;
}

/* Frames started from now on see the code on their call event; frames of it already
 * running were muted on their first event, so unmute them (every thread). */
int hp_line_source_activate(hp_line_tracer *tr, hp_line_code *lc)
{
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
         ts = PyThreadState_Next(ts)) {
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

#endif /* !HP_HAVE_MONITORING */
