/* table.h — a pointer → uint32 hash map (open addressing, linear probing).
 *
 * Used on cold paths only: when a call tree node is created (funcreg's code objects and
 * PyMethodDefs, a tree's nodes by key) and when a code object is freed. Keys are
 * compared by address, never hashed as strings. An entry holds its key and value side
 * by side (16 bytes), so a lookup in a map too big for the cache costs one miss.
 * Deletion shifts later entries back (no tombstones), so a map never fills up with dead
 * keys. Memory comes from malloc. Not thread-safe: each map says what protects it where
 * it is declared.
 */
#ifndef HP_TABLE_H
#define HP_TABLE_H

#include <stdint.h>
#include <stddef.h>

typedef struct {
    const void *key; /* NULL = empty */
    uint32_t value;
} hp_ptrmap_entry;

typedef struct {
    hp_ptrmap_entry *entries;
    size_t mask; /* capacity - 1; capacity is a power of two, or 0 */
    size_t used;
} hp_ptrmap;

static inline size_t hp_ptrmap_hash(const void *key)
{
    return ((uintptr_t)key >> 4) * 0x9E3779B97F4A7C15ull >> 20;
}

/* Look up `key`. Returns 1 and sets *value when present, 0 when absent. */
static inline int hp_ptrmap_get(const hp_ptrmap *m, const void *key, uint32_t *value)
{
    if (!m->entries)
        return 0;
    size_t h = hp_ptrmap_hash(key);
    for (;;) {
        h &= m->mask;
        if (m->entries[h].key == key) {
            *value = m->entries[h].value;
            return 1;
        }
        if (m->entries[h].key == NULL)
            return 0;
        h++;
    }
}

/* Bytes the map holds. */
static inline size_t hp_ptrmap_bytes(const hp_ptrmap *m)
{
    return m->entries ? (m->mask + 1) * sizeof *m->entries : 0;
}

/* Insert or replace. 0 / -1 (out of memory; the map is unchanged). */
int hp_ptrmap_put(hp_ptrmap *m, const void *key, uint32_t value);
/* Remove `key` if present; never allocates. */
void hp_ptrmap_del(hp_ptrmap *m, const void *key);
void hp_ptrmap_clear(hp_ptrmap *m);

#endif /* HP_TABLE_H */
