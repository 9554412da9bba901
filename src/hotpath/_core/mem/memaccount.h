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

/* mt_totals, the state this file accounts into, is in memstate.h (memstacks.c reads
 * its peak epoch too). */

/* (L) Before stack `s` changes: save its live bytes if they are its bytes at the peak. */
static inline void mt_account_touch(mt_stack *s)
{
    if (s->saved_epoch != mt_totals.peak_epoch) {
        s->peak_bytes = s->alloc_bytes - s->free_bytes;
        s->peak_count = s->alloc_count - s->free_count;
        s->saved_epoch = mt_totals.peak_epoch;
    }
}

/* (L) `count` blocks of `bytes` in all, allocated at stack `sid`. */
static inline void mt_account_alloc(uint32_t sid, uint64_t bytes, uint32_t count)
{
    mt_stack *s = &mt_stacks.nodes[sid];
    mt_account_touch(s);
    s->alloc_count += count;
    s->alloc_bytes += bytes;
    mt_totals.alloc_count += count;
    mt_totals.alloc_bytes += bytes;
    mt_totals.live_count += count;
    mt_totals.seq++;
    int64_t live = mt_totals.live_bytes + (int64_t)bytes;
    __atomic_store_n(&mt_totals.live_bytes, live, __ATOMIC_RELAXED);
    if (live > mt_totals.peak_bytes) {
        mt_totals.peak_bytes = live;
        mt_totals.peak_count = mt_totals.live_count;
        mt_totals.peak_dirty = 1;
    }
}

/* (L) `count` blocks of `bytes` in all, allocated at stack `sid`, freed. */
static inline void mt_account_free(uint32_t sid, uint64_t bytes, uint32_t count)
{
    if (mt_totals.peak_dirty) {
        mt_totals.peak_epoch++;
        mt_totals.peak_dirty = 0;
        mt_totals.peak_time = mt_now();
    }
    mt_stack *s = &mt_stacks.nodes[sid];
    mt_account_touch(s);
    s->free_count += count;
    s->free_bytes += bytes;
    mt_totals.free_count += count;
    mt_totals.free_bytes += bytes;
    mt_totals.live_count -= count;
    mt_totals.seq++;
    __atomic_store_n(&mt_totals.live_bytes, mt_totals.live_bytes - (int64_t)bytes,
                     __ATOMIC_RELAXED);
}

/* (L) Undo mt_account_alloc(sid, bytes, count) as if it had never happened: the stack's
 * and the totals' allocation counters and the live total go back. The peak is the
 * caller's (memtrack.c: restored when nothing was accounted since, else kept). */
static inline void mt_account_unalloc(uint32_t sid, uint64_t bytes, uint32_t count)
{
    mt_stack *s = &mt_stacks.nodes[sid];
    mt_account_touch(s);
    s->alloc_count -= count;
    s->alloc_bytes -= bytes;
    mt_totals.alloc_count -= count;
    mt_totals.alloc_bytes -= bytes;
    mt_totals.live_count -= count;
    mt_totals.seq++;
    __atomic_store_n(&mt_totals.live_bytes, mt_totals.live_bytes - (int64_t)bytes,
                     __ATOMIC_RELAXED);
}

/* (L) Note the block at `addr`, about to be accounted, as the calling thread's newest
 * (memstate.h's mt_recent, for forget()): with the peak as it is before it. The caller
 * sets the entry's `seq` once it is accounted. */
static inline mt_recent *mt_recent_push(uintptr_t addr)
{
    if (mt_tls.recent_session != mt_session.id) {
        mt_tls.recent_session = mt_session.id;
        mt_tls.nrecent = 0;
    }
    mt_tls.top = (mt_tls.top + 1) % MT_RECENT;
    if (mt_tls.nrecent < MT_RECENT)
        mt_tls.nrecent++;
    mt_recent *e = &mt_tls.recent[mt_tls.top];
    e->addr = addr;
    e->peak_bytes = mt_totals.peak_bytes;
    e->peak_count = mt_totals.peak_count;
    e->peak_dirty = mt_totals.peak_dirty;
    return e;
}

/* (L) Everything zero, a fresh epoch. */
void mt_account_clear(void);

/* (L) The peak starts again from the live total now (for memit). */
void mt_account_reset_peak(void);

#endif /* HP_MEMACCOUNT_H */
