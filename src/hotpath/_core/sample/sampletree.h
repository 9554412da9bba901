/* sampletree.h — one thread's calling-context tree built from stack samples.
 *
 * Nodes live in parallel arrays; node 0 is the root. A node's child for a function is
 * found in one open-addressing table keyed by (parent, function) — one probe per frame
 * of a sample, no allocation once the path exists. Each sample adds 1 to `count` and its
 * weight (nanoseconds: wall or CPU time it stands for) to `total` of every node on its
 * path, and its weight to `self` of the innermost. Recursion needs no special case: a
 * path with a function twice has two nodes, and the model's recursion rules (pstats')
 * apply when the tree is read.
 *
 * The tree is capped at `max_nodes`: once full, a sample's remaining frames go to the
 * overflow function (index 0) under the deepest node that exists, and `truncated` says
 * so. Memory from malloc (the sampler's own; a memory tracker's Python-allocator hooks
 * do not see it).
 *
 * Invariant: parent[i] < i. Protected by the GIL (only the sampler's tick, which holds
 * it, and the owner's cold methods touch a tree).
 */
#ifndef HP_SAMPLETREE_H
#define HP_SAMPLETREE_H

#include <stddef.h>
#include <stdint.h>

#define HP_SAMPLE_ROOT UINT32_MAX /* the root's func and parent */
#define HP_SAMPLE_OVERFLOW 0u     /* the overflow pseudo-function's index */

typedef struct {
    uint32_t *func, *parent;
    uint64_t *count;
    int64_t *self, *total;
    size_t n, cap, max_nodes;
    uint64_t *keys; /* child table: (parent << 32 | func) + 1; 0 = empty */
    uint32_t *vals; /* node index for keys[i] */
    size_t mask;    /* table capacity - 1 */
    int truncated;
} hp_sample_tree;

/* A tree holding only its root. 0 / -1 (out of memory; the tree is empty, freeable). */
int hp_sample_tree_init(hp_sample_tree *t, size_t max_nodes);
void hp_sample_tree_free(hp_sample_tree *t);
/* Add one sample: `funcs` from the outermost frame (funcs[0]) to the innermost, weight
 * `w`; *leaf (if not NULL) is set to its innermost node. 0 / -1 (out of memory: the
 * sample is partly added; the tree stays valid). */
int hp_sample_tree_add(hp_sample_tree *t, const uint32_t *funcs, int n, int64_t w, uint32_t *leaf);
/* Add weight `w` to a sample already added, by its innermost node (the `self` of `leaf`,
 * the `total` of it and of every node above it): a sample whose weight is known only
 * later (the sampling mode weighs a sample by the time until the next one). */
void hp_sample_tree_weigh(hp_sample_tree *t, uint32_t leaf, int64_t w);
/* The tree as little-endian 32-byte records <u32 func, u32 parent, u64 count, i64 self,
 * i64 total> (the function profiler's snapshot layout), into `out` of n * 32 bytes. */
void hp_sample_tree_pack(const hp_sample_tree *t, unsigned char *out);

#endif /* HP_SAMPLETREE_H */
