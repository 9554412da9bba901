/* memmaps.c — the anonymous-mapping table and its touched bytes (see memmaps.h).
 * Everything here runs under the lock (memstate.h).
 */
#define _GNU_SOURCE
#include "memmaps.h"
#include "memaccount.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HP_MEM_MAPS_VEC_PAGES 65536 /* pages per mincore() call: 256 MiB of 4 KiB pages */

hp_mem_map_table hp_mem_maps;

static inline uintptr_t page_up(uintptr_t n)
{
    return (n + hp_mem_maps.page - 1) & ~(uintptr_t)(hp_mem_maps.page - 1);
}

/* Resident (touched) bytes of [a, b). A part that is no longer mapped (unmapped behind
 * our back, moved by mremap) reads as untouched. */
static uint64_t resident(uintptr_t a, uintptr_t b)
{
    uint64_t pages = 0;
    while (a < b) {
        size_t n = (size_t)((b - a) / hp_mem_maps.page);
        if (n > HP_MEM_MAPS_VEC_PAGES)
            n = HP_MEM_MAPS_VEC_PAGES;
        if (mincore((void *)a, n * hp_mem_maps.page, hp_mem_maps.vec) == 0) {
            for (size_t i = 0; i < n; i++)
                pages += hp_mem_maps.vec[i] & 1;
        }
        a += n * hp_mem_maps.page;
    }
    return pages * hp_mem_maps.page;
}

/* Mapping `m` has `now` bytes touched: account the change to its stack. */
static void settle(hp_mem_map *m, uint64_t now)
{
    if (now > m->touched)
        hp_mem_account_alloc(m->stack, now - m->touched, 0);
    else if (now < m->touched)
        hp_mem_account_free(m->stack, m->touched - now, 0);
    hp_mem_maps.touched = hp_mem_maps.touched - m->touched + now;
    m->touched = now;
}

/* The first mapping that ends after `addr` (ranges are disjoint: ends are sorted too). */
static size_t first_after(uintptr_t addr)
{
    size_t lo = 0, hi = hp_mem_maps.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (hp_mem_maps.v[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int insert_at(size_t i, const hp_mem_map *m)
{
    if (hp_mem_maps.n == hp_mem_maps.cap) {
        size_t cap = hp_mem_maps.cap ? 2 * hp_mem_maps.cap : 64;
        hp_mem_map *v = hp_mem_raw_realloc(hp_mem_maps.v, cap * sizeof *v);
        if (!v)
            return -1;
        hp_mem_maps.v = v;
        hp_mem_maps.cap = cap;
    }
    memmove(&hp_mem_maps.v[i + 1], &hp_mem_maps.v[i], (hp_mem_maps.n - i) * sizeof *hp_mem_maps.v);
    hp_mem_maps.v[i] = *m;
    __atomic_store_n(&hp_mem_maps.n, hp_mem_maps.n + 1, __ATOMIC_RELAXED);
    return 0;
}

static void erase_at(size_t i)
{
    memmove(&hp_mem_maps.v[i], &hp_mem_maps.v[i + 1],
            (hp_mem_maps.n - i - 1) * sizeof *hp_mem_maps.v);
    __atomic_store_n(&hp_mem_maps.n, hp_mem_maps.n - 1, __ATOMIC_RELAXED);
}

int hp_mem_maps_remove(uintptr_t addr, size_t len)
{
    uintptr_t end = addr + page_up(len);
    size_t i = first_after(addr);
    while (i < hp_mem_maps.n && hp_mem_maps.v[i].addr < end) {
        hp_mem_map *m = &hp_mem_maps.v[i];
        uintptr_t lo = m->addr > addr ? m->addr : addr;
        uintptr_t hi = m->end < end ? m->end : end;
        int keep_left = lo > m->addr, keep_right = hi < m->end;
        uint64_t left = keep_left ? resident(m->addr, lo) : 0;
        uint64_t right = keep_right ? resident(hi, m->end) : 0;
        uint64_t gone = resident(lo, hi);
        settle(m, left + gone + right); /* the peak sees what is about to go */
        uint32_t count = keep_left || keep_right ? 0 : m->count;
        if (gone || count)
            hp_mem_account_free(m->stack, gone, count);
        hp_mem_maps.touched -= gone;
        hp_mem_maps.reserved -= hi - lo;
        if (!keep_left && !keep_right) {
            erase_at(i);                      /* i is now the next mapping */
        } else if (keep_left && keep_right) { /* a hole: split, the far piece count 0 */
            hp_mem_map far = {hi, m->end, right, m->stack, 0};
            m->end = lo;
            m->touched = left;
            if (insert_at(i + 1, &far) < 0) {
                hp_mem_account_free(far.stack, far.touched, 0); /* forgotten as freed */
                hp_mem_maps.touched -= far.touched;
                hp_mem_maps.reserved -= far.end - far.addr;
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

int hp_mem_maps_add(uintptr_t addr, size_t len, uint32_t stack)
{
    if (hp_mem_maps.n && hp_mem_maps_remove(addr, len) < 0) /* MAP_FIXED over a mapping */
        return -1;
    hp_mem_map m = {addr, addr + page_up(len), 0, stack, 1};
    if (insert_at(first_after(addr), &m) < 0)
        return -1;
    hp_mem_account_alloc(stack, 0, 1);
    hp_mem_maps.reserved += m.end - m.addr;
    if (hp_mem_maps.reserved > hp_mem_maps.reserved_max)
        hp_mem_maps.reserved_max = hp_mem_maps.reserved;
    hp_mem_maps.mapped++;
    return 0;
}

void hp_mem_maps_sync(void)
{
    for (size_t i = 0; i < hp_mem_maps.n; i++)
        settle(&hp_mem_maps.v[i], resident(hp_mem_maps.v[i].addr, hp_mem_maps.v[i].end));
}

int hp_mem_maps_init(void)
{
    hp_mem_maps_clear();
    long page = sysconf(_SC_PAGESIZE);
    hp_mem_maps.page = page > 0 ? (size_t)page : 4096;
    hp_mem_maps.vec = hp_mem_raw_calloc(HP_MEM_MAPS_VEC_PAGES, 1);
    return hp_mem_maps.vec ? 0 : -1;
}

void hp_mem_maps_clear(void)
{
    hp_mem_raw_free(hp_mem_maps.v);
    hp_mem_raw_free(hp_mem_maps.vec);
    memset(&hp_mem_maps, 0, sizeof hp_mem_maps);
}

size_t hp_mem_maps_bytes(void)
{
    return hp_mem_maps.cap * sizeof(hp_mem_map) + (hp_mem_maps.vec ? HP_MEM_MAPS_VEC_PAGES : 0);
}
