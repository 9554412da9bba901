/* memaccount.h — accounting: allocations and frees per stack and in total, live bytes,
 * and the peak.
 *
 * The peak is the largest total of live bytes, and each stack's live bytes at that
 * moment; both are kept in O(1) per event by epochs. `peak_dirty` means "the current
 * state is a new high that no snapshot holds yet"; the first decrease after it takes the
 * snapshot by bumping `peak_epoch`. A stack about to change whose `saved_epoch` is older
 * than the epoch has not changed since that snapshot, so its live bytes right now are its
 * bytes at the peak: it saves them (and the epoch) before changing. At export, a stack's
 * bytes at the peak are its saved ones when saved in the current epoch, else its live
 * ones (memstacks.c).
 *
 * Every field is protected by the lock (memstate.h); `live_bytes` is also stored
 * atomically, so the timeline thread and live() may read it without the lock.
 */
#ifndef HP_MEMACCOUNT_H
#define HP_MEMACCOUNT_H

#include "memstacks.h"

/* hp_mem_totals, the state this file accounts into, is in memstate.h (memstacks.c reads
 * its peak epoch too). */

/* (L) Before stack `s` changes: save its live bytes if they are its bytes at the peak. */
static inline void hp_mem_account_touch(hp_mem_stack *s)
{
    if (s->saved_epoch != hp_mem_totals.peak_epoch) {
        s->peak_bytes = s->alloc_bytes - s->free_bytes;
        s->peak_count = s->alloc_count - s->free_count;
        s->saved_epoch = hp_mem_totals.peak_epoch;
    }
}

/* (L) `count` blocks of `bytes` in all, allocated at stack `sid`. */
static inline void hp_mem_account_alloc(uint32_t sid, uint64_t bytes, uint32_t count)
{
    hp_mem_stack *s = &hp_mem_stacks.nodes[sid];
    hp_mem_account_touch(s);
    s->alloc_count += count;
    s->alloc_bytes += bytes;
    hp_mem_totals.alloc_count += count;
    hp_mem_totals.alloc_bytes += bytes;
    hp_mem_totals.live_count += count;
    hp_mem_totals.seq++;
    int64_t live = hp_mem_totals.live_bytes + (int64_t)bytes;
    __atomic_store_n(&hp_mem_totals.live_bytes, live, __ATOMIC_RELAXED);
    if (live > hp_mem_totals.peak_bytes) {
        hp_mem_totals.peak_bytes = live;
        hp_mem_totals.peak_count = hp_mem_totals.live_count;
        hp_mem_totals.peak_dirty = 1;
    }
}

/* (L) `count` blocks of `bytes` in all, allocated at stack `sid`, freed. */
static inline void hp_mem_account_free(uint32_t sid, uint64_t bytes, uint32_t count)
{
    if (hp_mem_totals.peak_dirty) {
        hp_mem_totals.peak_epoch++;
        hp_mem_totals.peak_dirty = 0;
        hp_mem_totals.peak_time = hp_mem_now();
    }
    hp_mem_stack *s = &hp_mem_stacks.nodes[sid];
    hp_mem_account_touch(s);
    s->free_count += count;
    s->free_bytes += bytes;
    hp_mem_totals.free_count += count;
    hp_mem_totals.free_bytes += bytes;
    hp_mem_totals.live_count -= count;
    hp_mem_totals.seq++;
    __atomic_store_n(&hp_mem_totals.live_bytes, hp_mem_totals.live_bytes - (int64_t)bytes,
                     __ATOMIC_RELAXED);
}

/* (L) Undo hp_mem_account_alloc(sid, bytes, count) as if it had never happened: the stack's
 * and the totals' allocation counters and the live total go back. The peak is the
 * caller's (memtrack.c: restored when nothing was accounted since, else kept). */
static inline void hp_mem_account_unalloc(uint32_t sid, uint64_t bytes, uint32_t count)
{
    hp_mem_stack *s = &hp_mem_stacks.nodes[sid];
    hp_mem_account_touch(s);
    s->alloc_count -= count;
    s->alloc_bytes -= bytes;
    hp_mem_totals.alloc_count -= count;
    hp_mem_totals.alloc_bytes -= bytes;
    hp_mem_totals.live_count -= count;
    hp_mem_totals.seq++;
    __atomic_store_n(&hp_mem_totals.live_bytes, hp_mem_totals.live_bytes - (int64_t)bytes,
                     __ATOMIC_RELAXED);
}

/* (L) Note the block at `addr`, about to be accounted, as the calling thread's newest
 * (memstate.h's hp_mem_recent, for forget()): with the peak as it is before it. The caller
 * sets the entry's `seq` once it is accounted. */
static inline hp_mem_recent *hp_mem_recent_push(uintptr_t addr)
{
    if (hp_mem_tls.recent_session != hp_mem_session.id) {
        hp_mem_tls.recent_session = hp_mem_session.id;
        hp_mem_tls.nrecent = 0;
    }
    hp_mem_tls.top = (hp_mem_tls.top + 1) % HP_MEM_RECENT;
    if (hp_mem_tls.nrecent < HP_MEM_RECENT)
        hp_mem_tls.nrecent++;
    hp_mem_recent *e = &hp_mem_tls.recent[hp_mem_tls.top];
    e->addr = addr;
    e->peak_bytes = hp_mem_totals.peak_bytes;
    e->peak_count = hp_mem_totals.peak_count;
    e->peak_dirty = hp_mem_totals.peak_dirty;
    return e;
}

/* (L) Everything zero, a fresh epoch. */
void hp_mem_account_clear(void);

/* (L) The peak starts again from the live total now (for memit). */
void hp_mem_account_reset_peak(void);

#endif /* HP_MEMACCOUNT_H */
