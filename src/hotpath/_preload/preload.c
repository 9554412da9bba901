/* preload.c — the preload shim: libc's allocation functions, routed to the memory tracker.
 *
 * Built as a shared library of its own (hotpath/_preload*.so, no Python in it) and loaded
 * with LD_PRELOAD by `hotpath run --memory`, so that its malloc/free/... are the ones every
 * object in the process binds to. See preload.h for the contract.
 *
 * Invariants:
 * - With no tracker attached, each function is one atomic load and a call to libc's.
 * - The real functions are resolved once, at load (constructor) or first use. dlsym may
 *   itself allocate while we resolve; those requests are served from a static bootstrap
 *   buffer, whose blocks are never freed or handed to the tracker.
 * - No locks, no thread-locals: the shim keeps no state beyond the two tables.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "preload.h"

#define HP_EXPORT __attribute__((visibility("default")))

static hp_alloc_funcs real;         /* written once by resolve() */
static const hp_alloc_hooks *hooks; /* the tracker's hooks, or NULL (atomic) */
static int resolving;               /* inside resolve(): serve from boot[] */

static _Alignas(64) char boot[1 << 16];
static size_t boot_used; /* atomic */

static void *boot_alloc(size_t n)
{
    n = (n + 63) & ~(size_t)63;
    size_t at = __atomic_fetch_add(&boot_used, n, __ATOMIC_RELAXED);
    if (at + n > sizeof boot)
        return NULL;
    return boot + at; /* static storage: already zeroed */
}

static inline int is_boot(const void *p)
{
    return (const char *)p >= boot && (const char *)p < boot + sizeof boot;
}

#define RESOLVE(name) (*(void **)&real.name = dlsym(RTLD_NEXT, #name))

static void resolve(void)
{
    if (real.free)
        return;
    resolving = 1;
    RESOLVE(malloc);
    RESOLVE(calloc);
    RESOLVE(realloc);
    RESOLVE(reallocarray);
    RESOLVE(posix_memalign);
    RESOLVE(aligned_alloc);
    RESOLVE(memalign);
    RESOLVE(valloc);
    RESOLVE(pvalloc);
    RESOLVE(mmap);
    RESOLVE(munmap);
    real.abi = HP_PRELOAD_ABI;
    RESOLVE(free); /* last: real.free marks "resolved" */
    resolving = 0;
}

__attribute__((constructor)) static void hp_preload_init(void)
{
    resolve();
}

/* The address the calling function returns to: in the code that asked for the memory.
 * Only frame 0's, which is always valid (no frame walking). */
#define CALLER __builtin_return_address(0)

static inline const hp_alloc_hooks *attached(void)
{
    return __atomic_load_n(&hooks, __ATOMIC_ACQUIRE);
}

HP_EXPORT const hp_alloc_funcs *hotpath_preload_attach(const hp_alloc_hooks *h)
{
    resolve();
    __atomic_store_n(&hooks, h, __ATOMIC_RELEASE);
    return &real;
}

HP_EXPORT void *malloc(size_t n)
{
    const hp_alloc_hooks *h = attached();
    if (h)
        return h->malloc(n, CALLER);
    if (__builtin_expect(!real.free, 0)) {
        if (resolving)
            return boot_alloc(n);
        resolve();
    }
    return real.malloc(n);
}

HP_EXPORT void *calloc(size_t n, size_t size)
{
    const hp_alloc_hooks *h = attached();
    if (h)
        return h->calloc(n, size, CALLER);
    if (__builtin_expect(!real.free, 0)) {
        if (resolving)
            return size && n > SIZE_MAX / size ? NULL : boot_alloc(n * size);
        resolve();
    }
    return real.calloc(n, size);
}

HP_EXPORT void free(void *p)
{
    if (!p || is_boot(p))
        return;
    const hp_alloc_hooks *h = attached();
    if (h) {
        h->free(p);
        return;
    }
    if (__builtin_expect(!real.free, 0))
        resolve();
    real.free(p);
}

/* A bootstrap block being resized: move it to real memory (its size is unknown, so copy
 * what can be read of the buffer). */
static void *boot_realloc(void *p, size_t n)
{
    void *q = malloc(n);
    if (q && p) {
        size_t avail = (size_t)(boot + sizeof boot - (char *)p);
        memcpy(q, p, n < avail ? n : avail);
    }
    return q;
}

HP_EXPORT void *realloc(void *p, size_t n)
{
    if (p && is_boot(p))
        return boot_realloc(p, n);
    const hp_alloc_hooks *h = attached();
    if (h)
        return h->realloc(p, n, CALLER);
    if (__builtin_expect(!real.free, 0))
        resolve();
    return real.realloc(p, n);
}

HP_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    if (p && is_boot(p))
        return boot_realloc(p, n * size);
    const hp_alloc_hooks *h = attached();
    if (h)
        return h->realloc(p, n * size, CALLER);
    if (__builtin_expect(!real.free, 0))
        resolve();
    return real.reallocarray ? real.reallocarray(p, n, size) : real.realloc(p, n * size);
}

HP_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    const hp_alloc_hooks *h = attached();
    if (h)
        return h->posix_memalign(out, align, n, CALLER);
    resolve();
    return real.posix_memalign(out, align, n);
}

HP_EXPORT void *aligned_alloc(size_t align, size_t n)
{
    const hp_alloc_hooks *h = attached();
    if (h)
        return h->aligned_alloc(align, n, CALLER);
    resolve();
    return real.aligned_alloc(align, n);
}

HP_EXPORT void *memalign(size_t align, size_t n)
{
    const hp_alloc_hooks *h = attached();
    if (h)
        return h->memalign(align, n, CALLER);
    resolve();
    return real.memalign(align, n);
}

HP_EXPORT void *valloc(size_t n)
{
    const hp_alloc_hooks *h = attached();
    if (h)
        return h->valloc(n, CALLER);
    resolve();
    return real.valloc(n);
}

HP_EXPORT void *pvalloc(size_t n)
{
    const hp_alloc_hooks *h = attached();
    if (h)
        return h->pvalloc(n, CALLER);
    resolve();
    return real.pvalloc(n);
}

static inline void *do_mmap(void *addr, size_t n, int prot, int flags, int fd, off_t off,
                            const void *caller)
{
    const hp_alloc_hooks *h = attached();
    if (h)
        return h->mmap(addr, n, prot, flags, fd, off, caller);
    resolve();
    return real.mmap(addr, n, prot, flags, fd, off);
}

HP_EXPORT void *mmap(void *addr, size_t n, int prot, int flags, int fd, off_t off)
{
    return do_mmap(addr, n, prot, flags, fd, off, CALLER);
}

HP_EXPORT void *mmap64(void *addr, size_t n, int prot, int flags, int fd, off64_t off)
{
    return do_mmap(addr, n, prot, flags, fd, (off_t)off, CALLER);
}

HP_EXPORT int munmap(void *addr, size_t n)
{
    const hp_alloc_hooks *h = attached();
    if (h)
        return h->munmap(addr, n);
    resolve();
    return real.munmap(addr, n);
}
