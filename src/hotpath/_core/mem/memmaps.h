/* memmaps.h — anonymous mappings: memory reserved with mmap, counted as it is touched.
 *
 * A native anonymous mmap reserves address space; the kernel gives it memory page by page
 * as it is first touched. OpenBLAS, for one, maps 32 MiB per thread and touches little of
 * it, so counting mappings at their length put hotpath's peak far above RSS (and above
 * memray's and tracemalloc's). Here a mapping is recorded as a *reservation* (its length,
 * reported apart) and only its touched part counts in the heap: the live bytes, the peak,
 * the per-stack figures and the timeline.
 *
 * Touched = resident, read with mincore() over the mapping:
 * - at every timeline tick (memtimeline.c), for all mappings;
 * - when a mapping or part of it goes (munmap, or a MAP_FIXED mapping laid over it),
 *   before it goes, so a region touched and unmapped between two ticks still reaches the
 *   peak;
 * - at snapshot(), peak() and stop(), so the figures read are current.
 * A change in a mapping's touched bytes is accounted to the stack that mapped it as an
 * allocation (growth) or a free (shrink: MADV_DONTNEED, or pages swapped out); the
 * mapping itself is one block with 0 bytes at mmap, freed with its last byte at munmap.
 * So between ticks the heap can lag what the program has touched by one interval; a
 * partial munmap is exact (the mapping is trimmed or split); mremap is not seen (a moved
 * mapping reads as untouched, i.e. freed, at the next measure).
 *
 * The table is an array sorted by address, of disjoint page-aligned ranges (binary search
 * for munmap; mappings are few and large). Every field is protected by the lock
 * (memstate.h), `n` is also stored atomically so the munmap hook can skip the lock when
 * there are none. mincore() runs under the lock: one call per 256 MiB of mapping.
 */
#ifndef HP_MEMMAPS_H
#define HP_MEMMAPS_H

#include "memstate.h"

typedef struct {
    uintptr_t addr, end; /* [addr, end), page-aligned */
    uint64_t touched;    /* bytes of it counted in the heap: resident when last read */
    uint32_t stack;      /* the node that mapped it (memstacks.h) */
    uint32_t count;      /* 1 for the piece that carries the mapping's block, else 0 */
} hp_mem_map;

typedef struct {
    hp_mem_map *v;         /* (L) sorted by addr, disjoint */
    size_t n, cap;         /* (L); n also read atomically without it */
    uint64_t reserved;     /* (L) bytes mapped now: sum of (end - addr) */
    uint64_t touched;      /* (L) bytes of them touched: sum of touched */
    uint64_t reserved_max; /* (L) the largest `reserved` seen */
    uint64_t mapped;       /* (L) mappings recorded in the session */
    unsigned char *vec;    /* (L) mincore()'s output, HP_MEM_MAPS_VEC_PAGES bytes */
    size_t page;
} hp_mem_map_table;

extern hp_mem_map_table hp_mem_maps HP_INTERNAL;

/* Whether any mapping is recorded (no lock; re-check under it). */
static inline int hp_mem_maps_any(void)
{
    return __atomic_load_n(&hp_mem_maps.n, __ATOMIC_RELAXED) != 0;
}

/* (L) An anonymous mapping [addr, addr + len) was made at stack `stack`: record it (after
 * taking out whatever recorded mapping it replaced). 0 / -1 out of memory. */
int hp_mem_maps_add(uintptr_t addr, size_t len, uint32_t stack);

/* (L) [addr, addr + len) is about to be unmapped: account the touched bytes of what it
 * covers as freed (after bringing them up to date) and forget that part. 0 / -1 out of
 * memory (a split could not be stored; the far piece is then forgotten as freed). */
int hp_mem_maps_remove(uintptr_t addr, size_t len);

/* (L) Read every mapping's touched bytes now and account the changes. */
void hp_mem_maps_sync(void);

/* (L) Bytes mapped now that are not touched. */
static inline uint64_t hp_mem_maps_untouched(void)
{
    return hp_mem_maps.reserved - hp_mem_maps.touched;
}

/* (L) A fresh table for a session. 0 / -1 out of memory (no exception set). */
int hp_mem_maps_init(void);

/* (L) Drop the table. */
void hp_mem_maps_clear(void);

/* (L) Bytes the table uses. */
size_t hp_mem_maps_bytes(void);

#endif /* HP_MEMMAPS_H */
