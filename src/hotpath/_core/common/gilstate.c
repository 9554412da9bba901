/* gilstate.c — reading the GIL's holder without taking it (see gilstate.h).
 *
 * The one file built as a core module (Py_BUILD_CORE_MODULE before Python.h, as the
 * stdlib's extension modules are): the internal interpreter struct is only consistent
 * with the public headers when both are read that way. It uses struct layouts only, no
 * internal function. */
#define Py_BUILD_CORE_MODULE 1
#include "gilstate.h"

#if HP_PY312
#  include <internal/pycore_interp.h>
#else
#  include <internal/pycore_runtime.h>
#endif

const void *hp_gil_holder(PyInterpreterState *interp)
{
#if HP_PY312
    struct _gil_runtime_state *g = interp->ceval.gil;
#else
    struct _gil_runtime_state *g = &_PyRuntime.ceval.gil;
#endif
    if (!g)
        return NULL;
#if HP_PY313
    int locked = __atomic_load_n(&g->locked, __ATOMIC_RELAXED);
    const void *holder = __atomic_load_n(&g->last_holder, __ATOMIC_RELAXED);
#else
    int locked = _Py_atomic_load_relaxed(&g->locked);
    const void *holder = (const void *)_Py_atomic_load_relaxed(&g->last_holder);
#endif
    return locked ? holder : NULL;
}
