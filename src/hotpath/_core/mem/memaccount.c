/* memaccount.c — the totals' resets (the per-event accounting is inline in
 * memaccount.h; the totals themselves are in memstate.[ch]). Everything here runs under
 * the lock (memstate.h).
 */
#include "memaccount.h"

void hp_mem_account_clear(void)
{
    hp_mem_totals.live_count = hp_mem_totals.peak_bytes = hp_mem_totals.peak_count = 0;
    __atomic_store_n(&hp_mem_totals.live_bytes, 0, __ATOMIC_RELAXED);
    hp_mem_totals.peak_dirty = 0;
    hp_mem_totals.peak_epoch = 1;
    hp_mem_totals.peak_time = 0;
    hp_mem_totals.alloc_count = hp_mem_totals.alloc_bytes = hp_mem_totals.free_count =
        hp_mem_totals.free_bytes = hp_mem_totals.samples = hp_mem_totals.seq = 0;
}

void hp_mem_account_reset_peak(void)
{
    hp_mem_totals.peak_bytes = hp_mem_totals.live_bytes;
    hp_mem_totals.peak_count = hp_mem_totals.live_count;
    hp_mem_totals.peak_dirty = 1;
    hp_mem_totals.peak_time = hp_mem_now();
}
