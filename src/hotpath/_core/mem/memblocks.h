/* memblocks.h — the live blocks: address → (bytes, count, stack) for every recorded block
 * not freed yet, and in sampled mode the counting filter in front of it.
 *
 * The table is open addressing with linear probing and backward-shift deletion (no
 * tombstones, so a probe for an address never recorded stops at the first empty slot);
 * kept at most 0.6 full, doubled when it would pass that. Address 0 marks an empty slot.
 * In exact mode: ≈ 24 B / 0.6 of tracker memory per live block.
 *
 * The filter (sampled mode only): 64 Ki counters of live sampled blocks by address hash.
 * Nearly every free in sampled mode is of a block never sampled; its counter is 0, so the
 * free costs one load and no lock. Written under the lock, read without it. Its memory is
 * allocated once and never freed, so a hook still running after a stop never reads freed
 * memory.
 *
 * Protected by the lock (memstate.h); `filter` is read without it by the free hooks, and
 * set or cleared only while not recording.
 */
#ifndef HP_MEMBLOCKS_H
#define HP_MEMBLOCKS_H

#include "memstate.h"

#define HP_MEM_FILTER_BITS 16

typedef struct {
    uintptr_t addr; /* 0 = empty slot */
    uint64_t bytes; /* bytes it stands for (its size, or the sampled estimate) */
    uint32_t stack; /* its node (memstacks.h) */
    uint32_t count; /* blocks it stands for (1, or the sampled estimate) */
} hp_mem_block;

typedef struct {
    hp_mem_block *slots; /* (L) */
    size_t mask, used;   /* (L) */
    uint16_t *filter;    /* sampled mode: the filter, else NULL */
} hp_mem_block_table;

extern hp_mem_block_table hp_mem_blocks HP_INTERNAL;

/* (L) Cold: double the table. 0 / -1 out of memory (the table is unchanged). */
int hp_mem_blocks_grow(void);

/* (L) Insert `b`; when its address is present already (a free we never saw), the old
 * block is replaced and copied to *old. 1 replaced, 0 inserted, -1 out of memory. */
static inline int hp_mem_blocks_put(const hp_mem_block *b, hp_mem_block *old)
{
    if ((hp_mem_blocks.used + 1) * 5 > (hp_mem_blocks.mask + 1) * 3 && hp_mem_blocks_grow() < 0)
        return -1;
    size_t i = hp_mem_ptr_slot(b->addr, hp_mem_blocks.mask);
    while (hp_mem_blocks.slots[i].addr) {
        if (hp_mem_blocks.slots[i].addr == b->addr) {
            *old = hp_mem_blocks.slots[i];
            hp_mem_blocks.slots[i] = *b;
            return 1;
        }
        i = (i + 1) & hp_mem_blocks.mask;
    }
    hp_mem_blocks.slots[i] = *b;
    hp_mem_blocks.used++;
    return 0;
}

/* (L) The block at `addr`, or NULL when it is not tracked. */
static inline const hp_mem_block *hp_mem_blocks_find(uintptr_t addr)
{
    if (!hp_mem_blocks.used)
        return NULL;
    size_t i = hp_mem_ptr_slot(addr, hp_mem_blocks.mask);
    for (;;) {
        if (!hp_mem_blocks.slots[i].addr)
            return NULL;
        if (hp_mem_blocks.slots[i].addr == addr)
            return &hp_mem_blocks.slots[i];
        i = (i + 1) & hp_mem_blocks.mask;
    }
}

/* (L) Remove the block at `addr` into *out. 1 found, 0 not tracked. */
static inline int hp_mem_blocks_take(uintptr_t addr, hp_mem_block *out)
{
    if (!hp_mem_blocks.used)
        return 0;
    size_t mask = hp_mem_blocks.mask;
    size_t i = hp_mem_ptr_slot(addr, mask);
    for (;;) {
        if (!hp_mem_blocks.slots[i].addr)
            return 0;
        if (hp_mem_blocks.slots[i].addr == addr)
            break;
        i = (i + 1) & mask;
    }
    *out = hp_mem_blocks.slots[i];
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!hp_mem_blocks.slots[j].addr)
            break;
        size_t home = hp_mem_ptr_slot(hp_mem_blocks.slots[j].addr, mask);
        /* Move j into the hole at i unless its home lies cyclically in (i, j]. */
        int stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            hp_mem_blocks.slots[i] = hp_mem_blocks.slots[j];
            i = j;
        }
    }
    hp_mem_blocks.slots[i].addr = 0;
    hp_mem_blocks.used--;
    return 1;
}

static inline unsigned hp_mem_filter_slot(uintptr_t a)
{
    return (unsigned)(((uint64_t)(a >> 4) * 0xC2B2AE3D27D4EB4Full) >> (64 - HP_MEM_FILTER_BITS));
}

/* No lock. 0 when `p` was certainly never sampled (the common case in sampled mode);
 * always 1 in exact mode. */
static inline int hp_mem_blocks_maybe_tracked(void *p)
{
    return !hp_mem_blocks.filter ||
        __atomic_load_n(&hp_mem_blocks.filter[hp_mem_filter_slot((uintptr_t)p)], __ATOMIC_RELAXED);
}

/* (L) A sampled block at `addr` became live / stopped being live (no-ops in exact mode). */
static inline void hp_mem_filter_add(uintptr_t addr)
{
    if (hp_mem_blocks.filter)
        hp_mem_blocks.filter[hp_mem_filter_slot(addr)]++;
}

static inline void hp_mem_filter_remove(uintptr_t addr)
{
    if (hp_mem_blocks.filter)
        hp_mem_blocks.filter[hp_mem_filter_slot(addr)]--;
}

/* (L) A fresh table (and, when `sampled`, a zeroed filter). 0 / -1 out of memory (no
 * exception set; the caller clears what was made). */
int hp_mem_blocks_init(int sampled);

/* (L) Drop the table; the filter's memory is kept for the next session. */
void hp_mem_blocks_clear(void);

/* (L) Bytes the table and the filter use. */
size_t hp_mem_blocks_bytes(void);

#endif /* HP_MEMBLOCKS_H */
