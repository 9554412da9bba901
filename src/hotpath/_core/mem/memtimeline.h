/* memtimeline.h — memory over time: RSS, the tracked live total and the reserved but
 * untouched mappings, sampled by a background thread.
 *
 * Every `interval` seconds the thread brings the mappings' touched bytes up to date
 * (hp_mem_maps_sync, memmaps.h), reads hp_mem_totals.live_bytes and the untouched reserved bytes,
 * then RSS (/proc/self/statm; read after, so pages counted as touched are in it) into a buffer of at most HP_MEM_TIMELINE_CAP points; when the buffer is full every
 * other point is dropped and the interval doubled, so a run of any length fits. start()
 * and stop() add a point each, so even interval 0 (no thread) gives two.
 *
 * The thread runs with its `busy` flag set (nothing it does is the program's) and never
 * touches Python. The buffer is protected by the lock (memstate.h); the thread's control
 * state follows common/sampler.h (its own mutex, and the GIL). Nothing here is on
 * the per-allocation path.
 */
#ifndef HP_MEMTIMELINE_H
#define HP_MEMTIMELINE_H

#include "memstate.h"

#define HP_MEM_TIMELINE_CAP 8192 /* points kept (halved when full) */

typedef struct {
    double t;
    uint64_t rss, heap;
    uint64_t reserved; /* mapped but not touched (not in heap) */
} hp_mem_point;

/* (L) An empty buffer for a session. 0 / -1 out of memory (no exception set). */
int hp_mem_timeline_init(void);

/* (L) Drop the buffer. */
void hp_mem_timeline_clear(void);

/* (L) Bytes the buffer uses. */
size_t hp_mem_timeline_bytes(void);

/* GIL held, lock not held: a first point, and the thread when `interval` > 0. 0, or -1
 * when the thread could not start (the timeline stays off; no exception set). */
int hp_mem_timeline_start(double interval);

/* GIL held (released while joining), lock not held: stop the thread, add a last point. */
void hp_mem_timeline_stop(void);

/* In a fork child (pthread_atfork): the thread does not exist there. */
void hp_mem_timeline_atfork_child(void);

/* A copy of the buffer taken under the lock, turned into Python objects after it. */
typedef struct {
    hp_mem_point *points;
    size_t n;
} hp_mem_timeline_snap;

/* (L) Fill *c (free it with hp_mem_timeline_snap_free). 0 / -1 out of memory (no exception
 * set). */
int hp_mem_timeline_copy(hp_mem_timeline_snap *c);

/* GIL held: [(t, rss, heap, reserved)]. A new reference, or NULL with an exception set. */
PyObject *hp_mem_timeline_export(const hp_mem_timeline_snap *c);

void hp_mem_timeline_snap_free(hp_mem_timeline_snap *c);

#endif /* HP_MEMTIMELINE_H */
