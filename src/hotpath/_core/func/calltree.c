/* calltree.c — node storage and the (parent, key) → child table.
 *
 * The child table is open addressing with linear probing; a slot holds the key, the
 * parent and the child (16 bytes), so a probe needs no load from the node array. It is
 * kept at most half full and doubles (reinserting every slot) when it would pass that.
 */
#include "calltree.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(hp_func_node) == 48, "a node fits with its neighbours in few cache lines");

hp_func_thread *hp_func_calltree_new(uint32_t max_nodes)
{
    hp_func_thread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->max_nodes = max_nodes < 16 ? 16 : max_nodes;
    t->cap_nodes = 32; /* small: many threads run only a few functions */
    t->nodes = malloc(t->cap_nodes * sizeof *t->nodes);
    t->slot_mask = 63;
    t->slots = calloc((size_t)t->slot_mask + 1, sizeof *t->slots);
    t->cap_stack = 32;
    t->stack = malloc(t->cap_stack * sizeof *t->stack);
    if (!t->nodes || !t->slots || !t->stack) {
        hp_func_calltree_free(t);
        return NULL;
    }
    memset(&t->nodes[0], 0, sizeof t->nodes[0]);
    t->nodes[0].func = HP_FUNC_ROOT;
    t->nodes[0].parent = UINT32_MAX;
    t->n_nodes = 1;
    return t;
}

void hp_func_calltree_free(hp_func_thread *t)
{
    if (!t)
        return;
    hp_ptrmap_clear(&t->by_key);
    free(t->nodes);
    free(t->slots);
    free(t->stack);
    free(t);
}

/* Double the child table. 0 / -1. */
static int grow_slots(hp_func_thread *t)
{
    uint32_t old_cap = t->slot_mask + 1, cap = old_cap * 2, mask = cap - 1;
    hp_func_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t i = 0; i < old_cap; i++) {
        const hp_func_slot *s = &t->slots[i];
        if (!s->key)
            continue;
        uint32_t h = hp_func_calltree_slot_hash(s->parent, s->key) & mask;
        while (slots[h].key)
            h = (h + 1) & mask;
        slots[h] = *s;
    }
    free(t->slots);
    t->slots = slots;
    t->slot_mask = mask;
    return 0;
}

/* Append a node. Returns its index, or 0 when out of memory. */
static uint32_t append_node(hp_func_thread *t, uint32_t parent, uint32_t func)
{
    if (t->n_nodes == t->cap_nodes) {
        uint32_t cap = t->cap_nodes * 2;
        hp_func_node *nodes = realloc(t->nodes, (size_t)cap * sizeof *nodes);
        if (!nodes)
            return 0;
        t->nodes = nodes;
        t->cap_nodes = cap;
    }
    uint32_t i = t->n_nodes++;
    hp_func_node *n = &t->nodes[i];
    memset(n, 0, sizeof *n);
    n->func = func;
    n->parent = parent;
    return i;
}

uint32_t hp_func_calltree_add(hp_func_thread *t, const void *key, uint32_t func)
{
    uint32_t parent = hp_func_calltree_parent(t);
    if (hp_func_calltree_full(t)) {
        t->truncated = 1;
        if (!t->overflow_node) {
            t->overflow_node = append_node(t, 0, HP_FUNC_TRUNCATED);
            if (!t->overflow_node)
                goto nomem;
        }
        t->nodes[parent].cache_key = key;
        t->nodes[parent].cache_child = t->overflow_node;
        return t->overflow_node;
    }
    if ((t->n_slots_used + 1) * 2 > t->slot_mask + 1 && grow_slots(t) < 0)
        goto nomem;
    uint32_t prev_same = 0;
    hp_ptrmap_get(&t->by_key, key, &prev_same);
    uint32_t i = append_node(t, parent, func);
    if (!i)
        goto nomem;
    if (hp_ptrmap_put(&t->by_key, key, i) < 0) {
        t->n_nodes--; /* the node was never reachable: take it back */
        goto nomem;
    }
    t->nodes[i].next_same = prev_same;
    uint32_t h = hp_func_calltree_slot_hash(parent, key) & t->slot_mask;
    while (t->slots[h].key)
        h = (h + 1) & t->slot_mask;
    t->slots[h] = (hp_func_slot){key, parent, i};
    t->n_slots_used++;
    hp_func_node *p = &t->nodes[parent];
    p->cache_key = key;
    p->cache_child = i;
    return i;
nomem:
    t->failed = 1;
    return 0;
}

/* Remove the child-table slot (parent, key) by backward-shift deletion: each later
 * slot of the same probe run moves into the hole unless its home lies cyclically
 * between the hole and itself. */
static void remove_slot(hp_func_thread *t, uint32_t parent, const void *key)
{
    uint32_t mask = t->slot_mask, i = hp_func_calltree_slot_hash(parent, key) & mask;
    while (!(t->slots[i].key == key && t->slots[i].parent == parent)) {
        if (!t->slots[i].key)
            return;
        i = (i + 1) & mask;
    }
    for (uint32_t j = (i + 1) & mask; t->slots[j].key; j = (j + 1) & mask) {
        uint32_t home = hp_func_calltree_slot_hash(t->slots[j].parent, t->slots[j].key) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            t->slots[i] = t->slots[j];
            i = j;
        }
    }
    t->slots[i].key = NULL;
    t->n_slots_used--;
}

void hp_func_calltree_forget(hp_func_thread *t, const void *key)
{
    uint32_t n;
    if (!hp_ptrmap_get(&t->by_key, key, &n))
        return;
    hp_ptrmap_del(&t->by_key, key);
    for (; n; n = t->nodes[n].next_same) {
        uint32_t parent = t->nodes[n].parent;
        remove_slot(t, parent, key);
        if (t->nodes[parent].cache_key == key)
            t->nodes[parent].cache_key = NULL;
        t->nodes[n].next_same = 0;
    }
    /* A parent whose cache sends `key` to the overflow node keeps it: the tree is full
     * (it never shrinks), so a new object at this address would go there anyway. */
}

int hp_func_calltree_grow_stack(hp_func_thread *t)
{
    uint32_t cap = t->cap_stack * 2;
    hp_func_frame *stack = realloc(t->stack, (size_t)cap * sizeof *stack);
    if (!stack) {
        t->failed = 1;
        return -1;
    }
    t->stack = stack;
    t->cap_stack = cap;
    return 0;
}

void hp_func_calltree_flush(hp_func_thread *t, int64_t now)
{
    while (t->depth)
        hp_func_calltree_leave(t, now);
}
