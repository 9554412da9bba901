/* memtrack.h — the memory tracker's capture: hotpath._core.MemTracker.
 *
 * What it sees: every allocation through Python's three allocator domains (RAW, MEM,
 * OBJ; hooked with PyMem_SetAllocator, wrapping whatever was installed), and — when the
 * preload shim (preload.h) is loaded — malloc, calloc, realloc, free, the aligned
 * allocators and anonymous mmap/munmap made by anything else in the process (C
 * extensions, NumPy). A block is counted once: while a hook forwards to the allocator
 * under it, the thread's `busy` flag hides the allocations that allocator makes itself
 * (pymalloc's arenas, PyMem_RawMalloc's malloc). A block is native when the code that asked
 * for it lies outside the interpreter (memcaller.h). An anonymous mapping is a reservation
 * that counts in the heap only as far as it is touched (memmaps.h).
 *
 * What it records, per allocation: the Python stack that was running (innermost first,
 * up to max_frames frames, each the code object and instruction offset; line numbers are
 * computed when a snapshot is taken), interned into a table of stacks. Per stack:
 * allocations and frees (count, bytes), and its live bytes at the peak. Per live block:
 * address → (bytes, count, stack) in an open-addressing table.
 *
 * Modes:
 *   exact    every block is recorded; tracker memory ∝ live blocks (≈ 24 B / 0.6 each)
 *            + distinct stacks.
 *   sampled  a per-thread countdown of bytes, redrawn from an exponential distribution
 *            of mean sample_bytes after each sample, picks the blocks to record; a block
 *            of n bytes is picked with probability q = 1 − exp(−n / sample_bytes) and
 *            stands for n / q bytes and 1 / q blocks (unbiased). Unpicked blocks cost a
 *            subtraction; their frees a probe of a 64 Ki-slot counting filter. Tracker
 *            memory ∝ distinct stacks + live bytes / sample_bytes.
 *
 * The peak: the largest total of live bytes, and each stack's live bytes at that moment,
 * kept in O(1) per event by epochs (memaccount.h).
 *
 * Memory over time: a background pthread samples RSS (/proc/self/statm), the tracked live
 * total and the untouched reserved bytes every `interval` seconds into a bounded buffer (halved, and the interval
 * doubled, when full).
 *
 * Concurrency: the tables are protected by one spinlock (RAW-domain and native hooks run
 * without the GIL); the hooks never take the GIL, never create Python objects, never
 * raise. A failure to grow a table sets `error`, stops recording, and is raised by the
 * next stop(). Fork: the child stops recording (pthread_atfork); the parent's data is
 * untouched. Only one MemTracker records at a time (the hooks are process-wide).
 *
 * Files, one concept each (prefix hp_mem_<concept>_; all symbols hidden):
 *   memtrack.[ch]     this overview; the MemTracker type: start/stop/clear, fork, snapshot
 *   memhooks.[ch]     the hooks (Python domains, the preload shim's native functions) and
 *                     what they record: the whole per-allocation path, one translation unit
 *   memstate.[ch]     the session, the totals, the spinlock, the thread-local flags, the
 *                     tool's memory
 *   memstacks.[ch]    the stack tree (interning by path hash) and the code objects it holds
 *   memblocks.[ch]    the live blocks (address table) and sampled mode's counting filter
 *   memaccount.[ch]   totals per stack and overall, and the peak (epochs)
 *   memmaps.[ch]      anonymous mappings: reserved, and counted as far as touched (mincore)
 *   memcaller.[ch]    native or not: is the code that asked outside the interpreter
 *   memsample.h       sampled mode's countdown and weights
 *   memforget.[ch]    forgetting what the interpreter allocates for hotpath's own hooks
 *   memtrace.[ch]     3.11: the C trace function of the memory line view
 *   memtimeline.[ch]  the RSS / tracked-heap timeline (on common/sampler.h's thread)
 *   common/frames.h   reading a thread's frames: the version shims over CPython internals
 * The per-allocation parts of each are static inline in its header.
 */
#ifndef HP_MEMTRACK_H
#define HP_MEMTRACK_H

#include "common/compat.h"

/* hp_mem_tracker_spec: common/module.h */

#endif /* HP_MEMTRACK_H */
