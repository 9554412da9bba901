/* source_legacy.c — events on CPython 3.11, through the C profile hook.
 *
 * PyEval_SetProfile's hook gets call/return for Python frames and c_call/c_return/
 * c_exception for C functions; we install it on every existing thread state and, through
 * threading.setprofile, on every thread started later (the first event in a new thread
 * runs a bootstrap that swaps itself for the C hook, then forwards that event).
 * The hook runs with tracing disabled by the interpreter, so nothing it calls re-enters.
 */
#include "funcprof.h"

#if !HP_HAVE_MONITORING

static int legacy_hook(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    hp_func_profiler *p = (hp_func_profiler *)obj;
    switch (what) {
    case PyTrace_CALL: {
        PyCodeObject *co = PyFrame_GetCode(frame);
        hp_func_on_py_start(p, co);
        Py_DECREF(co);
        break;
    }
    case PyTrace_RETURN:
        hp_func_on_return(p);
        break;
    case PyTrace_C_CALL:
        if (p->builtins && PyCFunction_Check(arg))
            hp_func_on_c_call(p, ((PyCFunctionObject *)arg)->m_ml, arg);
        break;
    case PyTrace_C_RETURN:
    case PyTrace_C_EXCEPTION:
        if (p->builtins && PyCFunction_Check(arg))
            hp_func_on_return(p);
        break;
    }
    return 0;
}

/* threading's profile hook for new threads: (frame, event, arg) -> None. */
static PyObject *thread_bootstrap(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    hp_func_profiler *p = (hp_func_profiler *)self;
    if (nargs != 3 || !PyFrame_Check(args[0]))
        Py_RETURN_NONE; /* called by hand with junk: ignore */
    if (!p->enabled) {
        PyEval_SetProfile(NULL, NULL);
        Py_RETURN_NONE;
    }
    PyEval_SetProfile(legacy_hook, self);
    static const char *names[] = {"call",   "exception",   "line",    "return",
                                  "c_call", "c_exception", "c_return"};
    for (int what = 0; what < 7; what++) {
        if (PyUnicode_Check(args[1]) &&
            PyUnicode_CompareWithASCIIString(args[1], names[what]) == 0) {
            legacy_hook(self, (PyFrameObject *)args[0], what, args[2]);
            break;
        }
    }
    Py_RETURN_NONE;
}

static PyMethodDef bootstrap_def = {"_hotpath_thread_bootstrap",
                                    (PyCFunction)(void (*)(void))thread_bootstrap, METH_FASTCALL,
                                    "Installs hotpath's C profile hook in a new thread."};

/* Remove our hook from every thread state that has it; 1 when some thread had another
 * tool's hook in its place (it replaced ours: sys.setprofile, cProfile). */
static int uninstall(hp_func_profiler *p, PyInterpreterState *interp)
{
    int displaced = 0;
    PyThreadState *me = PyThreadState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (ts->c_profileobj == (PyObject *)p && ts->c_profilefunc == legacy_hook) {
            if (_PyEval_SetProfile(ts, NULL, NULL) < 0)
                PyErr_Clear();
        } else if (ts->c_profilefunc || ts == me)
            displaced = 1;
    }
    return displaced;
}

int hp_func_source_start(hp_func_profiler *p)
{
    PyThreadState *me = PyThreadState_Get();
    PyInterpreterState *interp = PyThreadState_GetInterpreter(me);
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (ts->c_profilefunc &&
            !(ts->c_profilefunc == legacy_hook && ts->c_profileobj == (PyObject *)p)) {
            /* profiler.py: this prefix becomes ProfilerActiveError */
            PyErr_SetString(
                PyExc_RuntimeError,
                "another profiler is active (sys.setprofile, cProfile or a profiling tool "
                "holds the interpreter's profiler slot); stop it before enabling hotpath");
            return -1;
        }
    }
    PyObject *boot = PyCFunction_NewEx(&bootstrap_def, (PyObject *)p, NULL);
    if (!boot)
        return -1;
    int rc = hp_newthreads_take(&p->threads_hook, HP_NEWTHREADS_PROFILE, boot);
    Py_DECREF(boot);
    if (rc < 0)
        return -1;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (_PyEval_SetProfile(ts, legacy_hook, (PyObject *)p) < 0) {
            hp_saved_exc saved; /* roll back: nothing stays installed */
            hp_exc_save(&saved);
            uninstall(p, interp);
            if (hp_newthreads_give_back(&p->threads_hook, HP_NEWTHREADS_PROFILE) < 0)
                PyErr_Clear();
            hp_exc_restore(&saved);
            return -1;
        }
    }
    return 0;
}

int hp_func_source_stop(hp_func_profiler *p)
{
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    if (uninstall(p, interp))
        p->displaced = 1;
    return hp_newthreads_give_back(&p->threads_hook, HP_NEWTHREADS_PROFILE);
}

#endif /* !HP_HAVE_MONITORING */
