/* preload.h — the contract between the preload shim (preload.c, built as its own shared
 * library, hotpath/_preload*.so) and the memory tracker (_core/mem/memhooks.c).
 *
 * The shim defines malloc, calloc, realloc, reallocarray, free, posix_memalign,
 * aligned_alloc, memalign, valloc, pvalloc, mmap, mmap64 and munmap. When it is loaded
 * with LD_PRELOAD those definitions win over libc's for every object in the process, so
 * C extensions (NumPy, ctypes calls into libc) reach it. Each one forwards to the next
 * definition (libc's, found with dlsym(RTLD_NEXT)) unless a tracker is attached, in which
 * case it calls the tracker's hook of the same name instead, passing the address its own
 * caller will return to (the code that asked for the memory: memcaller.h); the hook calls
 * the real function through the table the shim hands back, and records.
 *
 * The tracker finds the shim with dlsym(RTLD_DEFAULT, HP_PRELOAD_ATTACH_SYMBOL); when
 * the symbol is absent the shim is not loaded and native memory is not tracked.
 */
#ifndef HP_PRELOAD_H
#define HP_PRELOAD_H

#include <stddef.h>
#include <sys/types.h>

#define HP_PRELOAD_ABI 2
#define HP_PRELOAD_ATTACH_SYMBOL "hotpath_preload_attach"

/* The real allocation functions, with libc's signatures (shim → tracker). */
typedef struct {
    int abi; /* HP_PRELOAD_ABI */
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*reallocarray)(void *, size_t, size_t); /* NULL when libc lacks it */
    void (*free)(void *);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    void *(*mmap)(void *, size_t, int, int, int, off_t);
    int (*munmap)(void *, size_t);
} hp_alloc_funcs;

/* The tracker's hooks (tracker → shim): libc's signatures plus `caller`, the return
 * address of the shim's function, i.e. in the code that called malloc/mmap/... (realloc
 * also serves reallocarray, after the shim checked n * size for overflow). */
typedef struct {
    int abi; /* HP_PRELOAD_ABI */
    void *(*malloc)(size_t, const void *caller);
    void *(*calloc)(size_t, size_t, const void *caller);
    void *(*realloc)(void *, size_t, const void *caller);
    void (*free)(void *);
    int (*posix_memalign)(void **, size_t, size_t, const void *caller);
    void *(*aligned_alloc)(size_t, size_t, const void *caller);
    void *(*memalign)(size_t, size_t, const void *caller);
    void *(*valloc)(size_t, const void *caller);
    void *(*pvalloc)(size_t, const void *caller);
    void *(*mmap)(void *, size_t, int, int, int, off_t, const void *caller);
    int (*munmap)(void *, size_t);
} hp_alloc_hooks;

/* hotpath_preload_attach(hooks): route the shim's functions to `hooks` (NULL: straight
 * to libc again) and return the table of real functions (its `abi` says which contract the
 * shim was built for: a tracker attaches only to a shim of its own ABI). Never fails. Attaching and
 * detaching are atomic pointer stores; a hook table must stay valid for the life of the
 * process (a thread may still be inside a hook after a detach). */
typedef const hp_alloc_funcs *(*hp_preload_attach_fn)(const hp_alloc_hooks *hooks);

#endif /* HP_PRELOAD_H */
