/* calltree.h — one thread's calling-context tree and its live stack.
 *
 * Every distinct stack path gets one node (calls, self ticks, total ticks). A child is
 * found from (parent node, key) where the key is the pointer the event already carries
 * — the PyCodeObject* of a Python function, the PyMethodDef* of a C function — so the
 * per-event path never consults the function table: funcreg runs only when a node is
 * created, and a node does not even store its function id (snapshot finds it from the
 * key through funcreg). hotpath holds no reference to a code object, so a key is unique
 * only while its object lives: when a code object is freed, funcreg's co_extra free
 * function has every tree forget its key (hp_func_calltree_forget replaces the key in
 * each of its nodes, found through by_key/next_same, by the tagged function id), so a
 * new object at the same address never reaches the old one's nodes. The nodes stay.
 *
 * Lookup, without a hash table for the common case: a node's children form a list
 * (first_child, next_sibling) kept in most-recently-used order, so a loop calling the
 * same callee finds it first — in the node it is about to update anyway, so the lookup
 * adds no memory traffic. A node that reaches HP_FUNC_WIDE_AT children becomes "wide":
 * its children go into one open-addressing table per thread (16-byte slots keyed by
 * (parent, key)); first_child then only remembers the last child found (checked first).
 * Nodes live in fixed-size chunks allocated in call order that never move (no realloc
 * copy, no 2x peak while growing), so the stack holds node pointers. The live stack is
 * an array of frames. Nothing here allocates on the per-event path except when the
 * stack doubles.
 *
 * Invariants: node 0 is the root; a node's parent index is smaller than its own; the
 * tree never exceeds max_nodes: past that, new paths go to one "overflow" node under
 * the root (function HP_FUNC_TRUNCATED) and `truncated` is set; the overflow node never
 * has children. A node's key is either a live pointer (aligned: low bit 0) or
 * (function id << 1) | 1 — the root, the overflow node and forgotten nodes — which no
 * event key equals. Memory comes from malloc (the tool's own memory, invisible to
 * Python's allocator hooks). Each hp_func_thread is touched only by its own thread
 * while holding the GIL, and by enable/disable/snapshot and hp_func_calltree_forget (run
 * from a code object's dealloc in any thread), which also hold the GIL.
 * hp_func_calltree_forget only rewrites keys and removes slots: it never moves nodes or
 * reallocates an array, so a node held across a call into Python (the custom timer)
 * stays valid.
 */
#ifndef HP_CALLTREE_H
#define HP_CALLTREE_H

#include <stdint.h>
#include <stddef.h>

#include "common/table.h"

#define HP_FUNC_ROOT UINT32_MAX
#define HP_FUNC_TRUNCATED 0u /* function id 0 is reserved for the overflow node */

#define HP_FUNC_CHUNK_SHIFT 12   /* nodes per chunk: 4096 (192 KiB) */
#define HP_FUNC_WIDE 0x80000000u /* in first_child: the children are in the slot table */
#define HP_FUNC_WIDE_AT 8        /* a node's children past which lookups hash */

typedef struct {
    int64_t self_ticks;
    int64_t total_ticks; /* includes recursive re-entries below this node */
    uint64_t calls;
    uintptr_t key;         /* the event's pointer, or (function id << 1) | 1 (see above) */
    uint32_t first_child;  /* most recently found child (0 = none), | HP_FUNC_WIDE */
    uint32_t next_sibling; /* the parent's next child in most-recently-used order */
    uint32_t parent;
    uint32_t next_same; /* the previous node created for the same key, 0 = none */
} hp_func_node;         /* 48 bytes */

typedef struct {
    const void *key; /* NULL = empty */
    uint32_t parent;
    uint32_t node;
} hp_func_slot;

typedef struct {
    hp_func_node *node;
    int64_t t0;
    int64_t child_ticks; /* total ticks of calls made from this frame */
    uint32_t index;      /* node's index */
} hp_func_frame;

typedef struct hp_func_thread {
    hp_func_node **chunks; /* chunk c holds nodes c << HP_FUNC_CHUNK_SHIFT onwards */
    uint32_t n_nodes, cap_nodes, max_nodes;
    uint32_t n_chunks, cap_chunks;
    hp_func_slot *slots; /* the children of wide nodes */
    uint32_t slot_mask;  /* capacity - 1 (a power of two) */
    uint32_t n_slots_used;
    hp_ptrmap by_key; /* key → newest node for it (chained by next_same) */
    hp_func_frame *stack;
    uint32_t depth, cap_stack;
    uint32_t overflow_node; /* 0 until the tree is full */
    int truncated;
    int failed;          /* out of memory: this thread stops recording */
    unsigned long ident; /* threading.get_ident() */
    uint64_t serial;     /* the OS thread's number, unique for the process's life */
    unsigned long native_id;
    uint64_t session;            /* the profiler session that owns this state */
    struct hp_func_thread *next; /* the owning profiler's list */
    void *name;                  /* PyObject* (strong) or NULL; owned by the profiler */
} hp_func_thread;

/* Returns a new thread state, or NULL when out of memory. */
hp_func_thread *hp_func_calltree_new(uint32_t max_nodes);
void hp_func_calltree_free(hp_func_thread *t);

/* Cold: create the child of the innermost frame's node for `key`. Returns the node
 * index (the overflow node past the cap); 0 on out-of-memory, with t->failed set. */
uint32_t hp_func_calltree_add(hp_func_thread *t, const void *key);
/* Whether the tree is at its cap: every new path goes to the overflow node. */
static inline int hp_func_calltree_full(const hp_func_thread *t)
{
    return t->n_nodes >= t->max_nodes;
}
/* Cold: `key`, which named function `func`, no longer names anything (its code object
 * was freed): no lookup will find its nodes again. Never allocates, never fails. */
void hp_func_calltree_forget(hp_func_thread *t, const void *key, uint32_t func);
/* Grow the stack to hold at least one more frame. 0 / -1 (t->failed set). */
int hp_func_calltree_grow_stack(hp_func_thread *t);
/* Bytes the tree holds (nodes, child table, key map, stack), for the tests. */
size_t hp_func_calltree_bytes(const hp_func_thread *t);

static inline hp_func_node *hp_func_calltree_node(const hp_func_thread *t, uint32_t i)
{
    return &t->chunks[i >> HP_FUNC_CHUNK_SHIFT][i & ((1u << HP_FUNC_CHUNK_SHIFT) - 1)];
}

/* Whether a node's key is a tagged function id (the root, the overflow node, a
 * forgotten node) rather than a live key: then its function is key >> 1. */
static inline int hp_func_calltree_key_is_func(uintptr_t key)
{
    return (int)(key & 1);
}

/* Mixes both halves of the key fully into the low bits the table indexes with: the same
 * function is a child of thousands of parents in a deep program, so the parent must
 * change every index bit, not only the high ones (else those paths share few slots and
 * probe chains grow long). */
static inline uint32_t hp_func_calltree_slot_hash(uint32_t parent, const void *key)
{
    uint64_t h = ((uint64_t)(uintptr_t)key >> 3) * 0x9E3779B97F4A7C15ull +
        (uint64_t)parent * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 32;
    h ^= h >> 16;
    return (uint32_t)h;
}

/* The child of wide node `pi` for `key` from the slot table, or 0. */
static inline uint32_t hp_func_calltree_find_wide(hp_func_thread *t, hp_func_node *p, uint32_t pi,
                                                  const void *key)
{
    uint32_t h = hp_func_calltree_slot_hash(pi, key) & t->slot_mask;
    for (;;) {
        const hp_func_slot *s = &t->slots[h];
        if (s->key == key && s->parent == pi) {
            p->first_child = s->node | HP_FUNC_WIDE;
            return s->node;
        }
        if (!s->key)
            return 0;
        h = (h + 1) & t->slot_mask;
    }
}

/* The child of the innermost frame's node for `key` (its index in *index), or NULL when
 * the path is new. Once the tree is full, a new path finds the overflow node. */
static inline hp_func_node *hp_func_calltree_find(hp_func_thread *t, const void *key,
                                                  uint32_t *index)
{
    hp_func_node *p = t->depth ? t->stack[t->depth - 1].node : t->chunks[0];
    uint32_t c = p->first_child;
    if (c & HP_FUNC_WIDE) {
        hp_func_node *n = hp_func_calltree_node(t, c & ~HP_FUNC_WIDE);
        if (n->key == (uintptr_t)key) { /* the child found last */
            *index = c & ~HP_FUNC_WIDE;
            return n;
        }
        c = hp_func_calltree_find_wide(t, p, t->depth ? t->stack[t->depth - 1].index : 0, key);
        if (c) {
            *index = c;
            return hp_func_calltree_node(t, c);
        }
    } else {
        hp_func_node *prev = NULL;
        while (c) {
            hp_func_node *n = hp_func_calltree_node(t, c);
            if (n->key == (uintptr_t)key) {
                if (prev) { /* move to front */
                    prev->next_sibling = n->next_sibling;
                    n->next_sibling = p->first_child;
                    p->first_child = c;
                }
                *index = c;
                return n;
            }
            prev = n;
            c = n->next_sibling;
        }
    }
    if (!t->overflow_node)
        return NULL;
    *index = t->overflow_node;
    return hp_func_calltree_node(t, t->overflow_node);
}

/* Push a frame for node `n`, index `i`, at time `now`. */
static inline void hp_func_calltree_push(hp_func_thread *t, hp_func_node *n, uint32_t i,
                                         int64_t now)
{
    if (t->depth == t->cap_stack && hp_func_calltree_grow_stack(t) < 0)
        return;
    hp_func_frame *f = &t->stack[t->depth++];
    f->node = n;
    f->index = i;
    f->t0 = now;
    f->child_ticks = 0;
}

/* Leave the innermost frame at time `now`. */
static inline void hp_func_calltree_leave(hp_func_thread *t, int64_t now)
{
    if (t->depth == 0)
        return;
    hp_func_frame *f = &t->stack[--t->depth];
    int64_t tt = now - f->t0;
    hp_func_node *n = f->node;
    n->calls++;
    n->self_ticks += tt - f->child_ticks;
    /* Nested frames of the overflow node would count their time twice. */
    if (!(f->index == t->overflow_node && t->depth && t->stack[t->depth - 1].node == n))
        n->total_ticks += tt;
    if (t->depth)
        t->stack[t->depth - 1].child_ticks += tt;
}

/* Close every open frame at `now` (profiling stops with calls still running). */
void hp_func_calltree_flush(hp_func_thread *t, int64_t now);

#endif /* HP_CALLTREE_H */
