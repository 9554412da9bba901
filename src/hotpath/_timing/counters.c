/* counters.c — hardware event counters for the benchmark loop (see counters.h).
 *
 * Invariants: every counter counts this thread only, in user space only (exclude_kernel,
 * exclude_hv: a paranoid level of 2 allows that for unprivileged users), and is opened
 * disabled, so only what runs between hp_ctr_start and hp_ctr_stop is counted. The
 * counters are separate events, not a read group: each is read on its own, so one that
 * the PMU cannot schedule alongside the others costs nothing but its own value.
 * Nothing here touches Python objects; callers hold the GIL only because they run
 * Python code in the region.
 */
#include "counters.h"

#include <errno.h>
#include <string.h>

#if defined(__linux__)
#  include <linux/perf_event.h>
#  include <sys/ioctl.h>
#  include <sys/syscall.h>
#  include <unistd.h>
#  define HP_CTR_HAVE_PERF 1
#else
#  define HP_CTR_HAVE_PERF 0
#endif

const char *const hp_ctr_names[HP_CTR_N] = {"instructions", "cycles", "cache_misses",
                                            "branch_misses"};

#if HP_CTR_HAVE_PERF
static const uint64_t hp_ctr_configs[HP_CTR_N] = {
    PERF_COUNT_HW_INSTRUCTIONS,
    PERF_COUNT_HW_CPU_CYCLES,
    PERF_COUNT_HW_CACHE_MISSES,
    PERF_COUNT_HW_BRANCH_MISSES,
};

/* One counter's fd, or -1 with errno set. */
static int hp_ctr_open_one(uint64_t config)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = config;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    return (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}
#endif

int hp_ctr_open(hp_ctr_group *g)
{
    for (int i = 0; i < HP_CTR_N; i++) {
        g->fd[i] = -1;
    }
#if HP_CTR_HAVE_PERF
    for (int i = 0; i < HP_CTR_N; i++) {
        g->fd[i] = hp_ctr_open_one(hp_ctr_configs[i]);
        if (i == HP_CTR_INSTRUCTIONS && g->fd[i] < 0) {
            return -1; /* errno from perf_event_open */
        }
    }
    return 0;
#else
    errno = ENOSYS;
    return -1;
#endif
}

void hp_ctr_start(const hp_ctr_group *g)
{
#if HP_CTR_HAVE_PERF
    for (int i = 0; i < HP_CTR_N; i++) {
        if (g->fd[i] >= 0) {
            (void)ioctl(g->fd[i], PERF_EVENT_IOC_RESET, 0);
        }
    }
    for (int i = 0; i < HP_CTR_N; i++) {
        if (g->fd[i] >= 0) {
            (void)ioctl(g->fd[i], PERF_EVENT_IOC_ENABLE, 0);
        }
    }
#else
    (void)g;
#endif
}

void hp_ctr_stop(const hp_ctr_group *g)
{
#if HP_CTR_HAVE_PERF
    for (int i = 0; i < HP_CTR_N; i++) {
        if (g->fd[i] >= 0) {
            (void)ioctl(g->fd[i], PERF_EVENT_IOC_DISABLE, 0);
        }
    }
#else
    (void)g;
#endif
}

int hp_ctr_read(const hp_ctr_group *g, int64_t out[HP_CTR_N])
{
    for (int i = 0; i < HP_CTR_N; i++) {
        out[i] = -1;
#if HP_CTR_HAVE_PERF
        if (g->fd[i] >= 0) {
            uint64_t value;
            if (read(g->fd[i], &value, sizeof value) != (ssize_t)sizeof value) {
                if (i == HP_CTR_INSTRUCTIONS) {
                    return -1;
                }
                continue;
            }
            out[i] = (int64_t)value;
        }
#endif
    }
    return 0;
}

void hp_ctr_close(hp_ctr_group *g)
{
    for (int i = 0; i < HP_CTR_N; i++) {
#if HP_CTR_HAVE_PERF
        if (g->fd[i] >= 0) {
            close(g->fd[i]);
        }
#endif
        g->fd[i] = -1;
    }
}
