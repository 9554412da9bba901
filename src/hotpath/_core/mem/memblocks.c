/* memblocks.c — the live-block table's cold paths: growing it, a session's fresh table and
 * filter, and what they use. Everything here runs under the lock (memstate.h).
 */
#include "memblocks.h"

#include <string.h>

hp_mem_block_table hp_mem_blocks;

/* The filter's memory: allocated by the first sampled session, never freed (see
 * memblocks.h). hp_mem_blocks.filter points at it while a sampled session has data. (L) */
static uint16_t *filter_mem;

int hp_mem_blocks_grow(void)
{
    size_t cap = hp_mem_blocks.slots ? 2 * (hp_mem_blocks.mask + 1) : 4096;
    hp_mem_block *t = hp_mem_raw_calloc(cap, sizeof *t);
    if (!t)
        return -1;
    if (hp_mem_blocks.slots) {
        for (size_t i = 0; i <= hp_mem_blocks.mask; i++) {
            if (!hp_mem_blocks.slots[i].addr)
                continue;
            size_t j = hp_mem_ptr_slot(hp_mem_blocks.slots[i].addr, cap - 1);
            while (t[j].addr)
                j = (j + 1) & (cap - 1);
            t[j] = hp_mem_blocks.slots[i];
        }
        hp_mem_raw_free(hp_mem_blocks.slots);
    }
    hp_mem_blocks.slots = t;
    hp_mem_blocks.mask = cap - 1;
    return 0;
}

int hp_mem_blocks_init(int sampled)
{
    if (hp_mem_blocks_grow() < 0)
        return -1;
    if (!sampled)
        return 0;
    if (!filter_mem &&
        !(filter_mem = hp_mem_raw_calloc((size_t)1 << HP_MEM_FILTER_BITS, sizeof *filter_mem)))
        return -1;
    memset(filter_mem, 0, ((size_t)1 << HP_MEM_FILTER_BITS) * sizeof *filter_mem);
    hp_mem_blocks.filter = filter_mem;
    return 0;
}

void hp_mem_blocks_clear(void)
{
    hp_mem_raw_free(hp_mem_blocks.slots);
    hp_mem_blocks.slots = NULL;
    hp_mem_blocks.mask = hp_mem_blocks.used = 0;
    hp_mem_blocks.filter = NULL;
}

size_t hp_mem_blocks_bytes(void)
{
    return (hp_mem_blocks.slots ? (hp_mem_blocks.mask + 1) * sizeof(hp_mem_block) : 0) +
        (hp_mem_blocks.filter ? ((size_t)1 << HP_MEM_FILTER_BITS) * sizeof(uint16_t) : 0);
}
