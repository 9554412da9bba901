/* linesampler.h — the line profiler's automatic mode (--lines=auto).
 *
 * While its LineTracer is enabled, a background thread wakes every `interval` seconds,
 * takes the GIL and samples every other thread's innermost frame, adding to each code
 * object's own-time count (samples, and the wall time each sample stands for). A
 * function (not a module or class body, from a real file outside `exclude`) whose count
 * crosses all three thresholds — min_samples, min_seconds, and `fraction` of all
 * samples so far — is registered with the tracer and its line events switched on,
 * up to max_chosen functions; its hp_line_code records when and why. Samples taken
 * while a thread imports a module count for nothing (import-time work runs once).
 *
 * The thread is common/sampler.h's (python = 1); this file is only the policy: what a
 * sample counts and when a function is chosen. Choosing goes through the owner's
 * `choose` callback (the LineTracer's, lineprof.c), so this file never calls back into
 * lineprof.c: lineprof.c uses linesampler.h, not the other way round.
 *
 * Invariants: the thread runs only between hp_line_sampler_start and _stop
 * (`thread.started`); every field here is protected by the GIL (the thread's own stop
 * flag by its mutex, sampler.h), and the tick runs only while holding it.
 */
#ifndef HP_LINESAMPLER_H
#define HP_LINESAMPLER_H

#include "common/compat.h"
#include "common/sampler.h"

#include <stdint.h>

/* Frames read per sample (frames.h's hp_stack_codes, the walk the sampling mode uses):
 * the innermost is counted; all of them are looked at for an import in progress. */
#define HP_LINE_SAMPLE_DEPTH 512

/* The owner's side. `recording`: whether samples count now, with *since the tick the
 * current recording started (the first sample's time runs from it). `choose`: make `code` (a
 * function past every threshold, not yet chosen by this sampler) one whose lines are
 * timed, recording `samples` and `seconds` (its sampled own time so far) as why; 1 when
 * it was chosen now, 0 when not (already active, or it failed; no exception left set). */
typedef struct {
    void *owner;
    int (*recording)(void *owner, int64_t *since);
    int (*choose)(void *owner, PyObject *code, uint64_t samples, double seconds);
} hp_line_sampler_owner;

typedef struct {
    hp_sampler thread; /* common/sampler.h: the thread; thread.interval is the
                              * seconds between samples */
    hp_line_sampler_owner owner;
    uint64_t min_samples; /* a function needs this many own-time samples, */
    double min_seconds;   /* this much sampled own time, */
    double fraction;      /* and this share of all samples so far */
    uint32_t max_chosen;
    PyObject *exclude;    /* tuple of filename prefixes never chosen (strong) */
    PyObject *counts;     /* dict code -> (samples, seconds) (strong; GIL) */
    uint64_t total;       /* thread samples taken (not during imports) */
    double total_seconds; /* wall time they stand for, summed over threads */
    int64_t last;         /* tick of the previous sample */
    uint32_t chosen;
    PyCodeObject *stack[HP_LINE_SAMPLE_DEPTH]; /* the tick's scratch (borrowed) */
} hp_line_sampler;

/* Set up a zeroed sampler for `owner`: its thread's mutex and condition, and the
 * default thresholds. */
void hp_line_sampler_init(hp_line_sampler *s, hp_line_sampler_owner owner);
/* Undo hp_line_sampler_init (the thread must be stopped). */
void hp_line_sampler_fini(hp_line_sampler *s);
/* Start sampling (GIL held). 0 / -1 with an exception set. */
int hp_line_sampler_start(hp_line_sampler *s);
/* Stop and join the sampler thread, if running (GIL held; released while joining). */
void hp_line_sampler_stop(hp_line_sampler *s);

#endif /* HP_LINESAMPLER_H */
