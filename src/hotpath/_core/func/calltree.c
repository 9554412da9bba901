/* calltree.c — node chunks, child lists, the wide nodes' child table, forgetting keys.
 *
 * The child table is open addressing with linear probing; a slot holds the key, the
 * parent and the child (16 bytes), so a probe needs no load from the nodes. It holds
 * only the children of wide nodes (those with HP_FUNC_WIDE_AT children or more), is kept
 * at most half full and doubles (reinserting every slot) when it would pass that.
 */
#include "calltree.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_NODES (1u << HP_FUNC_CHUNK_SHIFT)

_Static_assert(sizeof(hp_func_node) == 48, "a node is at most 48 bytes");

static uintptr_t func_key(uint32_t func)
{
    return ((uintptr_t)func << 1) | 1;
}

hp_func_thread *hp_func_calltree_new(uint32_t max_nodes)
{
    hp_func_thread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->max_nodes = max_nodes < 16 ? 16 : max_nodes;
    t->cap_chunks = 8;
    t->chunks = calloc(t->cap_chunks, sizeof *t->chunks);
    t->slot_mask = 63;
    t->slots = calloc((size_t)t->slot_mask + 1, sizeof *t->slots);
    t->cap_stack = 32;
    t->stack = malloc(t->cap_stack * sizeof *t->stack);
    /* The first chunk's pages are only touched as nodes are made: a thread running a
     * few functions costs a few pages. */
    if (t->chunks) {
        t->chunks[0] = malloc(CHUNK_NODES * sizeof(hp_func_node));
        t->n_chunks = 1;
    }
    if (!t->chunks || !t->chunks[0] || !t->slots || !t->stack) {
        hp_func_calltree_free(t);
        return NULL;
    }
    t->cap_nodes = CHUNK_NODES;
    hp_func_node *root = t->chunks[0];
    memset(root, 0, sizeof *root);
    root->key = func_key(HP_FUNC_ROOT);
    root->parent = UINT32_MAX;
    t->n_nodes = 1;
    return t;
}

void hp_func_calltree_free(hp_func_thread *t)
{
    if (!t)
        return;
    hp_ptrmap_clear(&t->by_key);
    for (uint32_t c = 0; c < t->n_chunks; c++)
        free(t->chunks[c]);
    free(t->chunks);
    free(t->slots);
    free(t->stack);
    free(t);
}

size_t hp_func_calltree_bytes(const hp_func_thread *t)
{
    size_t map = hp_ptrmap_bytes(&t->by_key);
    return (size_t)t->n_chunks * CHUNK_NODES * sizeof(hp_func_node) +
        (size_t)t->cap_chunks * sizeof(hp_func_node *) +
        ((size_t)t->slot_mask + 1) * sizeof(hp_func_slot) + map +
        (size_t)t->cap_stack * sizeof(hp_func_frame) + sizeof *t;
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

/* Room for `n` more slots. 0 / -1. */
static int reserve_slots(hp_func_thread *t, uint32_t n)
{
    while ((uint64_t)(t->n_slots_used + n) * 2 > (uint64_t)t->slot_mask + 1)
        if (grow_slots(t) < 0)
            return -1;
    return 0;
}

/* Insert (parent, key) → node; the table has room (reserve_slots). */
static void put_slot(hp_func_thread *t, uint32_t parent, const void *key, uint32_t node)
{
    uint32_t h = hp_func_calltree_slot_hash(parent, key) & t->slot_mask;
    while (t->slots[h].key)
        h = (h + 1) & t->slot_mask;
    t->slots[h] = (hp_func_slot){key, parent, node};
    t->n_slots_used++;
}

/* Append a node. Returns its index, or 0 when out of memory. */
static uint32_t append_node(hp_func_thread *t, uint32_t parent, uintptr_t key)
{
    if (t->n_nodes == t->cap_nodes) {
        if (t->n_chunks == t->cap_chunks) {
            uint32_t cap = t->cap_chunks * 2;
            hp_func_node **chunks = realloc(t->chunks, (size_t)cap * sizeof *chunks);
            if (!chunks)
                return 0;
            t->chunks = chunks;
            t->cap_chunks = cap;
        }
        hp_func_node *chunk = malloc(CHUNK_NODES * sizeof *chunk);
        if (!chunk)
            return 0;
        t->chunks[t->n_chunks++] = chunk;
        t->cap_nodes += CHUNK_NODES;
    }
    uint32_t i = t->n_nodes++;
    hp_func_node *n = hp_func_calltree_node(t, i);
    memset(n, 0, sizeof *n);
    n->key = key;
    n->parent = parent;
    return i;
}

/* Make `p` (index pi) wide: its children, and the new one `node`, go into the slot
 * table. 0 / -1. */
static int make_wide(hp_func_thread *t, hp_func_node *p, uint32_t pi, uint32_t n_children)
{
    if (reserve_slots(t, n_children) < 0)
        return -1;
    for (uint32_t c = p->first_child; c; c = hp_func_calltree_node(t, c)->next_sibling) {
        const hp_func_node *n = hp_func_calltree_node(t, c);
        if (!hp_func_calltree_key_is_func(n->key)) /* forgotten nodes stay unreachable */
            put_slot(t, pi, (const void *)n->key, c);
    }
    p->first_child |= HP_FUNC_WIDE;
    return 0;
}

uint32_t hp_func_calltree_add(hp_func_thread *t, const void *key)
{
    uint32_t pi = t->depth ? t->stack[t->depth - 1].index : 0;
    hp_func_node *p = hp_func_calltree_node(t, pi);
    if (hp_func_calltree_full(t)) {
        t->truncated = 1;
        if (!t->overflow_node) {
            t->overflow_node = append_node(t, 0, func_key(HP_FUNC_TRUNCATED));
            if (!t->overflow_node)
                goto nomem;
        }
        return t->overflow_node;
    }
    /* Count the children of a narrow node: the new one may make it wide. */
    uint32_t n_children = 0;
    if (!(p->first_child & HP_FUNC_WIDE))
        for (uint32_t c = p->first_child; c; c = hp_func_calltree_node(t, c)->next_sibling)
            n_children++;
    int wide = (p->first_child & HP_FUNC_WIDE) || n_children + 1 >= HP_FUNC_WIDE_AT;
    if (wide && reserve_slots(t, n_children + 1) < 0)
        goto nomem;
    uint32_t prev_same = 0;
    hp_ptrmap_get(&t->by_key, key, &prev_same);
    uint32_t i = append_node(t, pi, (uintptr_t)key);
    if (!i)
        goto nomem;
    if (hp_ptrmap_put(&t->by_key, key, i) < 0) {
        t->n_nodes--; /* the node was never reachable: take it back */
        goto nomem;
    }
    hp_func_node *n = hp_func_calltree_node(t, i);
    n->next_same = prev_same;
    if (!(p->first_child & HP_FUNC_WIDE) && wide)
        make_wide(t, p, pi, n_children); /* cannot fail: the room is reserved */
    if (p->first_child & HP_FUNC_WIDE) {
        put_slot(t, pi, key, i);
        p->first_child = i | HP_FUNC_WIDE;
    } else {
        n->next_sibling = p->first_child;
        p->first_child = i;
    }
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

void hp_func_calltree_forget(hp_func_thread *t, const void *key, uint32_t func)
{
    uint32_t i;
    if (!hp_ptrmap_get(&t->by_key, key, &i))
        return;
    hp_ptrmap_del(&t->by_key, key);
    while (i) {
        hp_func_node *n = hp_func_calltree_node(t, i);
        if (hp_func_calltree_node(t, n->parent)->first_child & HP_FUNC_WIDE)
            remove_slot(t, n->parent, key);
        /* A narrow parent keeps the node in its list, where the tagged key matches no
         * event; a wide parent's last-found child check fails the same way. */
        n->key = func_key(func);
        i = n->next_same;
        n->next_same = 0;
    }
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
