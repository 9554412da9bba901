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
 * The files:
 *   lineprof.[ch]       the type: lifecycle (arm/disarm), the Python methods, snapshots;
 *                       here, the per-event logic both event sources share
 *   linestore.[ch]      the per-code line arrays and the per-thread frame stacks
 *   lines_monitoring.c  the 3.12+ event source (sys.monitoring callbacks)
 *   lines_legacy.c      the 3.11 event source (the C trace function)
 *   linesampler.[ch]    the automatic mode's policy (what a sample counts, when a function
 *                       is chosen), on common/sampler.h's thread
 * An event source turns the interpreter's events into hp_line_on_line / _on_start /
 * _on_leave for the code objects hp_line_store_lookup says are active, and implements the
 * hp_line_source_* functions below.
 *
 * Only one LineTracer records at a time (one tool id, one trace slot). Everything is
 * protected by the GIL, except the sampler's stop flag (its own mutex). Failures on the
 * per-event path (out of memory) set `error` and stop recording; the next disable()
 * raises them.
 */
#ifndef HP_LINEPROF_H
#define HP_LINEPROF_H

#include "common/compat.h"
#include "common/clock.h"
#include "linesampler.h"
#include "linestore.h"
#include "common/newthreads.h"

typedef struct hp_line_tracer {
    PyObject_HEAD
    hp_line_store store; /* the code objects given and the threads' frame stacks */
    int enabled;         /* armed: the event source is installed */
    int recording;       /* armed, and timing (not paused, no error) */
    int explicit;        /* enable() was called (until disable()) */
    uint32_t by_count;   /* decorated calls running (enable_by_count) */
    int error;
    int tool_id;                     /* 3.12+: the sys.monitoring tool id held while enabled */
    hp_newthreads_hook threads_hook; /* 3.11: threading's trace hook, taken while enabled */
    int64_t enabled_at;
    int64_t enabled_ticks;
    int auto_mode;
    hp_line_sampler sampler;
} hp_line_tracer;

enum {
    HP_LINE_ERR_NONE,
    HP_LINE_ERR_NOMEMORY
};

/* hp_line_tracer_spec: common/module.h */

/* Make `lc` active (line events on; switched on in the event source when enabled).
 * 0 / -1 with an exception set. */
int hp_line_tracer_activate(hp_line_tracer *tr, hp_line_code *lc);

/* The event sources, one per interpreter generation (lines_monitoring.c on 3.12+,
 * lines_legacy.c on 3.11). Each returns 0 / -1 with an exception set.
 *   start     install the source for `tr` (tr->enabled is already set), with the line
 *             events of every active code object on
 *   stop      remove it
 *   activate  `lc` became active while enabled: let its events through */
int hp_line_source_start(hp_line_tracer *tr);
int hp_line_source_stop(hp_line_tracer *tr);
int hp_line_source_activate(hp_line_tracer *tr, hp_line_code *lc);

/* ---- the per-event logic, shared by both event sources ------------------------------ */

/* Stop recording on a failure; disable() raises it. */
static inline void hp_line_tracer_fail(hp_line_tracer *tr, int err)
{
    if (!tr->error)
        tr->error = err;
    tr->recording = 0;
}

/* The calling thread's stack, created on first sight. NULL when recording had to stop. */
static inline hp_line_thread *hp_line_tracer_thread(hp_line_tracer *tr)
{
    hp_line_thread *t = hp_line_store_thread(&tr->store);
    if (!t)
        hp_line_tracer_fail(tr, HP_LINE_ERR_NOMEMORY);
    return t;
}

/* A line event of `frame` (running `lc`, active): close its line, start `line`. */
static inline void hp_line_on_line(hp_line_tracer *tr, hp_line_code *lc, const void *frame,
                                   int line)
{
    int64_t now = hp_clock_now();
    hp_line_thread *t = hp_line_tracer_thread(tr);
    if (!t)
        return;
    hp_line_frame *e = hp_line_store_entry(t, lc, frame);
    if (!e) {
        hp_line_tracer_fail(tr, HP_LINE_ERR_NOMEMORY);
        return;
    }
    hp_line_store_credit(e, now);
    int idx = line - lc->first;
    if (idx >= 0 && idx < lc->n) {
        e->last = idx;
        e->t = hp_clock_now(); /* again, so the tracer's own time is not charged */
    }
}

/* A frame starts or resumes: a fresh entry (replacing a stale one at the same address). */
static inline void hp_line_on_start(hp_line_tracer *tr, hp_line_code *lc, const void *frame)
{
    hp_line_thread *t = hp_line_tracer_thread(tr);
    if (!t)
        return;
    if (t->depth && t->stack[t->depth - 1].frame == frame) {
        hp_line_frame *e = &t->stack[t->depth - 1];
        e->lc = lc;
        e->last = -1;
        return;
    }
    if (!hp_line_store_push(t, lc, frame))
        hp_line_tracer_fail(tr, HP_LINE_ERR_NOMEMORY);
}

/* A frame returns, yields or unwinds: close its line; pop its entry when `leave`. */
static inline void hp_line_on_leave(hp_line_tracer *tr, hp_line_code *lc, const void *frame,
                                    int leave)
{
    int64_t now = hp_clock_now();
    hp_line_thread *t = hp_line_tracer_thread(tr);
    if (!t || !t->depth)
        return;
    hp_line_frame *e = &t->stack[t->depth - 1];
    if (e->frame != frame || e->lc != lc) {
        /* a frame we have no entry for exits: nothing to close; drop stale ones above */
        if (!(e = hp_line_store_search(t, lc, frame)))
            return;
    }
    hp_line_store_credit(e, now);
    if (leave)
        t->depth--;
}

#endif /* HP_LINEPROF_H */
