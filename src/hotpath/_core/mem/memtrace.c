/* memtrace.c — see memtrace.h. */
#include "memtrace.h"
#include "memforget.h"
#include "common/newthreads.h"

#if !HP_HAVE_MONITORING

static PyObject *trace_cb = NULL;          /* the callback; also the hook's object */
static uintptr_t trace_gen = 0;            /* the mark of the current session's codes */
static Py_ssize_t extra_index = -1;        /* our co_extra slot */
static PyObject *str_f_trace_lines = NULL; /* interned "f_trace_lines" */
static PyObject *str_f_locals = NULL;      /* interned "f_locals" */
static hp_newthreads_hook threads_hook;    /* threading's trace hook while set */

static int chosen(PyFrameObject *frame)
{
    PyCodeObject *co = PyFrame_GetCode(frame);
    void *mark = NULL;
    if (_PyCode_GetExtra((PyObject *)co, extra_index, &mark) < 0) {
        PyErr_Clear();
        mark = NULL;
    }
    Py_DECREF(co);
    return mark && (uintptr_t)mark == trace_gen;
}

static int trace_hook(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    if (what == PyTrace_CALL) {
        /* Made for this hook, just now (call_trace): the frame object, then — on the code
         * object's first traced call — its line array. Newest first. */
        PyCodeObject *co = PyFrame_GetCode(frame);
        hp_mem_forget_block(co->_co_linearray);
        Py_DECREF(co);
        hp_mem_forget_object((PyObject *)frame);
    }
    if (what != PyTrace_CALL && what != PyTrace_LINE && what != PyTrace_RETURN)
        return 0;
    if (!trace_cb || obj != trace_cb)
        return 0;
    if (!chosen(frame)) {
        if (what == PyTrace_CALL &&
            PyObject_SetAttr((PyObject *)frame, str_f_trace_lines, Py_False) < 0)
            PyErr_Clear();
        return 0;
    }
    PyObject *cb = Py_NewRef(trace_cb);
    PyObject *exc_type, *exc_value, *exc_tb;
    hp_mem_tls.paused++;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    PyObject *args[2] = {(PyObject *)frame, PyLong_FromLong(what)}; /* a small int */
    PyObject *r = args[1] ? PyObject_Vectorcall(cb, args, 2, NULL) : NULL;
    Py_XDECREF(args[1]);
    if (r)
        Py_DECREF(r);
    else
        PyErr_WriteUnraisable(cb); /* never into the program */
    PyErr_Restore(exc_type, exc_value, exc_tb);
    hp_mem_tls.paused--;
    Py_DECREF(cb);
    return 0;
}

/* threading's trace hook for new threads, (frame, event, arg): swaps itself for the C
 * hook, forgets what the Python-level call of it made (the frame's locals dict, then the
 * frame), and forwards the event. */
static PyObject *thread_bootstrap(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!trace_cb || nargs != 3 || !PyFrame_Check(args[0])) {
        PyEval_SetTrace(NULL, NULL);
        Py_RETURN_NONE;
    }
    PyEval_SetTrace(trace_hook, trace_cb);
    PyObject *frame = args[0];
    hp_mem_tls.paused++; /* reading f_locals again is not the program's */
    PyObject *locals = PyObject_GetAttr(frame, str_f_locals);
    hp_mem_tls.paused--;
    if (locals) {
        hp_mem_forget_object(locals);
        Py_DECREF(locals);
    } else {
        PyErr_Clear();
    }
    hp_mem_forget_object(frame);
    if (PyUnicode_Check(args[1]) && PyUnicode_CompareWithASCIIString(args[1], "call") == 0)
        trace_hook(trace_cb, (PyFrameObject *)frame, PyTrace_CALL, Py_None);
    Py_RETURN_NONE;
}

static PyMethodDef bootstrap_def = {"_hotpath_memory_lines_bootstrap",
                                    (PyCFunction)(void (*)(void))thread_bootstrap, METH_FASTCALL,
                                    "Installs hotpath's C memory-line trace hook in a new thread."};

static int set_all(Py_tracefunc func, PyObject *obj)
{
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (func == NULL && ts->c_tracefunc != trace_hook)
            continue; /* not ours: leave it */
        if (_PyEval_SetTrace(ts, func, obj) < 0)
            return -1;
    }
    return 0;
}

PyObject *hp_mem_trace_set(PyObject *callback)
{
    if (callback == Py_None) {
        if (!trace_cb)
            Py_RETURN_NONE;
        int rc = set_all(NULL, NULL);
        Py_CLEAR(trace_cb);
        if (hp_newthreads_give_back(&threads_hook, HP_NEWTHREADS_TRACE) < 0 || rc < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    if (!PyCallable_Check(callback)) {
        PyErr_SetString(PyExc_TypeError, "settrace() needs a callable or None");
        return NULL;
    }
    if ((!str_f_trace_lines &&
         !(str_f_trace_lines = PyUnicode_InternFromString("f_trace_lines"))) ||
        (!str_f_locals && !(str_f_locals = PyUnicode_InternFromString("f_locals"))))
        return NULL;
    if (extra_index < 0 && (extra_index = _PyEval_RequestCodeExtraIndex(NULL)) < 0) {
        PyErr_SetString(PyExc_RuntimeError, "hotpath: no co_extra slot left");
        return NULL;
    }
    PyObject *boot = PyCFunction_NewEx(&bootstrap_def, NULL, NULL);
    if (!boot)
        return NULL;
    int rc = hp_newthreads_take(&threads_hook, HP_NEWTHREADS_TRACE, boot);
    Py_DECREF(boot);
    if (rc < 0)
        return NULL;
    Py_XSETREF(trace_cb, Py_NewRef(callback));
    trace_gen++;
    if (set_all(trace_hook, trace_cb) < 0) {
        hp_saved_exc saved; /* roll back: nothing stays installed */
        hp_exc_save(&saved);
        if (set_all(NULL, NULL) < 0 ||
            hp_newthreads_give_back(&threads_hook, HP_NEWTHREADS_TRACE) < 0)
            PyErr_Clear();
        Py_CLEAR(trace_cb);
        hp_exc_restore(&saved);
        return NULL;
    }
    Py_RETURN_NONE;
}

PyObject *hp_mem_trace_watch(PyObject *code)
{
    if (!PyCode_Check(code)) {
        PyErr_SetString(PyExc_TypeError, "watch() needs a code object");
        return NULL;
    }
    if (extra_index < 0) {
        PyErr_SetString(PyExc_RuntimeError, "watch() before settrace()");
        return NULL;
    }
    hp_mem_tls.paused++; /* co_extra's storage is not the program's */
    int rc = _PyCode_SetExtra(code, extra_index, (void *)trace_gen);
    hp_mem_tls.paused--;
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

#else /* HP_HAVE_MONITORING: sys.monitoring's local events serve (memlines.py) */

PyObject *hp_mem_trace_set(PyObject *callback)
{
    PyErr_SetString(PyExc_NotImplementedError,
                    "settrace() is for Python 3.11; use "
                    "sys.monitoring");
    return NULL;
}

PyObject *hp_mem_trace_watch(PyObject *code)
{
    return hp_mem_trace_set(code);
}

#endif
