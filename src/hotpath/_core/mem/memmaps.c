/* memmaps.c — the anonymous-mapping table and its touched bytes (see memmaps.h).
 * Everything here runs under the lock (memstate.h).
 */
#define _GNU_SOURCE
#include "memmaps.h"
#include "memaccount.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MT_MAPS_VEC_PAGES 65536    /* pages per mincore() call: 256 MiB of 4 KiB pages */

mt_map_table mt_maps;

static inline uintptr_t page_up(uintptr_t n)
{
    return (n + mt_maps.page - 1) & ~(uintptr_t)(mt_maps.page - 1);
}

/* Resident (touched) bytes of [a, b). A part that is no longer mapped (unmapped behind
 * our back, moved by mremap) reads as untouched. */
static uint64_t resident(uintptr_t a, uintptr_t b)
{
    uint64_t pages = 0;
    while (a < b) {
        size_t n = (size_t)((b - a) / mt_maps.page);
        if (n > MT_MAPS_VEC_PAGES)
            n = MT_MAPS_VEC_PAGES;
        if (mincore((void *)a, n * mt_maps.page, mt_maps.vec) == 0) {
            for (size_t i = 0; i < n; i++)
                pages += mt_maps.vec[i] & 1;
        }
        a += n * mt_maps.page;
    }
    return pages * mt_maps.page;
}

/* Mapping `m` has `now` bytes touched: account the change to its stack. */
static void settle(mt_map *m, uint64_t now)
{
    if (now > m->touched)
        mt_account_alloc(m->stack, now - m->touched, 0);
    else if (now < m->touched)
        mt_account_free(m->stack, m->touched - now, 0);
    mt_maps.touched = mt_maps.touched - m->touched + now;
    m->touched = now;
}

/* The first mapping that ends after `addr` (ranges are disjoint: ends are sorted too). */
static size_t first_after(uintptr_t addr)
{
    size_t lo = 0, hi = mt_maps.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (mt_maps.v[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int insert_at(size_t i, const mt_map *m)
{
    if (mt_maps.n == mt_maps.cap) {
        size_t cap = mt_maps.cap ? 2 * mt_maps.cap : 64;
        mt_map *v = mt_raw_realloc(mt_maps.v, cap * sizeof *v);
        if (!v)
            return -1;
        mt_maps.v = v;
        mt_maps.cap = cap;
    }
    memmove(&mt_maps.v[i + 1], &mt_maps.v[i], (mt_maps.n - i) * sizeof *mt_maps.v);
    mt_maps.v[i] = *m;
    __atomic_store_n(&mt_maps.n, mt_maps.n + 1, __ATOMIC_RELAXED);
    return 0;
}

static void erase_at(size_t i)
{
    memmove(&mt_maps.v[i], &mt_maps.v[i + 1], (mt_maps.n - i - 1) * sizeof *mt_maps.v);
    __atomic_store_n(&mt_maps.n, mt_maps.n - 1, __ATOMIC_RELAXED);
}

int mt_maps_remove(uintptr_t addr, size_t len)
{
    uintptr_t end = addr + page_up(len);
    size_t i = first_after(addr);
    while (i < mt_maps.n && mt_maps.v[i].addr < end) {
        mt_map *m = &mt_maps.v[i];
        uintptr_t lo = m->addr > addr ? m->addr : addr;
        uintptr_t hi = m->end < end ? m->end : end;
        int keep_left = lo > m->addr, keep_right = hi < m->end;
        uint64_t left = keep_left ? resident(m->addr, lo) : 0;
        uint64_t right = keep_right ? resident(hi, m->end) : 0;
        uint64_t gone = resident(lo, hi);
        settle(m, left + gone + right);         /* the peak sees what is about to go */
        uint32_t count = keep_left || keep_right ? 0 : m->count;
        if (gone || count)
            mt_account_free(m->stack, gone, count);
        mt_maps.touched -= gone;
        mt_maps.reserved -= hi - lo;
        if (!keep_left && !keep_right) {
            erase_at(i);                        /* i is now the next mapping */
        } else if (keep_left && keep_right) {   /* a hole: split, the far piece count 0 */
            mt_map far = {hi, m->end, right, m->stack, 0};
            m->end = lo;
            m->touched = left;
            if (insert_at(i + 1, &far) < 0) {
                mt_account_free(far.stack, far.touched, 0);   /* forgotten as freed */
                mt_maps.touched -= far.touched;
                mt_maps.reserved -= far.end - far.addr;
                return -1;
            }
            return 0;
        } else {
            if (keep_left) {
                m->end = lo;
                m->touched = left;
            } else {
                m->addr = hi;
                m->touched = right;
            }
            i++;
        }
    }
    return 0;
}

int mt_maps_add(uintptr_t addr, size_t len, uint32_t stack)
{
    if (mt_maps.n && mt_maps_remove(addr, len) < 0)    /* MAP_FIXED over a mapping */
        return -1;
    mt_map m = {addr, addr + page_up(len), 0, stack, 1};
    if (insert_at(first_after(addr), &m) < 0)
        return -1;
    mt_account_alloc(stack, 0, 1);
    mt_maps.reserved += m.end - m.addr;
    if (mt_maps.reserved > mt_maps.reserved_max)
        mt_maps.reserved_max = mt_maps.reserved;
    mt_maps.mapped++;
    return 0;
}

void mt_maps_sync(void)
{
    for (size_t i = 0; i < mt_maps.n; i++)
        settle(&mt_maps.v[i], resident(mt_maps.v[i].addr, mt_maps.v[i].end));
}

int mt_maps_init(void)
{
    mt_maps_clear();
    long page = sysconf(_SC_PAGESIZE);
    mt_maps.page = page > 0 ? (size_t)page : 4096;
    mt_maps.vec = mt_raw_calloc(MT_MAPS_VEC_PAGES, 1);
    return mt_maps.vec ? 0 : -1;
}

void mt_maps_clear(void)
{
    mt_raw_free(mt_maps.v);
    mt_raw_free(mt_maps.vec);
    memset(&mt_maps, 0, sizeof mt_maps);
}

size_t mt_maps_bytes(void)
{
    return mt_maps.cap * sizeof(mt_map) + (mt_maps.vec ? MT_MAPS_VEC_PAGES : 0);
}
