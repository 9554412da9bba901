/* clock.c — choosing the tick source and calibrating TSC ticks against nanoseconds.
 *
 * Invariant: hp_clock_use_tsc never changes after hp_clock_init(), so ticks taken at
 * any point of the process are comparable. Calibration is against the process's own
 * span: one (tsc, ns) pair at init (module import), one each time seconds per tick are
 * asked for; the pair of pairs with the smallest relative error wins. Each pair brackets
 * its TSC read between two clock reads, so its error is known (half the bracket). Every
 * duration measured lies inside [init, now], so a ratio with relative error e/span errs
 * by at most e on any of them; still, the first call waits (spins) until the relative
 * error is at most 1e-5 — a few milliseconds at most, and only when the process is younger
 * than that — or 20 ms have passed. Protected by the GIL.
 */
#include "clock.h"

#include <stdio.h>
#include <string.h>

int hp_clock_use_tsc = 0;
static int initialized = 0;
static int64_t base_tsc;
static uint64_t base_ns;
static uint64_t base_err_ns;      /* half the bracket of the base pair */
static double best_ratio = 0.0;   /* seconds per tick */
static uint64_t best_span_ns = 0; /* the baseline best_ratio comes from */
static uint64_t best_err_ns = 0;  /* its uncertainty: both pairs' half-brackets */

#define HP_CLOCK_PRECISION 100000u     /* wanted: error <= span / 100000 (1e-5) */
#define HP_CLOCK_MAX_WAIT_NS 20000000u /* never wait past a 20 ms baseline */

/* One (tsc, ns) pair: the TSC read between two clock reads, the narrowest bracket of a
 * few tries (a slow read or a preemption in one try is dropped); ns is the bracket's middle and
 * *err_ns its half-width. */
static void take_pair(int64_t *tsc, uint64_t *ns, uint64_t *err_ns)
{
    uint64_t best_w = UINT64_MAX;
    (void)hp_clock_ns(); /* the first read of a process can be slow (a cold vDSO page) */
    for (int i = 0; i < 8; i++) {
        uint64_t a = hp_clock_ns();
        int64_t t = hp_clock_now();
        uint64_t b = hp_clock_ns();
        if (b - a < best_w) {
            best_w = b - a;
            *tsc = t;
            *ns = a + (b - a) / 2;
        }
    }
    *err_ns = best_w / 2 + 1;
}

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
    if (hp_clock_use_tsc)
        take_pair(&base_tsc, &base_ns, &base_err_ns);
    else
        base_ns = hp_clock_ns();
}

double hp_clock_tick_seconds(void)
{
    hp_clock_init();
    if (!hp_clock_use_tsc)
        return 1e-9;
    for (;;) {
        int64_t tsc;
        uint64_t ns, err;
        take_pair(&tsc, &ns, &err);
        if (ns > base_ns && tsc > base_tsc) {
            uint64_t span = ns - base_ns;
            err += base_err_ns;
            /* err / span < best_err / best_span, without dividing */
            if (best_span_ns == 0 ||
                (double)err * (double)best_span_ns < (double)best_err_ns * (double)span) {
                best_span_ns = span;
                best_err_ns = err;
                best_ratio = (double)span * 1e-9 / (double)(tsc - base_tsc);
            }
        }
        if (best_span_ns != 0 && best_err_ns * HP_CLOCK_PRECISION <= best_span_ns)
            return best_ratio;
        if (ns > base_ns && ns - base_ns >= HP_CLOCK_MAX_WAIT_NS)
            return best_ratio; /* the best there is (0.0: the TSC never advanced) */
    }
}

const char *hp_clock_name(void)
{
    hp_clock_init();
    return hp_clock_use_tsc ? "tsc" : "clock_gettime(CLOCK_MONOTONIC)";
}
