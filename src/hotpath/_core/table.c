/* table.c — growth and insertion for hp_ptrmap; kept at most half full. */
#include "table.h"

#include <stdlib.h>

static void insert_unchecked(hp_ptrmap *m, const void *key, uint32_t value)
{
    size_t h = ((uintptr_t)key >> 4) * 0x9E3779B97F4A7C15ull >> 20;
    for (;;) {
        h &= m->mask;
        if (m->keys[h] == NULL || m->keys[h] == key) {
            if (m->keys[h] == NULL)
                m->used++;
            m->keys[h] = key;
            m->values[h] = value;
            return;
        }
        h++;
    }
}

int hp_ptrmap_put(hp_ptrmap *m, const void *key, uint32_t value)
{
    size_t cap = m->keys ? m->mask + 1 : 0;
    if ((m->used + 1) * 2 > cap) {
        size_t ncap = cap ? cap * 2 : 64;
        hp_ptrmap grown = {calloc(ncap, sizeof(void *)), malloc(ncap * sizeof(uint32_t)),
                           ncap - 1, 0};
        if (!grown.keys || !grown.values) {
            free(grown.keys);
            free(grown.values);
            return -1;
        }
        for (size_t i = 0; i < cap; i++)
            if (m->keys[i])
                insert_unchecked(&grown, m->keys[i], m->values[i]);
        hp_ptrmap_clear(m);
        *m = grown;
    }
    insert_unchecked(m, key, value);
    return 0;
}

void hp_ptrmap_clear(hp_ptrmap *m)
{
    free(m->keys);
    free(m->values);
    m->keys = NULL;
    m->values = NULL;
    m->mask = 0;
    m->used = 0;
}
