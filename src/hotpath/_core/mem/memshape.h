/* memshape.h — the memory section from the tracker's tree, and the per-node sums the memory
 * model reads, over packed integer columns (no Python object per node or per stack).
 *
 * The section (docs/memory.md, version 2) keeps the stacks as a tree: node 0 is the empty
 * stack; every other node is one frame under its caller (parent < node), so a stack is a
 * node and its frames, innermost first, are that node's path up to node 0. A stack of the
 * section is (node, native) with counters.
 *
 * All of these are MemTracker static methods (METH_FASTCALL), run with the GIL and touch
 * no tracker state. Integer columns are int32 (indexes) or int64 (counters), native byte
 * order, passed as any contiguous buffer (bytes, array); each returns new references, or
 * NULL with an exception set (ValueError for columns of the wrong size or out of range).
 */
#ifndef HP_MEMSHAPE_H
#define HP_MEMSHAPE_H

#include "common/compat.h"

/* code_flags bits: what capture.memory.memory_data decided about each code object */
#define HP_MEM_SHAPE_ENTRY 1    /* the frame hotpath entered the program through */
#define HP_MEM_SHAPE_HERE 2     /* a file of hotpath's package */
#define HP_MEM_SHAPE_PREFIXED 4 /* cut from the outer end of a stack (hotpath, runpy, trim) */
#define HP_MEM_SHAPE_STDLIB 8   /* the standard library's */

/* shape(parent, code, line, counters, code_fid, code_flags, none_fid, has_entry): the
 * capture tree (snapshot_columns) with hotpath's frames cut and stacks merged, exactly
 * as capture.memory.memory_data documents. Returns (tree_parent, tree_frame, frames,
 * stack_node, stack_native, stack_truncated, stack_counters, node_stack, own_bytes,
 * own_count): frames (function id, line) int32 pairs, numbered in the order a walk of the
 * stacks, innermost frame first, meets them; stacks in the order of their first capture
 * node; node_stack the stack of each capture node (-1: dropped or empty). */
PyObject *hp_mem_shape(PyObject *mod, PyObject *const *args, Py_ssize_t nargs);

/* tree_nearest(parent, value) -> int32 bytes: per node, the value of the nearest node on
 * its path (itself first) whose value is >= 0, else -1. */
PyObject *hp_mem_tree_nearest(PyObject *mod, PyObject *const *args, Py_ssize_t nargs);

/* tree_inclusive(parent, key, nkeys, stack_node, weights, k) -> (sums, seen): per key,
 * the k weights (column-major int64, k per stack) of the stacks whose path has a node of
 * that key, each stack counted once per key; seen[key] = 1 when some stack has it. */
PyObject *hp_mem_tree_inclusive(PyObject *mod, PyObject *const *args, Py_ssize_t nargs);

/* tree_expand(parent, frame, stack_node) -> (flat, offsets): the frames of every stack,
 * innermost first, one after another (int32), and where each starts (int64, one more). */
PyObject *hp_mem_tree_expand(PyObject *mod, PyObject *const *args, Py_ssize_t nargs);

/* sum_by(keys, weights, k) -> (keys, sums): the weights (column-major, k per stack) summed
 * per key, keys in the order first seen; sums row-major, k per key. */
PyObject *hp_mem_sum_by(PyObject *mod, PyObject *const *args, Py_ssize_t nargs);

/* column_bounds(column) -> (min, max, bad) (METH_O): the least and greatest value of an
 * integer column (any buffer of format b, B, h, H, i, I, l, L, q or Q; None, None when
 * empty), and the first index i > 0 whose value is not in [0, i) — a tree's parent column
 * is valid when bad is -1 — else -1. The file format's checks use it: min() and max()
 * would make an int object per value. */
PyObject *hp_mem_column_bounds(PyObject *mod, PyObject *col);

#endif /* HP_MEMSHAPE_H */
