/* table.h — a pointer → uint32 hash map (open addressing, linear probing).
 *
 * Used on cold paths only: the first sight of a code object whose co_extra slot holds
 * another session's id, and C functions keyed by their PyMethodDef. Keys are compared
 * by address, never hashed as strings. Memory comes from malloc. Not thread-safe: each
 * map says what protects it where it is declared.
 */
#ifndef HP_TABLE_H
#define HP_TABLE_H

#include <stdint.h>
#include <stddef.h>

typedef struct {
    const void **keys;    /* NULL = empty */
    uint32_t *values;
    size_t mask;          /* capacity - 1; capacity is a power of two, or 0 */
    size_t used;
} hp_ptrmap;

/* Look up `key`. Returns 1 and sets *value when present, 0 when absent. */
static inline int hp_ptrmap_get(const hp_ptrmap *m, const void *key, uint32_t *value)
{
    if (!m->keys)
        return 0;
    size_t h = ((uintptr_t)key >> 4) * 0x9E3779B97F4A7C15ull >> 20;
    for (;;) {
        h &= m->mask;
        if (m->keys[h] == key) {
            *value = m->values[h];
            return 1;
        }
        if (m->keys[h] == NULL)
            return 0;
        h++;
    }
}

/* Insert or replace. 0 / -1 (out of memory; the map is unchanged). */
int hp_ptrmap_put(hp_ptrmap *m, const void *key, uint32_t value);
void hp_ptrmap_clear(hp_ptrmap *m);

#endif /* HP_TABLE_H */
