/* timing.h — shared constants of hotpath._timing (the benchmark timing loop).
 *
 * The clock numbers are part of the module's Python API: hotpath.bench.runner passes
 * them as the `clock` argument. Keep them in step with runner.CLOCKS.
 */
#ifndef HP_TIMING_H
#define HP_TIMING_H

#define HP_TIMING_CLOCK_PERF 0    /* CLOCK_MONOTONIC, what time.perf_counter reads */
#define HP_TIMING_CLOCK_PROCESS 1 /* CLOCK_PROCESS_CPUTIME_ID, time.process_time */
#define HP_TIMING_CLOCK_THREAD 2  /* CLOCK_THREAD_CPUTIME_ID, time.thread_time */
#define HP_TIMING_NCLOCKS 3

/* Calibration never asks for more loops than this in one round. */
#define HP_TIMING_MAX_LOOPS ((long long)1 << 40)

#endif /* HP_TIMING_H */
