/* calltree.h — one thread's calling-context tree and its live stack.
 *
 * Every distinct stack path gets one node (calls, self ticks, total ticks). A child is
 * found from (parent node, key) where the key is the pointer the event already carries
 * — the PyCodeObject* of a Python function, the PyMethodDef* of a C function — so the
 * per-event path never consults the function table: funcreg runs only when a node is
 * created. hotpath holds no reference to a code object, so a key is unique only while
 * its object lives: when a code object is freed, funcreg's co_extra free function has
 * every tree forget its key (hp_func_calltree_forget drops the slots and caches that lead
 * to its nodes, found through by_key), so a new object at the same address never
 * reaches the old one's nodes. The nodes themselves stay, with their times.
 * Lookup: a one-entry cache on the parent (a loop calling the same callee hits it),
 * else one open-addressing table per thread whose 16-byte slots hold the key inline, so
 * a probe touches one cache line. The live stack is an array of frames pointing at
 * nodes. Nothing here allocates on the per-event path except when an array doubles.
 *
 * Invariants: node 0 is the root (func HP_FUNC_ROOT); a node's parent index is smaller
 * than its own; the tree never exceeds max_nodes: past that, new paths go to one
 * "overflow" node under the root (func HP_FUNC_TRUNCATED) and `truncated` is set.
 * Memory comes from malloc (the tool's own memory, invisible to Python's allocator hooks).
 * Each hp_func_thread is touched only by its own thread while holding the GIL, and by
 * enable/disable/snapshot and hp_func_calltree_forget (run from a code object's dealloc in
 * any thread), which also hold the GIL. hp_func_calltree_forget only clears slots and
 * caches: it never moves nodes or reallocates an array, so a node index held across a
 * call into Python (the custom timer) stays valid.
 */
#ifndef HP_CALLTREE_H
#define HP_CALLTREE_H

#include <stdint.h>
#include <stddef.h>

#include "common/table.h"

#define HP_FUNC_ROOT UINT32_MAX
#define HP_FUNC_TRUNCATED 0u /* function id 0 is reserved for the overflow node */

typedef struct {
    int64_t self_ticks;
    int64_t total_ticks; /* includes recursive re-entries below this node */
    uint64_t calls;
    uint32_t func; /* function id (funcreg) */
    uint32_t parent;
    const void *cache_key; /* one-entry cache: last child looked up from here */
    uint32_t cache_child;
    uint32_t next_same; /* the previous node created for the same key, 0 = none */
} hp_func_node;         /* 48 bytes */

typedef struct {
    const void *key; /* NULL = empty */
    uint32_t parent;
    uint32_t node;
} hp_func_slot;

typedef struct {
    uint32_t node;
    int64_t t0;
    int64_t child_ticks; /* total ticks of calls made from this frame */
} hp_func_frame;

typedef struct hp_func_thread {
    hp_func_node *nodes;
    uint32_t n_nodes, cap_nodes, max_nodes;
    hp_func_slot *slots; /* child table */
    uint32_t slot_mask;  /* capacity - 1 (a power of two) */
    uint32_t n_slots_used;
    hp_ptrmap by_key; /* key → newest node for it (chained by next_same) */
    hp_func_frame *stack;
    uint32_t depth, cap_stack;
    uint32_t overflow_node; /* 0 until first needed */
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

/* Cold: create the child of the innermost frame's node for `key`, with function id
 * `func`. Returns the node index (the overflow node past the cap); 0 on out-of-memory,
 * with t->failed set. */
uint32_t hp_func_calltree_add(hp_func_thread *t, const void *key, uint32_t func);
/* Whether the tree is at its cap: every new path goes to the overflow node. */
static inline int hp_func_calltree_full(const hp_func_thread *t)
{
    return t->n_nodes >= t->max_nodes;
}
/* Cold: `key` no longer names what it named (its code object was freed): no lookup
 * will find its nodes again. Never allocates, never fails. */
void hp_func_calltree_forget(hp_func_thread *t, const void *key);
/* Grow the stack to hold at least one more frame. 0 / -1 (t->failed set). */
int hp_func_calltree_grow_stack(hp_func_thread *t);

static inline uint32_t hp_func_calltree_parent(const hp_func_thread *t)
{
    return t->depth ? t->stack[t->depth - 1].node : 0;
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

/* The child of the innermost frame's node for `key`, or 0 when the path is new. */
static inline uint32_t hp_func_calltree_find(hp_func_thread *t, const void *key)
{
    uint32_t parent = hp_func_calltree_parent(t);
    hp_func_node *p = &t->nodes[parent];
    if (p->cache_key == key)
        return p->cache_child;
    if (parent && parent == t->overflow_node)
        return parent; /* inside the overflow node everything stays there */
    uint32_t h = hp_func_calltree_slot_hash(parent, key) & t->slot_mask;
    for (;;) {
        const hp_func_slot *s = &t->slots[h];
        if (s->key == key && s->parent == parent) {
            p->cache_key = key;
            p->cache_child = s->node;
            return s->node;
        }
        if (!s->key)
            return 0;
        h = (h + 1) & t->slot_mask;
    }
}

/* Push a frame for `node` at time `now`. */
static inline void hp_func_calltree_push(hp_func_thread *t, uint32_t node, int64_t now)
{
    if (t->depth == t->cap_stack && hp_func_calltree_grow_stack(t) < 0)
        return;
    hp_func_frame *f = &t->stack[t->depth++];
    f->node = node;
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
    hp_func_node *n = &t->nodes[f->node];
    n->calls++;
    n->self_ticks += tt - f->child_ticks;
    /* Nested frames of the overflow node would count their time twice. */
    if (!(f->node == t->overflow_node && t->depth && t->stack[t->depth - 1].node == f->node))
        n->total_ticks += tt;
    if (t->depth)
        t->stack[t->depth - 1].child_ticks += tt;
}

/* Function id of the innermost frame, or HP_FUNC_ROOT when the stack is empty. */
static inline uint32_t hp_func_calltree_top_func(const hp_func_thread *t)
{
    return t->depth ? t->nodes[t->stack[t->depth - 1].node].func : HP_FUNC_ROOT;
}

/* Close every open frame at `now` (profiling stops with calls still running). */
void hp_func_calltree_flush(hp_func_thread *t, int64_t now);

#endif /* HP_CALLTREE_H */
