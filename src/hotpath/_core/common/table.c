/* table.c — growth, insertion and deletion for hp_ptrmap; kept at most half full. */
#include "table.h"

#include <stdlib.h>

static void insert_unchecked(hp_ptrmap *m, const void *key, uint32_t value)
{
    size_t h = hp_ptrmap_hash(key);
    for (;;) {
        h &= m->mask;
        hp_ptrmap_entry *e = &m->entries[h];
        if (e->key == NULL || e->key == key) {
            if (e->key == NULL)
                m->used++;
            e->key = key;
            e->value = value;
            return;
        }
        h++;
    }
}

int hp_ptrmap_put(hp_ptrmap *m, const void *key, uint32_t value)
{
    size_t cap = m->entries ? m->mask + 1 : 0;
    if ((m->used + 1) * 2 > cap) {
        size_t ncap = cap ? cap * 2 : 64;
        hp_ptrmap grown = {calloc(ncap, sizeof(hp_ptrmap_entry)), ncap - 1, 0};
        if (!grown.entries)
            return -1;
        for (size_t i = 0; i < cap; i++)
            if (m->entries[i].key)
                insert_unchecked(&grown, m->entries[i].key, m->entries[i].value);
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
    if (!m->entries)
        return;
    size_t i = hp_ptrmap_hash(key) & m->mask;
    while (m->entries[i].key != key) {
        if (m->entries[i].key == NULL)
            return;
        i = (i + 1) & m->mask;
    }
    for (size_t j = (i + 1) & m->mask; m->entries[j].key; j = (j + 1) & m->mask) {
        size_t home = hp_ptrmap_hash(m->entries[j].key) & m->mask;
        if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
            m->entries[i] = m->entries[j];
            i = j;
        }
    }
    m->entries[i].key = NULL;
    m->used--;
}

void hp_ptrmap_clear(hp_ptrmap *m)
{
    free(m->entries);
    m->entries = NULL;
    m->mask = 0;
    m->used = 0;
}
