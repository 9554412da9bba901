/* memhooks.h — the allocator hooks: Python's three allocator domains, and the native
 * functions the preload shim (preload.h) routes here.
 *
 * memhooks.c is the whole per-allocation path, in one translation unit: each hook
 * forwards to the allocator under it, then — recording, not busy, not paused, and picked
 * by sampled mode — captures the thread's Python stack and records the block (stack
 * tree, live blocks, accounting: the static inline parts of memstacks.h, memblocks.h,
 * memaccount.h, memsample.h). Their only out-of-line calls are the cold ones: a table
 * growing, a new stack node, pending code objects.
 *
 * The functions below are the cold controls, called by the MemTracker type with the GIL.
 */
#ifndef HP_MEMHOOKS_H
#define HP_MEMHOOKS_H

#include "common/compat.h"

/* Wrap whatever allocator each Python domain has now (unless ours is on top). */
void hp_mem_hooks_install(void);

/* Unwrap where ours is still on top; elsewhere (someone wrapped us since) our hook stays
 * in the chain and just forwards. */
void hp_mem_hooks_uninstall(void);

/* Route the shim's functions to the native hooks. 1 done, 0 the shim is not loaded. */
int hp_mem_hooks_native_attach(void);

/* Route the shim's functions straight to libc again. 1 done, 0 the shim was never found. */
int hp_mem_hooks_native_detach(void);

/* Whether the preload shim is loaded in this process. */
int hp_mem_hooks_native_available(void);

#endif /* HP_MEMHOOKS_H */
