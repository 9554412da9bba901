/* table.c — growth, insertion and deletion for hp_ptrmap; kept at most half full. */
#include "table.h"

#include <stdlib.h>

static void insert_unchecked(hp_ptrmap *m, const void *key, uint32_t value)
{
    size_t h = hp_ptrmap_hash(key);
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
        hp_ptrmap grown = {calloc(ncap, sizeof(void *)), malloc(ncap * sizeof(uint32_t)), ncap - 1,
                           0};
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

/* Linear probing's backward-shift deletion: after emptying slot i, each later entry of
 * the same run moves into the hole unless its home slot lies cyclically in (i, j]. */
void hp_ptrmap_del(hp_ptrmap *m, const void *key)
{
    if (!m->keys)
        return;
    size_t i = hp_ptrmap_hash(key) & m->mask;
    while (m->keys[i] != key) {
        if (m->keys[i] == NULL)
            return;
        i = (i + 1) & m->mask;
    }
    for (size_t j = (i + 1) & m->mask; m->keys[j]; j = (j + 1) & m->mask) {
        size_t home = hp_ptrmap_hash(m->keys[j]) & m->mask;
        if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
            m->keys[i] = m->keys[j];
            m->values[i] = m->values[j];
            i = j;
        }
    }
    m->keys[i] = NULL;
    m->used--;
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
