/* gilstate.c — reading the GIL's holder without taking it (see gilstate.h).
 *
 * The one file built as a core module (Py_BUILD_CORE_MODULE before Python.h, as the
 * stdlib's extension modules are): the internal interpreter struct is only consistent
 * with the public headers when both are read that way. It uses struct layouts only, no
 * internal function. */
#define Py_BUILD_CORE_MODULE 1
#include "gilstate.h"

#if HP_PY313
#  include <internal/pycore_ceval.h>
#  include <internal/pycore_interp.h>
#elif HP_PY312
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

void hp_eval_breaker_poke(PyInterpreterState *interp)
{
#if HP_PY313
    (void)interp;
#else
    _Py_atomic_store_relaxed(&interp->ceval.eval_breaker, 1);
#endif
}

void hp_gil_request_drop(PyInterpreterState *interp, const void *holder)
{
    if (!holder)
        return;
#if HP_PY313
    struct _gil_runtime_state *g = interp->ceval.gil;
    if (!g)
        return;
    pthread_mutex_lock(&g->mutex);
    if (__atomic_load_n(&g->locked, __ATOMIC_RELAXED) &&
        (const void *)__atomic_load_n(&g->last_holder, __ATOMIC_RELAXED) == holder)
        _Py_set_eval_breaker_bit((PyThreadState *)holder, _PY_GIL_DROP_REQUEST_BIT);
    pthread_mutex_unlock(&g->mutex);
#else
    _Py_atomic_store_relaxed(&interp->ceval.gil_drop_request, 1);
    _Py_atomic_store_relaxed(&interp->ceval.eval_breaker, 1);
#endif
}
