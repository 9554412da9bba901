/* sampletree.c — the sampled calling-context tree (see sampletree.h). */
#include "sampletree.h"

#include <stdlib.h>
#include <string.h>

static size_t key_hash(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (size_t)k;
}

/* Grow the node arrays to hold `need` nodes. 0 / -1. */
static int grow_nodes(hp_sample_tree *t, size_t need)
{
    if (need <= t->cap)
        return 0;
    size_t cap = t->cap ? t->cap * 2 : 64;
    while (cap < need)
        cap *= 2;
    void *p;
#define GROW(field)                                     \
  if (!(p = realloc(t->field, cap * sizeof *t->field))) \
    return -1;                                          \
  t->field = p;
    GROW(func)
    GROW(parent)
    GROW(count)
    GROW(self)
    GROW(total)
#undef GROW
    t->cap = cap;
    return 0;
}

/* Rehash the child table to hold twice the nodes. 0 / -1 (table unchanged). */
static int grow_table(hp_sample_tree *t)
{
    size_t cap = t->keys ? (t->mask + 1) * 2 : 128;
    uint64_t *keys = calloc(cap, sizeof *keys);
    uint32_t *vals = malloc(cap * sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    if (t->keys) {
        for (size_t i = 0; i <= t->mask; i++) {
            if (!t->keys[i])
                continue;
            size_t h = key_hash(t->keys[i]) & (cap - 1);
            while (keys[h])
                h = (h + 1) & (cap - 1);
            keys[h] = t->keys[i];
            vals[h] = t->vals[i];
        }
    }
    free(t->keys);
    free(t->vals);
    t->keys = keys;
    t->vals = vals;
    t->mask = cap - 1;
    return 0;
}

int hp_sample_tree_init(hp_sample_tree *t, size_t max_nodes)
{
    memset(t, 0, sizeof *t);
    t->max_nodes = max_nodes < 2 ? 2 : max_nodes;
    if (grow_nodes(t, 1) < 0 || grow_table(t) < 0)
        return -1;
    t->func[0] = t->parent[0] = HP_SAMPLE_ROOT;
    t->count[0] = 0;
    t->self[0] = t->total[0] = 0;
    t->n = 1;
    return 0;
}

void hp_sample_tree_free(hp_sample_tree *t)
{
    free(t->func);
    free(t->parent);
    free(t->count);
    free(t->self);
    free(t->total);
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof *t);
}

/* The child of `parent` for `func`, made if missing; -1 when it cannot be made (the cap,
 * with *full set, or out of memory). */
static int64_t child(hp_sample_tree *t, uint32_t parent, uint32_t func, int *full)
{
    uint64_t key = (((uint64_t)parent << 32) | func) + 1;
    size_t h = key_hash(key) & t->mask;
    while (t->keys[h]) {
        if (t->keys[h] == key)
            return t->vals[h];
        h = (h + 1) & t->mask;
    }
    /* the overflow function may always get its one node per parent (at most doubling the
     * cap), so that every sample lands somewhere */
    if (t->n >= t->max_nodes && func != HP_SAMPLE_OVERFLOW) {
        *full = 1;
        return -1;
    }
    if (grow_nodes(t, t->n + 1) < 0)
        return -1;
    if ((t->n + 1) * 2 > t->mask + 1) {
        if (grow_table(t) < 0)
            return -1;
        h = key_hash(key) & t->mask;
        while (t->keys[h])
            h = (h + 1) & t->mask;
    }
    uint32_t i = (uint32_t)t->n++;
    t->func[i] = func;
    t->parent[i] = parent;
    t->count[i] = 0;
    t->self[i] = t->total[i] = 0;
    t->keys[h] = key;
    t->vals[h] = i;
    return i;
}

int hp_sample_tree_add(hp_sample_tree *t, const uint32_t *funcs, int n, int64_t w, uint32_t *leaf)
{
    uint32_t node = 0;
    for (int i = 0; i < n; i++) {
        int full = 0;
        int64_t c = child(t, node, funcs[i], &full);
        if (c < 0 && full) {
            t->truncated = 1;
            c = child(t, node, HP_SAMPLE_OVERFLOW, &full);
            i = n; /* the rest of the path is merged into the overflow node */
        }
        if (c < 0)
            return -1;
        node = (uint32_t)c;
        t->count[node]++;
        t->total[node] += w;
    }
    if (node != 0)
        t->self[node] += w;
    if (leaf)
        *leaf = node;
    return 0;
}

void hp_sample_tree_weigh(hp_sample_tree *t, uint32_t leaf, int64_t w)
{
    if (leaf == 0 || leaf >= t->n)
        return;
    t->self[leaf] += w;
    for (uint32_t node = leaf; node != 0 && node != HP_SAMPLE_ROOT; node = t->parent[node])
        t->total[node] += w;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

void hp_sample_tree_pack(const hp_sample_tree *t, unsigned char *out)
{
    for (size_t i = 0; i < t->n; i++, out += 32) {
        put32(out, t->func[i]);
        put32(out + 4, t->parent[i]);
        put64(out + 8, t->count[i]);
        put64(out + 16, (uint64_t)t->self[i]);
        put64(out + 24, (uint64_t)t->total[i]);
    }
}
