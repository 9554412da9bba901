/* linesampler.h — the line profiler's automatic mode (--lines=auto).
 *
 * While its LineTracer is enabled, a background thread wakes every `interval` seconds,
 * takes the GIL and samples every other thread's innermost frame, adding to each code
 * object's own-time count (samples, and the wall time each sample stands for). A
 * function (not a module or class body, from a real file outside `exclude`) whose count
 * crosses all three thresholds — min_samples, min_seconds, and `fraction` of all
 * samples so far — is registered with the tracer and its line events switched on,
 * up to max_chosen functions; its hp_linecode records when and why. Samples taken
 * while a thread imports a module count for nothing (import-time work runs once).
 *
 * Invariants: the thread runs only between hp_linesampler_start and _stop (`started`);
 * it touches the tracer only while holding the GIL. Every field is protected by the GIL
 * except `stop`, which is protected by `mu` (the thread waits on `cv` between samples).
 */
#ifndef HP_LINESAMPLER_H
#define HP_LINESAMPLER_H

#include "compat.h"

#include <pthread.h>
#include <stdint.h>

struct hp_linetracer;

typedef struct {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started;             /* thread running (GIL) */
    int stop;                /* protected by mu */
    double interval;         /* seconds between samples */
    uint64_t min_samples;    /* a function needs this many own-time samples, */
    double min_seconds;      /* this much sampled own time, */
    double fraction;         /* and this share of all samples so far */
    uint32_t max_chosen;
    PyObject *exclude;       /* tuple of filename prefixes never chosen (strong) */
    PyObject *counts;        /* dict code -> (samples, seconds) (strong; GIL) */
    uint64_t total;          /* thread samples taken (not during imports) */
    double total_seconds;    /* wall time they stand for, summed over threads */
    int64_t last;            /* tick of the previous sample */
    uint32_t chosen;
} hp_linesampler;

/* Set up a zeroed sampler: its mutex and condition, and the default thresholds. */
void hp_linesampler_init(hp_linesampler *s);
/* Undo hp_linesampler_init (the thread must be stopped). */
void hp_linesampler_fini(hp_linesampler *s);
/* Start tr's sampler thread (GIL held). 0 / -1 with an exception set. */
int hp_linesampler_start(struct hp_linetracer *tr);
/* Stop and join tr's sampler thread, if running (GIL held; released while joining). */
void hp_linesampler_stop(struct hp_linetracer *tr);

#endif /* HP_LINESAMPLER_H */
