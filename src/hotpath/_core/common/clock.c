/* clock.c — choosing the tick source and calibrating TSC ticks against nanoseconds.
 *
 * Invariant: hp_clock_use_tsc never changes after hp_clock_init(), so ticks taken at
 * any point of the process are comparable. Calibration pairs (tsc, ns) taken far apart
 * give the ratio; the longest baseline seen so far wins. Protected by the GIL.
 */
#include "clock.h"

#include <stdio.h>
#include <string.h>

int hp_clock_use_tsc = 0;
static int initialized = 0;
static int64_t base_tsc;
static uint64_t base_ns;
static double best_ratio = 0.0; /* seconds per tick */
static uint64_t best_span_ns = 0;

static int kernel_says_tsc_is_stable(void)
{
#if HP_CLOCK_HAVE_TSC
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return 0;
    char line[4096];
    int constant = 0, nonstop = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        constant = strstr(line, " constant_tsc") != NULL;
        nonstop = strstr(line, " nonstop_tsc") != NULL;
        break;
    }
    fclose(f);
    return constant && nonstop;
#else
    return 0;
#endif
}

void hp_clock_init(void)
{
    if (initialized)
        return;
    initialized = 1;
    hp_clock_use_tsc = kernel_says_tsc_is_stable();
    base_ns = hp_clock_ns();
    base_tsc = hp_clock_now();
}

double hp_clock_tick_seconds(void)
{
    hp_clock_init();
    if (!hp_clock_use_tsc)
        return 1e-9;
    uint64_t ns = hp_clock_ns();
    /* A baseline under 20 ms is too short for 1e-5 precision: wait out the rest. */
    while (ns - base_ns < 20000000u && best_span_ns < 20000000u)
        ns = hp_clock_ns();
    int64_t tsc = hp_clock_now();
    uint64_t span = ns - base_ns;
    if (span > best_span_ns && tsc > base_tsc) {
        best_span_ns = span;
        best_ratio = (double)span * 1e-9 / (double)(tsc - base_tsc);
    }
    return best_ratio;
}

const char *hp_clock_name(void)
{
    hp_clock_init();
    return hp_clock_use_tsc ? "tsc" : "clock_gettime(CLOCK_MONOTONIC)";
}
