/* compat.h — every PY_VERSION_HEX test in one place, and the compiler attributes the
 * core's files share. Included by every C file of hotpath._core and hotpath._timing.
 *
 * The rest of the C code calls the hp_* names below and tests the version only through
 * the named predicates HP_PY312 / HP_PY313 / HP_PY314 (frames.h's layout branches, a
 * module slot that exists from some version on) and the one structural split,
 * HP_HAVE_MONITORING (3.12+ capture through sys.monitoring) versus the 3.11
 * PyEval_SetProfile / PyEval_SetTrace hooks. A new Python version starts here and in
 * frames.h.
 */
#ifndef HP_COMPAT_H
#define HP_COMPAT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>

#if PY_VERSION_HEX < 0x030B0000
#  error "hotpath needs CPython 3.11 or newer"
#endif
#ifdef Py_GIL_DISABLED
#  error "hotpath's capture relies on the GIL; the free-threaded build is not supported yet"
#endif

/* The version predicates: 1 from that version on (usable in #if). */
#define HP_PY312 (PY_VERSION_HEX >= 0x030C0000)
#define HP_PY313 (PY_VERSION_HEX >= 0x030D0000)
#define HP_PY314 (PY_VERSION_HEX >= 0x030E0000)

#define HP_HAVE_MONITORING HP_PY312

/* HP_INTERNAL: on an extern declaration of a variable the core's files share.
 * -fvisibility=hidden does not cover extern declarations, and hidden ones are addressed
 * directly, not through the GOT. The one visibility macro of the core.
 * HP_TLS_INITIAL_EXEC: on a thread-local read per event: one register-relative load
 * instead of a __tls_get_addr call (a few bytes of the static TLS surplus glibc keeps
 * for dlopen'ed modules). Both on the declaration (the definition needs only the
 * second). */
#if defined(__GNUC__) && defined(__ELF__)
#  define HP_INTERNAL __attribute__((visibility("hidden")))
#  define HP_TLS_INITIAL_EXEC __attribute__((tls_model("initial-exec")))
#else
#  define HP_INTERNAL
#  define HP_TLS_INITIAL_EXEC
#endif

/* Code-object extra slots: O(1) lookup from a code object to our entry. */
#if HP_PY312
#  define hp_code_request_extra_index PyUnstable_Eval_RequestCodeExtraIndex
#  define hp_code_get_extra PyUnstable_Code_GetExtra
#  define hp_code_set_extra PyUnstable_Code_SetExtra
#else
#  define hp_code_request_extra_index _PyEval_RequestCodeExtraIndex
#  define hp_code_get_extra _PyCode_GetExtra
#  define hp_code_set_extra _PyCode_SetExtra
#endif

/* Saving and restoring the exception in flight around a hook's own work. */
#if HP_PY312
typedef struct {
    PyObject *exc;
} hp_saved_exc;
static inline void hp_exc_save(hp_saved_exc *s)
{
    s->exc = PyErr_GetRaisedException();
}
static inline void hp_exc_restore(hp_saved_exc *s)
{
    PyErr_SetRaisedException(s->exc);
}
#else
typedef struct {
    PyObject *type, *value, *tb;
} hp_saved_exc;
static inline void hp_exc_save(hp_saved_exc *s)
{
    PyErr_Fetch(&s->type, &s->value, &s->tb);
}
static inline void hp_exc_restore(hp_saved_exc *s)
{
    PyErr_Restore(s->type, s->value, s->tb);
}
#endif

/* The exception in flight as one object (new reference, NULL when none), cleared. */
#if HP_PY312
static inline PyObject *hp_exc_take(void)
{
    return PyErr_GetRaisedException();
}
#else
static inline PyObject *hp_exc_take(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
}
#endif

/* The calling thread's state (NULL when it has none); no GIL check, never fails. */
#if HP_PY313
#  define hp_tstate_unchecked PyThreadState_GetUnchecked
#else
#  define hp_tstate_unchecked _PyThreadState_UncheckedGet
#endif

/* The innermost interpreter frame of `ts`, or NULL when it runs no Python code. The
 * struct is internal: files that read frames include frames.h; others only compare
 * the address (e.g. while a sys.monitoring callback runs, the frame its event is about). */
static inline struct _PyInterpreterFrame *hp_tstate_frame(PyThreadState *ts)
{
#if HP_PY313
    return ts->current_frame;
#else
    return ts->cframe ? ts->cframe->current_frame : NULL;
#endif
}

/* The address of the calling thread's innermost interpreter frame. Needs the GIL. */
static inline const void *hp_current_frame_key(void)
{
    return hp_tstate_frame(hp_tstate_unchecked());
}

/* Whether the interpreter is shutting down (modules such as sys.monitoring and
 * threading may already be gone: a dealloc must not call into them then). */
#if HP_PY313
#  define hp_is_finalizing Py_IsFinalizing
#else
#  define hp_is_finalizing _Py_IsFinalizing
#endif

/* co_qualname exists from 3.11 on; kept here in case the field moves. */
static inline PyObject *hp_code_qualname(PyCodeObject *co)
{
    return co->co_qualname;
}

#endif /* HP_COMPAT_H */
