/* compat.h — every PY_VERSION_HEX shim in one place.
 *
 * The rest of the core calls the hp_* names below and never tests the version itself,
 * except for the one structural split: HP_HAVE_MONITORING (3.12+ capture through
 * sys.monitoring) versus the 3.11 PyEval_SetProfile hook.
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

#if PY_VERSION_HEX >= 0x030C0000
#  define HP_HAVE_MONITORING 1
#else
#  define HP_HAVE_MONITORING 0
#endif

/* Code-object extra slots: O(1) lookup from a code object to our entry. */
#if PY_VERSION_HEX >= 0x030C0000
#  define hp_code_request_extra_index PyUnstable_Eval_RequestCodeExtraIndex
#  define hp_code_get_extra PyUnstable_Code_GetExtra
#  define hp_code_set_extra PyUnstable_Code_SetExtra
#else
#  define hp_code_request_extra_index _PyEval_RequestCodeExtraIndex
#  define hp_code_get_extra _PyCode_GetExtra
#  define hp_code_set_extra _PyCode_SetExtra
#endif

/* Saving and restoring the exception in flight around a hook's own work. */
#if PY_VERSION_HEX >= 0x030C0000
typedef struct { PyObject *exc; } hp_saved_exc;
static inline void hp_exc_save(hp_saved_exc *s) { s->exc = PyErr_GetRaisedException(); }
static inline void hp_exc_restore(hp_saved_exc *s) { PyErr_SetRaisedException(s->exc); }
#else
typedef struct { PyObject *type, *value, *tb; } hp_saved_exc;
static inline void hp_exc_save(hp_saved_exc *s) { PyErr_Fetch(&s->type, &s->value, &s->tb); }
static inline void hp_exc_restore(hp_saved_exc *s) { PyErr_Restore(s->type, s->value, s->tb); }
#endif

/* co_qualname exists from 3.11 on; kept here in case the field moves. */
static inline PyObject *hp_code_qualname(PyCodeObject *co) { return co->co_qualname; }

#endif /* HP_COMPAT_H */
