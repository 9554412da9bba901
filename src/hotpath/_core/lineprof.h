/* lineprof.h — the line profiler's capture: hotpath._core.LineTracer.
 *
 * A LineTracer times the lines of the code objects it is given (add_code), the way
 * line_profiler does: the time of a line runs from its line event to the next event of
 * the same frame (the next line, a return, a yield, or — on 3.12+ — a raise), and the
 * line gets one hit each time that interval closes. Everything else runs untouched:
 *
 *   3.12+  sys.monitoring under a tool id of its own (4, or 3 when 4 is taken): LINE,
 *          PY_START, PY_RESUME, PY_RETURN, PY_YIELD switched on per code object with
 *          set_local_events; RAISE, RERAISE, PY_UNWIND, PY_THROW are global-only events
 *          and cost one C call per exception per frame. Callbacks are C (METH_FASTCALL).
 *   3.11   a C trace function (PyEval_SetTrace) on every thread; a frame whose code is
 *          not chosen gets f_trace_lines = False on its first event, so its lines never
 *          reach the tracer.
 *
 * Per code object the tracer keeps an array of {hits, ticks} indexed by line - first
 * line, found from the code object in O(1) through a co_extra slot of the tracer's own.
 * Per thread it keeps a stack of the chosen frames that are running, each with the line
 * it is on and the tick that line started; frames are matched by the interpreter frame's
 * address, as line_profiler keys them, so recursion, generators and coroutines each get
 * their own entry. Nothing is allocated on the per-event path except when a thread's
 * stack grows.
 *
 * The automatic mode (--lines=auto) samples the running threads from a background
 * thread and switches a function's line events on once its sampled own time crosses a
 * threshold; each chosen function records when that happened.
 *
 * Only one LineTracer records at a time (one tool id, one trace slot). Everything is
 * protected by the GIL, except the sampler's stop flag (its own mutex).
 */
#ifndef HP_LINEPROF_H
#define HP_LINEPROF_H

#include "compat.h"

extern PyType_Spec hp_linetracer_spec;

#endif /* HP_LINEPROF_H */
