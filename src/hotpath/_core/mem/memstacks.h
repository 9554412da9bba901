/* memstacks.h — the stack tree: every recorded Python stack interned as one node, and the
 * code objects the nodes point at.
 *
 * A captured stack (memhooks.c) is an array of frames, innermost first, each a code
 * object and an instruction index. Stacks are interned as a tree: a node is one frame
 * under its parent and stands for the path from a root down to it, so memory grows with
 * distinct call paths, not with their depth times their number. Every node is indexed by
 * the hash of its whole path, so the common case — a stack seen before — is one probe
 * (hp_mem_stacks_intern); only a new path walks down from the root, creating what is missing.
 *
 * Invariants:
 * - Nodes 0, 1, 2 have no frame: 0 is the overflow stack (allocations whose stack cannot
 *   be interned — tree at HP_MEM_MAX_STACKS, or out of memory — are counted there, so totals
 *   stay exact), 1 the root of every stack, 2 the root of stacks cut at max_frames.
 * - A native allocation's stack ends in a marker node (code NULL, lasti -1) under its
 *   innermost Python frame.
 * - Parents are created before their children (smaller ids).
 * - A node holds its code object by address. The code object is referenced (Py_INCREF)
 *   when first seen by a hook that holds the GIL; a hook without the GIL (RAW domain,
 *   native) marks it pending, and the next hook that holds the GIL — at the latest the
 *   OBJ free of the code object itself, which runs before its memory is released — takes
 *   the reference, or marks it dead when its count has reached zero. Dead code objects
 *   show as unknown frames.
 *
 * Everything here is protected by the lock (memstate.h), except hp_mem_codes.pending: an
 * atomic, read without it.
 */
#ifndef HP_MEMSTACKS_H
#define HP_MEMSTACKS_H

#include "memstate.h"

#define HP_MEM_MAX_FRAMES 256        /* hard cap on max_frames */
#define HP_MEM_MAX_STACKS (1u << 22) /* distinct stacks kept; more go to the overflow stack */

#define HP_MEM_NODE_OVERFLOW 0u
#define HP_MEM_NODE_ROOT 1u
#define HP_MEM_NODE_CUT 2u
#define HP_MEM_NODE_NONE UINT32_MAX

#define HP_MEM_SEED_ROOT 0x243F6A8885A308D3ull /* path hash of node 1 */
#define HP_MEM_SEED_CUT 0x13198A2E03707344ull  /* path hash of node 2 */

typedef struct {
    PyCodeObject *code;
    intptr_t lasti; /* instruction index (code units) */
} hp_mem_frame;     /* one captured frame */

typedef struct {
    uint64_t hash;   /* hash of the path from the root to this node */
    uint32_t parent; /* HP_MEM_NODE_NONE for nodes 0, 1, 2 */
    uint32_t unused;
    PyCodeObject *code; /* NULL for nodes 0-2 and native markers */
    intptr_t lasti;     /* -1 for native markers */
    uint64_t alloc_count, alloc_bytes, free_count, free_bytes;
    uint64_t peak_count, peak_bytes; /* live at the last peak; valid if saved_epoch ==
                                          hp_mem_totals.peak_epoch (memaccount.h) */
    uint64_t saved_epoch;
} hp_mem_stack; /* one node */

typedef struct {
    hp_mem_stack *nodes;
    uint32_t n, cap;
    uint32_t *index; /* node id + 1 by path hash, 0 = empty */
    size_t index_mask;
} hp_mem_stack_tree; /* (L) */

enum {
    HP_MEM_CODE_PENDING = 1,
    HP_MEM_CODE_HELD = 2,
    HP_MEM_CODE_DEAD = 3
};

typedef struct {
    PyCodeObject *code; /* NULL = empty slot */
    int state;          /* HP_MEM_CODE_* */
} hp_mem_code;

typedef struct {
    hp_mem_code *slots; /* (L) by address, linear probing, at most half full */
    size_t mask, used;  /* (L) */
    int pending;        /* atomic: some slot is HP_MEM_CODE_PENDING */
} hp_mem_code_table;

extern hp_mem_stack_tree hp_mem_stacks HP_INTERNAL;
extern hp_mem_code_table hp_mem_codes HP_INTERNAL;

/* ---- the per-allocation path ------------------------------------------------------------ */

static inline uint64_t hp_mem_stacks_hash_step(uint64_t h, const void *code, intptr_t lasti)
{
    h = (h ^ (uint64_t)(uintptr_t)code) * 0x9E3779B97F4A7C15ull;
    h = (h ^ (uint64_t)lasti) * 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 31);
}

/* The path hash of a captured stack (frames innermost first), from its root outwards.
 * Computed before taking the lock. */
static inline uint64_t hp_mem_stacks_hash(const hp_mem_frame *f, int n, int native, int truncated)
{
    uint64_t h = truncated ? HP_MEM_SEED_CUT : HP_MEM_SEED_ROOT;
    for (int i = n - 1; i >= 0; i--)
        h = hp_mem_stacks_hash_step(h, f[i].code, f[i].lasti);
    if (native)
        h = hp_mem_stacks_hash_step(h, NULL, -1);
    return h;
}

/* (L) Cold: the child of `parent` for frame (code, lasti) whose path hash is `h`, created
 * on first sight. HP_MEM_NODE_NONE when it cannot be (cap reached, out of memory). `gil`: 1
 * held, 0 not, -1 unknown. */
uint32_t hp_mem_stacks_child(uint32_t parent, uint64_t h, PyCodeObject *code, intptr_t lasti,
                             int gil);

/* (L) Whether node `id` is the stack (fr, n, native, truncated). */
static inline int hp_mem_stacks_matches(uint32_t id, const hp_mem_frame *fr, int n, int native,
                                        int truncated)
{
    const hp_mem_stack *s = &hp_mem_stacks.nodes[id];
    if (native) {
        if (s->code || s->lasti != -1)
            return 0;
        s = &hp_mem_stacks.nodes[s->parent];
    }
    for (int i = 0; i < n; i++) {
        if (s->code != fr[i].code || s->lasti != fr[i].lasti || s->parent == HP_MEM_NODE_NONE)
            return 0;
        s = &hp_mem_stacks.nodes[s->parent];
    }
    return s == &hp_mem_stacks.nodes[truncated ? HP_MEM_NODE_CUT : HP_MEM_NODE_ROOT];
}

/* (L) The node of the captured stack whose path hash is `h` (hp_mem_stacks_hash), interned on
 * first sight; HP_MEM_NODE_OVERFLOW when it cannot be. */
static inline uint32_t hp_mem_stacks_intern(uint64_t h, const hp_mem_frame *fr, int n, int native,
                                            int truncated, int gil)
{
    if (n == 0 && !native)
        return truncated ? HP_MEM_NODE_CUT : HP_MEM_NODE_ROOT;
    size_t i = (size_t)(h >> 20) & hp_mem_stacks.index_mask;
    for (;;) {
        uint32_t id = hp_mem_stacks.index[i];
        if (!id)
            break;
        if (hp_mem_stacks.nodes[id - 1].hash == h &&
            hp_mem_stacks_matches(id - 1, fr, n, native, truncated))
            return id - 1;
        i = (i + 1) & hp_mem_stacks.index_mask;
    }
    uint32_t node = truncated ? HP_MEM_NODE_CUT : HP_MEM_NODE_ROOT;
    uint64_t ph = truncated ? HP_MEM_SEED_CUT : HP_MEM_SEED_ROOT;
    for (int k = n - 1; k >= 0 && node != HP_MEM_NODE_NONE; k--) {
        ph = hp_mem_stacks_hash_step(ph, fr[k].code, fr[k].lasti);
        node = hp_mem_stacks_child(node, ph, fr[k].code, fr[k].lasti, gil);
    }
    if (native && node != HP_MEM_NODE_NONE) {
        ph = hp_mem_stacks_hash_step(ph, NULL, -1);
        node = hp_mem_stacks_child(node, ph, NULL, -1, gil);
    }
    return node == HP_MEM_NODE_NONE ? HP_MEM_NODE_OVERFLOW : node;
}

/* (L), GIL held: reference the pending code objects, or mark the dying ones dead. */
void hp_mem_codes_process_pending(void);

/* GIL held, lock not held: hp_mem_codes_process_pending() if anything is pending. */
static inline void hp_mem_codes_maybe_process_pending(void)
{
    if (__atomic_load_n(&hp_mem_codes.pending, __ATOMIC_RELAXED)) {
        hp_mem_lock();
        hp_mem_codes_process_pending();
        hp_mem_unlock();
    }
}

/* ---- session lifetime and snapshots (cold) ---------------------------------------------- */

/* (L) Fresh tables with nodes 0-2. 0 / -1 out of memory (no exception set; the caller
 * clears what was made). */
int hp_mem_stacks_init(void);

/* (L) Drop the tree and the code table; the table is handed over in *codes, for
 * hp_mem_codes_release() once the lock is released. */
void hp_mem_stacks_clear(hp_mem_code_table *codes);

/* GIL held, lock not held: release the references `codes` holds and free it. */
void hp_mem_codes_release(hp_mem_code_table *codes);

/* (L) Bytes the tree and the code table use. */
size_t hp_mem_stacks_bytes(void);

/* A copy of the tree taken under the lock, turned into Python objects after it. */
typedef struct {
    hp_mem_stack *nodes; /* code NULL where the code object is not held */
    uint32_t n;
    int peak_dirty; /* hp_mem_totals' at the copy */
    uint64_t peak_epoch;
} hp_mem_stacks_snap;

/* (L), GIL held: fill *c (free it with hp_mem_stacks_snap_free). 0 / -1 out of memory (no
 * exception set). */
int hp_mem_stacks_copy(hp_mem_stacks_snap *c);

/* GIL held, lock not held: [(parent, code or None, line, alloc_count, alloc_bytes,
 * free_count, free_bytes, peak_count, peak_bytes)] by node id; parent -1 for nodes 0-2,
 * line -1 for native markers. A new reference, or NULL with an exception set. */
PyObject *hp_mem_stacks_export(const hp_mem_stacks_snap *c);

/* GIL held, lock not held: the same nodes as columns, without a Python object per node:
 * (codes, parent, code, line, counters) — codes the distinct code objects (a list, in
 * order of first use); parent, code (index into codes, -1 for none) and line int32 bytes
 * per node, with hp_mem_stacks_export's values; counters int64 bytes, six columns one after
 * another (alloc_count, alloc_bytes, free_count, free_bytes, peak_count, peak_bytes). A
 * new reference, or NULL with an exception set. */
PyObject *hp_mem_stacks_export_columns(const hp_mem_stacks_snap *c);

void hp_mem_stacks_snap_free(hp_mem_stacks_snap *c);

#endif /* HP_MEMSTACKS_H */
