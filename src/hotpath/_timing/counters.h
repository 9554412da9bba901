/* counters.h — hardware event counters around a benchmark's timed region (hp_ctr_).
 *
 * A group of perf_event_open counters for this thread, user space only: instructions
 * (the group leader, required), then cycles, cache misses and branch misses where the
 * CPU and kernel give them. The group is opened before a region and closed after it;
 * hp_ctr_start / hp_ctr_stop bracket the region itself. Where perf events do not exist
 * (not Linux, or a VM without a PMU: ENOENT, EOPNOTSUPP) opening fails with errno set and
 * hotpath.bench.counts falls back to callgrind.
 */
#ifndef HP_CTR_H
#define HP_CTR_H

#include <stdint.h>

enum {
    HP_CTR_INSTRUCTIONS = 0,
    HP_CTR_CYCLES,
    HP_CTR_CACHE_MISSES,
    HP_CTR_BRANCH_MISSES,
    HP_CTR_N
};

/* The names, in the order above (the Python side's dict keys). */
extern const char *const hp_ctr_names[HP_CTR_N];

/* Open counters: fd[i] is -1 for a counter that could not be opened. */
typedef struct {
    int fd[HP_CTR_N];
} hp_ctr_group;

/* Open the group (disabled). 0, or -1 with errno set when instructions cannot be
 * counted (then nothing is left open). No Python exception is set. */
int hp_ctr_open(hp_ctr_group *g);

/* Reset and enable / disable the whole group. A group with no leader is ignored. */
void hp_ctr_start(const hp_ctr_group *g);
void hp_ctr_stop(const hp_ctr_group *g);

/* Read each open counter into out[i] (-1 for those not open). 0, or -1 with errno set. */
int hp_ctr_read(const hp_ctr_group *g, int64_t out[HP_CTR_N]);

void hp_ctr_close(hp_ctr_group *g);

#endif /* HP_CTR_H */
