/* memhooks.c — the allocator hooks and what they record (see memhooks.h).
 *
 * Invariants:
 * - A hook entered with hp_mem_tls.busy set forwards and records nothing; otherwise it sets
 *   busy around its own work and the call it forwards, so an object is one block at the
 *   Python level and the allocations of the allocator under it (pymalloc's arenas,
 *   PyMem_RawMalloc's malloc) are not counted again by the native hooks.
 * - The hooks never take the GIL, never create Python objects, never raise. MEM and OBJ
 *   hooks run with the GIL; RAW and native ones may not (see record_alloc's `gil`).
 * - The stack is captured and hashed before the lock is taken; the lock is held only to
 *   intern it, insert the block and account.
 * - Native or not is decided by who called the allocator (memcaller.h), not by which
 *   allocator was called: each hook passes its own return address, which is in that
 *   caller (the shim passes its caller's; PyMem_* tail-call the domain hooks).
 * - Anonymous mmaps are reservations (memmaps.h): recorded in every mode, whole, and
 *   counted in the heap only as far as they are touched.
 */
#include "memhooks.h"
#include "memaccount.h"
#include "memblocks.h"
#include "memcaller.h"
#include "memmaps.h"
#include "memsample.h"
#include "memstacks.h"
#include "common/frames.h"
#include "_preload/preload.h"

#include <dlfcn.h>
#include <sys/mman.h>

enum {
    KIND_RAW = 0,
    KIND_MEM = 1,
    KIND_OBJ = 2,
    KIND_NATIVE = 3
};

/* ---- recording -------------------------------------------------------------------------- */

/* The frames of `ts`, innermost first, at most `max`; *truncated = 1 when there were more.
 * Reads only this thread's own frames, which no other thread changes. */
static int capture(PyThreadState *ts, hp_mem_frame *out, int max, int *truncated)
{
    if (!ts)
        return 0;
    _PyInterpreterFrame *f = hp_tstate_frame(ts);
    int n = 0;
    for (; f; f = hp_frame_previous(f)) {
        if (hp_frame_skipped(f))
            continue;
        if (n == max) {
            *truncated = 1;
            break;
        }
        out[n].code = hp_frame_code(f);
        out[n].lasti = hp_frame_lasti(f);
        n++;
    }
    return n;
}

/* Record a block of `n` bytes at `p` (sampled mode: one hp_mem_sample_skip() said to), asked
 * for by the code at `caller`. Called with hp_mem_tls.busy set, recording active. */
static void record_alloc(void *p, size_t n, int kind, const void *caller)
{
    uint64_t bytes = n;
    uint32_t count = 1;
    if (hp_mem_session.mode == HP_MEM_SAMPLED)
        hp_mem_sample_weigh(n, &bytes, &count);
    PyThreadState *ts;
    int gil;
    if (kind == KIND_MEM || kind == KIND_OBJ) {
        ts = hp_tstate_unchecked();
        gil = 1;
    } else {
        ts = PyGILState_GetThisThreadState();
        gil = -1;
    }
    hp_mem_frame fr[HP_MEM_MAX_FRAMES];
    int truncated = 0;
    int nf = capture(ts, fr, hp_mem_session.max_frames, &truncated);
    int native = hp_mem_caller_native(caller, kind == KIND_NATIVE);
    uint64_t h = hp_mem_stacks_hash(fr, nf, native, truncated);
    hp_mem_block b = {(uintptr_t)p, bytes, 0, count}, old;

    hp_mem_lock();
    if (!hp_mem_active()) {
        hp_mem_unlock();
        return;
    }
    if (gil == 1 && hp_mem_codes.pending)
        hp_mem_codes_process_pending();
    b.stack = hp_mem_stacks_intern(h, fr, nf, native, truncated, gil);
    int r = hp_mem_blocks_put(&b, &old);
    if (r < 0) {
        hp_mem_fail(HP_MEM_ERR_NOMEMORY);
    } else {
        if (r == 1)
            hp_mem_account_free(old.stack, old.bytes, old.count);
        else
            hp_mem_filter_add(b.addr);
        hp_mem_recent *e = hp_mem_recent_push(b.addr);
        hp_mem_account_alloc(b.stack, bytes, count);
        e->seq = hp_mem_totals.seq;
        hp_mem_totals.samples++;
    }
    hp_mem_unlock();
}

/* Record the anonymous mapping [p, p + n) made by the code at `caller` (memmaps.h). Called
 * with hp_mem_tls.busy set. */
static void record_map(void *p, size_t n, const void *caller)
{
    PyThreadState *ts = PyGILState_GetThisThreadState();
    hp_mem_frame fr[HP_MEM_MAX_FRAMES];
    int truncated = 0;
    int nf = capture(ts, fr, hp_mem_session.max_frames, &truncated);
    int native = hp_mem_caller_native(caller, 1);
    uint64_t h = hp_mem_stacks_hash(fr, nf, native, truncated);
    hp_mem_lock();
    if (hp_mem_active()) {
        uint32_t sid = hp_mem_stacks_intern(h, fr, nf, native, truncated, -1);
        if (hp_mem_maps_add((uintptr_t)p, n, sid) < 0)
            hp_mem_fail(HP_MEM_ERR_NOMEMORY);
        else
            hp_mem_totals.samples++;
    }
    hp_mem_unlock();
}

/* [p, p + n) is about to be unmapped: account what of it was recorded. hp_mem_tls.busy set. */
static void record_unmap(void *p, size_t n)
{
    hp_mem_lock();
    if (hp_mem_active() && hp_mem_maps_remove((uintptr_t)p, n) < 0)
        hp_mem_fail(HP_MEM_ERR_NOMEMORY);
    hp_mem_unlock();
}

/* Account the free of `p` if it is tracked. Called with hp_mem_tls.busy set. */
static void record_free(void *p)
{
    if (!hp_mem_blocks_maybe_tracked(p))
        return;
    hp_mem_lock();
    hp_mem_block b;
    if (hp_mem_active() && hp_mem_blocks_take((uintptr_t)p, &b)) {
        hp_mem_filter_remove(b.addr);
        hp_mem_account_free(b.stack, b.bytes, b.count);
    }
    hp_mem_unlock();
}

/* Take `p`'s block out of the table before a realloc may release it. 1 when tracked. */
static int realloc_take(void *p, hp_mem_block *b)
{
    if (!p || !hp_mem_blocks_maybe_tracked(p))
        return 0;
    hp_mem_lock();
    int found = hp_mem_active() && hp_mem_blocks_take((uintptr_t)p, b);
    hp_mem_unlock();
    return found;
}

/* After realloc: the old block is gone (moved = 1) or stays (the realloc failed). */
static void realloc_done(hp_mem_block *b, int moved)
{
    hp_mem_lock();
    if (hp_mem_active()) {
        if (moved) {
            hp_mem_filter_remove(b->addr);
            hp_mem_account_free(b->stack, b->bytes, b->count);
        } else {
            hp_mem_block old;
            if (hp_mem_blocks_put(b, &old) < 0)
                hp_mem_fail(HP_MEM_ERR_NOMEMORY);
        }
    } else if (moved) {
        hp_mem_filter_remove(b->addr);
    }
    hp_mem_unlock();
}

/* ---- Python's allocator domains --------------------------------------------------------- */

typedef struct {
    PyMemAllocatorEx orig; /* the allocator we wrap (set at install; GIL) */
    PyMemAllocatorEx hook;
    PyMemAllocatorDomain domain;
    int kind;
} hp_mem_domain;

static hp_mem_domain doms[3]; /* written by install (GIL), read-only by the hooks */

/* The domain hooks' return address is in the code that called PyMem_*() / PyObject_*()
 * (those tail-call the hook: memcaller.h). */
#define PY_CALLER __builtin_return_address(0)

static void *py_malloc(void *ctx, size_t n)
{
    hp_mem_domain *d = ctx;
    if (hp_mem_tls.busy)
        return d->orig.malloc(d->orig.ctx, n);
    hp_mem_tls.busy = 1;
    void *p = d->orig.malloc(d->orig.ctx, n);
    if (p && hp_mem_active() && !hp_mem_tls.paused && !hp_mem_sample_skip(n))
        record_alloc(p, n, d->kind, PY_CALLER);
    hp_mem_tls.busy = 0;
    return p;
}

static void *py_calloc(void *ctx, size_t nelem, size_t elsize)
{
    hp_mem_domain *d = ctx;
    if (hp_mem_tls.busy)
        return d->orig.calloc(d->orig.ctx, nelem, elsize);
    hp_mem_tls.busy = 1;
    void *p = d->orig.calloc(d->orig.ctx, nelem, elsize);
    if (p && hp_mem_active() && !hp_mem_tls.paused && !hp_mem_sample_skip(nelem * elsize))
        record_alloc(p, nelem * elsize, d->kind, PY_CALLER);
    hp_mem_tls.busy = 0;
    return p;
}

static void *py_realloc(void *ctx, void *ptr, size_t n)
{
    hp_mem_domain *d = ctx;
    if (hp_mem_tls.busy || !hp_mem_active())
        return d->orig.realloc(d->orig.ctx, ptr, n);
    hp_mem_tls.busy = 1;
    if (d->kind != KIND_RAW)
        hp_mem_codes_maybe_process_pending();
    hp_mem_block b;
    int had = realloc_take(ptr, &b);
    void *p = d->orig.realloc(d->orig.ctx, ptr, n);
    if (had)
        realloc_done(&b, p != NULL);
    if (p && hp_mem_active() && !hp_mem_tls.paused && !hp_mem_sample_skip(n))
        record_alloc(p, n, d->kind, PY_CALLER);
    hp_mem_tls.busy = 0;
    return p;
}

static void py_free(void *ctx, void *ptr)
{
    hp_mem_domain *d = ctx;
    if (!ptr || hp_mem_tls.busy || !hp_mem_active()) {
        d->orig.free(d->orig.ctx, ptr);
        return;
    }
    hp_mem_tls.busy = 1;
    if (d->kind != KIND_RAW)
        hp_mem_codes_maybe_process_pending(); /* before a code object's memory can go */
    if (hp_mem_blocks_maybe_tracked(ptr))
        record_free(ptr);
    d->orig.free(d->orig.ctx, ptr);
    hp_mem_tls.busy = 0;
}

static int hooks_ours(hp_mem_domain *d)
{
    PyMemAllocatorEx cur;
    PyMem_GetAllocator(d->domain, &cur);
    return cur.malloc == py_malloc && cur.ctx == d;
}

void hp_mem_hooks_install(void)
{
    static const PyMemAllocatorDomain order[3] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM,
                                                  PYMEM_DOMAIN_OBJ};
    for (int k = 0; k < 3; k++) {
        hp_mem_domain *d = &doms[k];
        d->domain = order[k];
        d->kind = k; /* KIND_RAW, KIND_MEM, KIND_OBJ */
        if (hooks_ours(d))
            continue;
        PyMem_GetAllocator(d->domain, &d->orig);
        d->hook = (PyMemAllocatorEx){d, py_malloc, py_calloc, py_realloc, py_free};
        PyMem_SetAllocator(d->domain, &d->hook);
    }
}

void hp_mem_hooks_uninstall(void)
{
    for (int k = 2; k >= 0; k--) {
        if (hooks_ours(&doms[k]))
            PyMem_SetAllocator(doms[k].domain, &doms[k].orig);
    }
}

/* ---- native allocations (the preload shim) ---------------------------------------------- */

/* Both written with the GIL before the hooks are attached, read-only by the hooks after. */
static const hp_alloc_funcs *real;     /* the shim's table of libc's functions */
static hp_preload_attach_fn attach_fn; /* NULL: the shim is not loaded (or not found) */

static hp_preload_attach_fn find_shim(void)
{
    if (!attach_fn) {
        void *sym = dlsym(RTLD_DEFAULT, HP_PRELOAD_ATTACH_SYMBOL);
        if (sym)
            *(void **)&attach_fn = sym;
    }
    return attach_fn;
}

static inline int nat_recording(void)
{
    return !hp_mem_tls.busy && hp_mem_active();
}

static inline void *nat_after_alloc(void *p, size_t n, const void *caller)
{
    if (p && nat_recording() && !hp_mem_tls.paused && !hp_mem_sample_skip(n)) {
        hp_mem_tls.busy = 1;
        record_alloc(p, n, KIND_NATIVE, caller);
        hp_mem_tls.busy = 0;
    }
    return p;
}

static void *nat_malloc(size_t n, const void *caller)
{
    return nat_after_alloc(real->malloc(n), n, caller);
}

static void *nat_calloc(size_t n, size_t size, const void *caller)
{
    return nat_after_alloc(real->calloc(n, size), n * size, caller);
}

static void *nat_memalign(size_t align, size_t n, const void *caller)
{
    return nat_after_alloc(real->memalign(align, n), n, caller);
}

static void *nat_aligned_alloc(size_t align, size_t n, const void *caller)
{
    return nat_after_alloc(real->aligned_alloc(align, n), n, caller);
}

static void *nat_valloc(size_t n, const void *caller)
{
    return nat_after_alloc(real->valloc(n), n, caller);
}

static void *nat_pvalloc(size_t n, const void *caller)
{
    return nat_after_alloc(real->pvalloc(n), n, caller);
}

static int nat_posix_memalign(void **out, size_t align, size_t n, const void *caller)
{
    int r = real->posix_memalign(out, align, n);
    if (r == 0)
        nat_after_alloc(*out, n, caller);
    return r;
}

static void nat_free(void *p)
{
    if (p && nat_recording() && hp_mem_blocks_maybe_tracked(p)) {
        hp_mem_tls.busy = 1;
        record_free(p);
        real->free(p);
        hp_mem_tls.busy = 0;
        return;
    }
    real->free(p);
}

static void *nat_realloc(void *p, size_t n, const void *caller)
{
    if (!nat_recording())
        return real->realloc(p, n);
    hp_mem_tls.busy = 1;
    hp_mem_block b;
    int had = realloc_take(p, &b);
    void *q = real->realloc(p, n);
    if (had)
        realloc_done(&b, q != NULL || n == 0); /* realloc(p, 0) frees p */
    if (q && hp_mem_active() && !hp_mem_tls.paused && !hp_mem_sample_skip(n))
        record_alloc(q, n, KIND_NATIVE, caller);
    hp_mem_tls.busy = 0;
    return q;
}

/* Anonymous mappings are recorded whole in every mode (not sampled: they are few and
 * large), as reservations; a file mapping is not the program's heap. */
static void *nat_mmap(void *addr, size_t n, int prot, int flags, int fd, off_t off,
                      const void *caller)
{
    void *p = real->mmap(addr, n, prot, flags, fd, off);
    if (p != MAP_FAILED && (flags & MAP_ANONYMOUS) && n && nat_recording() && !hp_mem_tls.paused) {
        hp_mem_tls.busy = 1;
        record_map(p, n, caller);
        hp_mem_tls.busy = 0;
    }
    return p;
}

/* The mapping is read and accounted before it goes, so its touched pages still count. */
static int nat_munmap(void *addr, size_t n)
{
    if (addr && n && nat_recording() && hp_mem_maps_any()) {
        hp_mem_tls.busy = 1;
        record_unmap(addr, n);
        int r = real->munmap(addr, n);
        hp_mem_tls.busy = 0;
        return r;
    }
    return real->munmap(addr, n);
}

static const hp_alloc_hooks nat_hooks = {
    HP_PRELOAD_ABI,    nat_malloc,   nat_calloc, nat_realloc, nat_free, nat_posix_memalign,
    nat_aligned_alloc, nat_memalign, nat_valloc, nat_pvalloc, nat_mmap, nat_munmap,
};

int hp_mem_hooks_native_attach(void)
{
    if (!find_shim())
        return 0;
    real = attach_fn(NULL); /* the real functions first, then the hooks */
    if (!real || real->abi != HP_PRELOAD_ABI)
        return 0; /* a shim of another hotpath version */
    attach_fn(&nat_hooks);
    return 1;
}

int hp_mem_hooks_native_detach(void)
{
    if (!attach_fn)
        return 0;
    attach_fn(NULL);
    return 1;
}

int hp_mem_hooks_native_available(void)
{
    return find_shim() != NULL;
}
