/* saferead.h — reading this process's memory that another thread may change or free at
 * any moment, without crashing.
 *
 * A sampler thread that looks at a running thread's frames (stackpeek.h) reads memory the
 * running thread owns: a frame may be popped, its data-stack chunk unmapped, a thread
 * state freed, between two reads. A plain load of such an address can fault; these reads
 * go through the kernel instead (process_vm_readv on our own pid, as py-spy does on
 * another process), which answers "bad address" instead of a SIGSEGV. What they return
 * may still be stale or torn: callers treat every value read as a hint to be checked, and
 * dereference a pointer read this way only through another safe read.
 *
 * Linux only; elsewhere (or where a seccomp policy forbids the call) hp_safe_read_works()
 * is 0 and every read fails, so callers fall back to what they did without it.
 */
#ifndef HP_SAFEREAD_H
#define HP_SAFEREAD_H

#include <stddef.h>

/* Copy `n` bytes at `src` to `dst`: 0, or -1 when any of it cannot be read (nothing is
 * promised about `dst` then). Needs no GIL; never faults; about a microsecond. */
int hp_safe_read(void *dst, const void *src, size_t n);

/* One piece of a gathered read: `len` bytes at `src` into `dst`. */
typedef struct {
    void *dst;
    const void *src;
    size_t len;
} hp_read_span;

/* Read `n` spans in one call, in order, close together in time (one kernel copy, not a
 * microsecond apart as separate reads are): returns how many leading spans were read
 * whole (a span that cannot be read stops the copy there). Never faults. */
int hp_safe_readv(const hp_read_span *spans, int n);

/* 1 when hp_safe_read works in this process (checked once, on a local variable). */
int hp_safe_read_works(void);

#endif /* HP_SAFEREAD_H */
