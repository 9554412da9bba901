/* clock.h — the tick source.
 *
 * hp_clock_now() returns an integer tick count: the CPU's time-stamp counter where the
 * kernel says it runs at a constant rate across sleep states (constant_tsc and
 * nonstop_tsc in /proc/cpuinfo), CLOCK_MONOTONIC nanoseconds otherwise. Ticks are only
 * ever subtracted and summed on the hot path; hp_clock_tick_seconds() converts once, at
 * the end, from a calibration against CLOCK_MONOTONIC over the process's lifetime (clock.c).
 */
#ifndef HP_CLOCK_H
#define HP_CLOCK_H

#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#  include <x86intrin.h>
#  define HP_CLOCK_HAVE_TSC 1
#else
#  define HP_CLOCK_HAVE_TSC 0
#endif

/* Set once by hp_clock_init(); read-only afterwards. */
extern int hp_clock_use_tsc;

static inline uint64_t hp_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int64_t hp_clock_now(void)
{
#if HP_CLOCK_HAVE_TSC
    if (hp_clock_use_tsc)
        return (int64_t)__rdtsc();
#endif
    return (int64_t)hp_clock_ns();
}

/* Decide the tick source and take the first calibration point. Idempotent. */
void hp_clock_init(void);
/* Seconds per tick, from the span since hp_clock_init(). Waits only while that span is
 * too short for 1e-5 precision (a few ms at most; never past 20 ms). */
double hp_clock_tick_seconds(void);
/* "tsc" or "clock_gettime(CLOCK_MONOTONIC)". */
const char *hp_clock_name(void);

#endif /* HP_CLOCK_H */
