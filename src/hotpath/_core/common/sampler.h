/* sampler.h — one background thread that wakes at an interval and calls a tick: the
 * sampler any mode can use (the line profiler's automatic mode, line/linesampler.c; the
 * memory timeline, mem/memtimeline.c). The thread knows nothing of what it samples; the
 * mode registers its tick (and, for a thread that must not count as the program's, an
 * `enter` callback run once in the thread before the first tick).
 *
 * Two kinds of thread:
 *   python = 1  the thread gets a thread state of its own (PyGILState_Ensure) and holds
 *               the GIL only while its tick runs; `me` is that thread state
 *   python = 0  the thread never touches Python; the tick runs without the GIL, `me` NULL
 * A python = 1 sampler may also set `before`: run in the thread without the GIL just
 * before each tick takes it (the sampling mode asks there who holds the GIL, which the
 * tick itself can no longer see: it holds it then). When `before` returns nonzero, the
 * thread does not take the GIL and skips this tick: `before` has had the work done
 * elsewhere (the sampling mode hands it to the GIL's holder as a pending call).
 * With `fixed_rate`, the interval runs from the previous tick's due time, not from its
 * end (the sampling mode's rate: its ticks wait for the GIL).
 * The thread first waits `interval` seconds, unless `tick_at_once` (then it ticks at
 * once and waits after each tick). A tick may change `interval` (the thread reads it
 * only between ticks, and only the thread writes it while running).
 *
 * Invariants: the thread runs only between hp_sampler_start and hp_sampler_stop
 * (`started`, GIL). `stop` is protected by `mu` (the thread waits on `cv` between
 * ticks); the rest is set before start and read-only while the thread runs, except
 * `interval` (above).
 */
#ifndef HP_SAMPLER_H
#define HP_SAMPLER_H

#include "compat.h"

#include <pthread.h>

/* One tick. `me`: the sampler thread's own thread state (python = 1; GIL held) or NULL
 * (python = 0; no GIL). Must not raise (or leave an exception set). */
typedef void (*hp_sampler_tick)(void *arg, PyThreadState *me);

typedef struct {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started;      /* thread running (GIL) */
    int stop;         /* protected by mu */
    double interval;  /* seconds between ticks */
    int python;       /* 1: ticks hold the GIL in a thread state of their own */
    int tick_at_once; /* 1: tick first, then wait */
    int fixed_rate;   /* 1: ticks start `interval` apart (the time a tick waits for
                       * the GIL counts into the interval); a late tick does not
                       * bring a burst of catch-up ticks */
    double due;       /* fixed_rate: CLOCK_MONOTONIC seconds of the next tick (thread) */
    hp_sampler_tick tick;
    void (*enter)(void *arg); /* NULL, or run once in the thread before the first tick */
    int (*before)(void *arg); /* NULL, or (python = 1) run before each tick, no GIL;
                                * nonzero: skip the tick (done elsewhere) */
    PyThreadState *me;        /* python = 1: the thread's own thread state, set by the
                                * thread when a tick first takes the GIL (NULL until then;
                                * then read-only) */
    void *arg;
} hp_sampler;

/* Set up a zeroed sampler: its mutex and condition. */
void hp_sampler_init(hp_sampler *s);
/* Undo hp_sampler_init (the thread must be stopped). */
void hp_sampler_fini(hp_sampler *s);
/* Start the thread (GIL held): s->tick, s->arg, s->interval and the flags are set.
 * 0, or -1 when the thread could not start (no exception set). */
int hp_sampler_start(hp_sampler *s);
/* Stop and join the thread, if running (GIL held; released while joining). */
void hp_sampler_stop(hp_sampler *s);
/* In a fork child: the thread does not exist there; the mutex and condition are new. */
void hp_sampler_atfork_child(hp_sampler *s);

#endif /* HP_SAMPLER_H */
