/* memaccount.c — the totals' resets (the per-event accounting is inline in
 * memaccount.h; the totals themselves are in memstate.[ch]). Everything here runs under
 * the lock (memstate.h).
 */
#include "memaccount.h"

void mt_account_clear(void)
{
    mt_totals.live_count = mt_totals.peak_bytes = mt_totals.peak_count = 0;
    __atomic_store_n(&mt_totals.live_bytes, 0, __ATOMIC_RELAXED);
    mt_totals.peak_dirty = 0;
    mt_totals.peak_epoch = 1;
    mt_totals.peak_time = 0;
    mt_totals.alloc_count = mt_totals.alloc_bytes = mt_totals.free_count =
        mt_totals.free_bytes = mt_totals.samples = mt_totals.seq = 0;
}

void mt_account_reset_peak(void)
{
    mt_totals.peak_bytes = mt_totals.live_bytes;
    mt_totals.peak_count = mt_totals.live_count;
    mt_totals.peak_dirty = 1;
    mt_totals.peak_time = mt_now();
}
