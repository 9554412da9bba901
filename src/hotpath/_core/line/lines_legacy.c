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
        if (ts->c_tracefunc == trace_hook && ts->c_traceobj == (PyObject *)tr &&
            _PyEval_SetTrace(ts, NULL, NULL) < 0)
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
        if (ts->c_tracefunc &&
            !(ts->c_tracefunc == trace_hook && ts->c_traceobj == (PyObject *)tr)) {
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
