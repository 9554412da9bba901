/* gilstate.h — which thread holds the GIL, read from outside it.
 *
 * A sampler that takes the GIL to read stacks learns nothing from its own tick about
 * who had the GIL: by then it holds it itself. So it asks just before taking it, from its
 * own thread, without the GIL: the GIL's `locked` flag and `last_holder` (the thread state
 * that took it last), both written by CPython with atomic stores. The read is racy by
 * nature (the holder may drop the GIL a moment later); it answers "who held it at about
 * the time of the sample".
 *
 * The GIL's struct is internal (internal/pycore_gil.h); where it lives differs:
 *   3.11       _PyRuntime.ceval.gil (one GIL per process)
 *   3.12+      interp->ceval.gil (per interpreter; points at the main interpreter's
 *              unless a subinterpreter has its own)
 *   3.11, 3.12 last_holder / locked are _Py_atomic_address / _Py_atomic_int
 *   3.13+      plain PyThreadState * / int, read with the compiler's atomic loads
 * Only gilstate.c includes the internal headers.
 */
#ifndef HP_GILSTATE_H
#define HP_GILSTATE_H

#include "compat.h"

/* The thread state holding `interp`'s GIL now, or NULL when the GIL is free. Needs no
 * GIL; never fails. The pointer is only compared, never dereferenced. */
const void *hp_gil_holder(PyInterpreterState *interp);

#endif /* HP_GILSTATE_H */
