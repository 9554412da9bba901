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

/* After Py_AddPendingCall from a thread other than the main one: make the main thread's
 * eval loop look at its pending calls. On 3.11 and 3.12 Py_AddPendingCall recomputes the
 * eval breaker in the calling thread, where "can this thread run the main thread's
 * pending calls" is false, so the call waits until something else trips the breaker
 * (a GIL drop request, a signal); this sets the breaker (interp->ceval.eval_breaker;
 * the main thread recomputes it after handling). 3.13+ sets the main thread's own
 * breaker bit itself: nothing to do. Needs no GIL; never fails. */
void hp_eval_breaker_poke(PyInterpreterState *interp);

/* Ask `holder`, the thread state that holds `interp`'s GIL (hp_gil_holder), to drop it
 * at its next eval-breaker check: what a thread waiting in CPython's take_gil does itself
 * once a switch interval has passed, done at once by a sampler about to take the GIL (so
 * it need not lower sys.setswitchinterval, which would shorten every thread's waits).
 *   3.11, 3.12  interp->ceval's gil_drop_request and eval_breaker (atomic stores);
 *   3.13+       the holder's own eval_breaker bit _PY_GIL_DROP_REQUEST_BIT, set under the
 *               GIL's mutex after checking that `holder` still holds it (as take_gil
 *               does): a thread state is freed only after its thread released the GIL,
 *               which needs that mutex, so `holder` is alive while it is written.
 * A request nobody needs is harmless (the holder hands the GIL over and takes it back;
 * the next take_gil clears it). Needs no GIL; never fails. */
void hp_gil_request_drop(PyInterpreterState *interp, const void *holder);

#endif /* HP_GILSTATE_H */
