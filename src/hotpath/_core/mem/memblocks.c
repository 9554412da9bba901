/* memblocks.c — the live-block table's cold paths: growing it, a session's fresh table and
 * filter, and what they use. Everything here runs under the lock (memstate.h).
 */
#include "memblocks.h"

#include <string.h>

mt_block_table mt_blocks;

/* The filter's memory: allocated by the first sampled session, never freed (see
 * memblocks.h). mt_blocks.filter points at it while a sampled session has data. (L) */
static uint16_t *filter_mem;

int mt_blocks_grow(void)
{
    size_t cap = mt_blocks.slots ? 2 * (mt_blocks.mask + 1) : 4096;
    mt_block *t = mt_raw_calloc(cap, sizeof *t);
    if (!t)
        return -1;
    if (mt_blocks.slots) {
        for (size_t i = 0; i <= mt_blocks.mask; i++) {
            if (!mt_blocks.slots[i].addr)
                continue;
            size_t j = mt_ptr_slot(mt_blocks.slots[i].addr, cap - 1);
            while (t[j].addr)
                j = (j + 1) & (cap - 1);
            t[j] = mt_blocks.slots[i];
        }
        mt_raw_free(mt_blocks.slots);
    }
    mt_blocks.slots = t;
    mt_blocks.mask = cap - 1;
    return 0;
}

int mt_blocks_init(int sampled)
{
    if (mt_blocks_grow() < 0)
        return -1;
    if (!sampled)
        return 0;
    if (!filter_mem &&
        !(filter_mem = mt_raw_calloc((size_t)1 << MT_FILTER_BITS, sizeof *filter_mem)))
        return -1;
    memset(filter_mem, 0, ((size_t)1 << MT_FILTER_BITS) * sizeof *filter_mem);
    mt_blocks.filter = filter_mem;
    return 0;
}

void mt_blocks_clear(void)
{
    mt_raw_free(mt_blocks.slots);
    mt_blocks.slots = NULL;
    mt_blocks.mask = mt_blocks.used = 0;
    mt_blocks.filter = NULL;
}

size_t mt_blocks_bytes(void)
{
    return (mt_blocks.slots ? (mt_blocks.mask + 1) * sizeof(mt_block) : 0) +
           (mt_blocks.filter ? ((size_t)1 << MT_FILTER_BITS) * sizeof(uint16_t) : 0);
}
