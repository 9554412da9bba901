/* memcaller.h — who asked for a block: the interpreter, or native code (a C extension).
 *
 * A block is native when the instruction that called the allocator lies outside the
 * interpreter's own machine code (the object holding PyMem_RawMalloc: libpython, or the
 * python executable when it is linked statically), whatever allocator it called. So
 * NumPy's arrays are native whether NumPy takes them from malloc (NumPy <= 2.4) or from
 * PyMem_RawMalloc (NumPy >= 2.5), and a list's items are not, though both may end in
 * malloc. The caller is a return address, never a stack walk:
 * - the preload shim passes its own return address, i.e. in the code that called
 *   malloc/calloc/realloc/mmap/... (preload.h);
 * - Python's domains are reached through PyMem_RawMalloc, PyMem_Malloc, PyObject_Malloc
 *   and their calloc/realloc, which tail-call the hook (a jump through the allocator
 *   table: checked on the 3.11-3.13 builds here), so the hook's own return address is in
 *   the code that called PyMem_*(). Where a wrapper does not tail-call, or another hook
 *   sits above ours (tracemalloc started later), that address is inside libpython and the
 *   block counts as the interpreter's: the test errs toward "not native".
 * Code outside the interpreter includes libc (so opendir's buffer, asked for by the
 * interpreter through libc, is native), the dynamic loader and the standard library's
 * extension modules built as shared objects.
 *
 * hp_mem_caller_init() finds the interpreter's executable segments once, with the GIL, before
 * the hooks are installed; the range is read-only while recording. Header only for the
 * per-allocation test: two compares.
 */
#ifndef HP_MEMCALLER_H
#define HP_MEMCALLER_H

#include "memstate.h"

typedef struct {
    uintptr_t lo, hi; /* the interpreter's code: [lo, hi); 0, 0 when not found */
} hp_mem_caller_range;

extern hp_mem_caller_range hp_mem_caller HP_INTERNAL;

/* GIL held, not recording: find the interpreter's code (once per process). */
void hp_mem_caller_init(void);

/* Whether code at `ra` asking for memory is native (outside the interpreter). When the
 * interpreter's code was not found, `fallback` (the old rule: the allocator API used). */
static inline int hp_mem_caller_native(const void *ra, int fallback)
{
    uintptr_t a = (uintptr_t)ra;
    if (!hp_mem_caller.hi)
        return fallback;
    return a && !(a >= hp_mem_caller.lo && a < hp_mem_caller.hi);
}

#endif /* HP_MEMCALLER_H */
