/* calltree.c — node storage and the (parent, function) → child table.
 *
 * The child table is open addressing with linear probing over node indices; the key
 * lives in the node itself (parent, func), so a slot is 4 bytes. It is kept at most half
 * full and doubles (rehashing every node) when it would pass that.
 */
#include "calltree.h"

#include <stdlib.h>
#include <string.h>

static inline uint32_t slot_hash(uint32_t parent, uint32_t func)
{
    uint64_t h = ((uint64_t)parent << 32 | func) * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32);
}

hp_thread *hp_calltree_new(uint32_t max_nodes)
{
    hp_thread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->max_nodes = max_nodes < 16 ? 16 : max_nodes;
    t->cap_nodes = 256;
    t->nodes = malloc(t->cap_nodes * sizeof *t->nodes);
    t->slot_mask = 511;
    t->slots = calloc(t->slot_mask + 1, sizeof *t->slots);
    t->cap_stack = 128;
    t->stack = malloc(t->cap_stack * sizeof *t->stack);
    if (!t->nodes || !t->slots || !t->stack) {
        hp_calltree_free(t);
        return NULL;
    }
    memset(&t->nodes[0], 0, sizeof t->nodes[0]);
    t->nodes[0].func = HP_FUNC_ROOT;
    t->nodes[0].parent = UINT32_MAX;
    t->n_nodes = 1;
    return t;
}

void hp_calltree_free(hp_thread *t)
{
    if (!t)
        return;
    free(t->nodes);
    free(t->slots);
    free(t->stack);
    free(t);
}

/* Double the child table. 0 / -1. */
static int grow_slots(hp_thread *t)
{
    uint32_t cap = (t->slot_mask + 1) * 2;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    uint32_t mask = cap - 1;
    for (uint32_t i = 1; i < t->n_nodes; i++) {
        uint32_t h = slot_hash(t->nodes[i].parent, t->nodes[i].func) & mask;
        while (slots[h])
            h = (h + 1) & mask;
        slots[h] = i;
    }
    free(t->slots);
    t->slots = slots;
    t->slot_mask = mask;
    return 0;
}

/* Append a node. Returns its index, or 0 when out of memory. */
static uint32_t append_node(hp_thread *t, uint32_t parent, uint32_t func)
{
    if (t->n_nodes == t->cap_nodes) {
        uint32_t cap = t->cap_nodes * 2;
        hp_node *nodes = realloc(t->nodes, (size_t)cap * sizeof *nodes);
        if (!nodes)
            return 0;
        t->nodes = nodes;
        t->cap_nodes = cap;
    }
    uint32_t i = t->n_nodes++;
    hp_node *n = &t->nodes[i];
    memset(n, 0, sizeof *n);
    n->func = func;
    n->parent = parent;
    return i;
}

uint32_t hp_calltree_child(hp_thread *t, uint32_t parent, uint32_t func)
{
    /* Inside the overflow node everything stays in the overflow node. */
    if (parent != 0 && parent == t->overflow_node)
        return parent;
    uint32_t h = slot_hash(parent, func) & t->slot_mask;
    for (;;) {
        uint32_t i = t->slots[h];
        if (i == 0)
            break;
        if (t->nodes[i].func == func && t->nodes[i].parent == parent)
            return i;
        h = (h + 1) & t->slot_mask;
    }
    if (t->n_nodes >= t->max_nodes) {
        t->truncated = 1;
        if (!t->overflow_node) {
            t->overflow_node = append_node(t, 0, HP_FUNC_TRUNCATED);
            if (!t->overflow_node)
                goto nomem;
        }
        return t->overflow_node;
    }
    if ((t->n_slots_used + 1) * 2 > t->slot_mask + 1) {
        if (grow_slots(t) < 0)
            goto nomem;
        h = slot_hash(parent, func) & t->slot_mask;
        while (t->slots[h])
            h = (h + 1) & t->slot_mask;
    }
    uint32_t i = append_node(t, parent, func);
    if (!i)
        goto nomem;
    t->slots[h] = i;
    t->n_slots_used++;
    return i;
nomem:
    t->failed = 1;
    return 0;
}

int hp_calltree_grow_stack(hp_thread *t)
{
    uint32_t cap = t->cap_stack * 2;
    hp_frame *stack = realloc(t->stack, (size_t)cap * sizeof *stack);
    if (!stack) {
        t->failed = 1;
        return -1;
    }
    t->stack = stack;
    t->cap_stack = cap;
    return 0;
}

void hp_calltree_flush(hp_thread *t, int64_t now)
{
    while (t->depth)
        hp_calltree_leave(t, now);
}
