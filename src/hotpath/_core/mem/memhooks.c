/* memhooks.c — the allocator hooks and what they record (see memhooks.h).
 *
 * Invariants:
 * - A hook entered with mt_tls.busy set forwards and records nothing; otherwise it sets
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

enum { KIND_RAW = 0, KIND_MEM = 1, KIND_OBJ = 2, KIND_NATIVE = 3 };

/* ---- recording -------------------------------------------------------------------------- */

/* The frames of `ts`, innermost first, at most `max`; *truncated = 1 when there were more.
 * Reads only this thread's own frames, which no other thread changes. */
static int capture(PyThreadState *ts, mt_frame *out, int max, int *truncated)
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

/* Record a block of `n` bytes at `p` (sampled mode: one mt_sample_skip() said to), asked
 * for by the code at `caller`. Called with mt_tls.busy set, recording active. */
static void record_alloc(void *p, size_t n, int kind, const void *caller)
{
    uint64_t bytes = n;
    uint32_t count = 1;
    if (mt_session.mode == MT_SAMPLED)
        mt_sample_weigh(n, &bytes, &count);
    PyThreadState *ts;
    int gil;
    if (kind == KIND_MEM || kind == KIND_OBJ) {
        ts = hp_tstate_unchecked();
        gil = 1;
    } else {
        ts = PyGILState_GetThisThreadState();
        gil = -1;
    }
    mt_frame fr[MT_MAX_FRAMES];
    int truncated = 0;
    int nf = capture(ts, fr, mt_session.max_frames, &truncated);
    int native = mt_caller_native(caller, kind == KIND_NATIVE);
    uint64_t h = mt_stacks_hash(fr, nf, native, truncated);
    mt_block b = {(uintptr_t)p, bytes, 0, count}, old;

    mt_lock();
    if (!mt_active()) {
        mt_unlock();
        return;
    }
    if (gil == 1 && mt_codes.pending)
        mt_codes_process_pending();
    b.stack = mt_stacks_intern(h, fr, nf, native, truncated, gil);
    int r = mt_blocks_put(&b, &old);
    if (r < 0) {
        mt_fail(MT_ERR_NOMEMORY);
    } else {
        if (r == 1)
            mt_account_free(old.stack, old.bytes, old.count);
        else
            mt_filter_add(b.addr);
        mt_recent *e = mt_recent_push(b.addr);
        mt_account_alloc(b.stack, bytes, count);
        e->seq = mt_totals.seq;
        mt_totals.samples++;
    }
    mt_unlock();
}

/* Record the anonymous mapping [p, p + n) made by the code at `caller` (memmaps.h). Called
 * with mt_tls.busy set. */
static void record_map(void *p, size_t n, const void *caller)
{
    PyThreadState *ts = PyGILState_GetThisThreadState();
    mt_frame fr[MT_MAX_FRAMES];
    int truncated = 0;
    int nf = capture(ts, fr, mt_session.max_frames, &truncated);
    int native = mt_caller_native(caller, 1);
    uint64_t h = mt_stacks_hash(fr, nf, native, truncated);
    mt_lock();
    if (mt_active()) {
        uint32_t sid = mt_stacks_intern(h, fr, nf, native, truncated, -1);
        if (mt_maps_add((uintptr_t)p, n, sid) < 0)
            mt_fail(MT_ERR_NOMEMORY);
        else
            mt_totals.samples++;
    }
    mt_unlock();
}

/* [p, p + n) is about to be unmapped: account what of it was recorded. mt_tls.busy set. */
static void record_unmap(void *p, size_t n)
{
    mt_lock();
    if (mt_active() && mt_maps_remove((uintptr_t)p, n) < 0)
        mt_fail(MT_ERR_NOMEMORY);
    mt_unlock();
}

/* Account the free of `p` if it is tracked. Called with mt_tls.busy set. */
static void record_free(void *p)
{
    if (!mt_blocks_maybe_tracked(p))
        return;
    mt_lock();
    mt_block b;
    if (mt_active() && mt_blocks_take((uintptr_t)p, &b)) {
        mt_filter_remove(b.addr);
        mt_account_free(b.stack, b.bytes, b.count);
    }
    mt_unlock();
}

/* Take `p`'s block out of the table before a realloc may release it. 1 when tracked. */
static int realloc_take(void *p, mt_block *b)
{
    if (!p || !mt_blocks_maybe_tracked(p))
        return 0;
    mt_lock();
    int found = mt_active() && mt_blocks_take((uintptr_t)p, b);
    mt_unlock();
    return found;
}

/* After realloc: the old block is gone (moved = 1) or stays (the realloc failed). */
static void realloc_done(mt_block *b, int moved)
{
    mt_lock();
    if (mt_active()) {
        if (moved) {
            mt_filter_remove(b->addr);
            mt_account_free(b->stack, b->bytes, b->count);
        } else {
            mt_block old;
            if (mt_blocks_put(b, &old) < 0)
                mt_fail(MT_ERR_NOMEMORY);
        }
    } else if (moved) {
        mt_filter_remove(b->addr);
    }
    mt_unlock();
}

/* ---- Python's allocator domains --------------------------------------------------------- */

typedef struct {
    PyMemAllocatorEx orig;       /* the allocator we wrap (set at install; GIL) */
    PyMemAllocatorEx hook;
    PyMemAllocatorDomain domain;
    int kind;
} mt_domain;

static mt_domain doms[3];        /* written by install (GIL), read-only by the hooks */

/* The domain hooks' return address is in the code that called PyMem_*() / PyObject_*()
 * (those tail-call the hook: memcaller.h). */
#define PY_CALLER __builtin_return_address(0)

static void *py_malloc(void *ctx, size_t n)
{
    mt_domain *d = ctx;
    if (mt_tls.busy)
        return d->orig.malloc(d->orig.ctx, n);
    mt_tls.busy = 1;
    void *p = d->orig.malloc(d->orig.ctx, n);
    if (p && mt_active() && !mt_tls.paused && !mt_sample_skip(n))
        record_alloc(p, n, d->kind, PY_CALLER);
    mt_tls.busy = 0;
    return p;
}

static void *py_calloc(void *ctx, size_t nelem, size_t elsize)
{
    mt_domain *d = ctx;
    if (mt_tls.busy)
        return d->orig.calloc(d->orig.ctx, nelem, elsize);
    mt_tls.busy = 1;
    void *p = d->orig.calloc(d->orig.ctx, nelem, elsize);
    if (p && mt_active() && !mt_tls.paused && !mt_sample_skip(nelem * elsize))
        record_alloc(p, nelem * elsize, d->kind, PY_CALLER);
    mt_tls.busy = 0;
    return p;
}

static void *py_realloc(void *ctx, void *ptr, size_t n)
{
    mt_domain *d = ctx;
    if (mt_tls.busy || !mt_active())
        return d->orig.realloc(d->orig.ctx, ptr, n);
    mt_tls.busy = 1;
    if (d->kind != KIND_RAW)
        mt_codes_maybe_process_pending();
    mt_block b;
    int had = realloc_take(ptr, &b);
    void *p = d->orig.realloc(d->orig.ctx, ptr, n);
    if (had)
        realloc_done(&b, p != NULL);
    if (p && mt_active() && !mt_tls.paused && !mt_sample_skip(n))
        record_alloc(p, n, d->kind, PY_CALLER);
    mt_tls.busy = 0;
    return p;
}

static void py_free(void *ctx, void *ptr)
{
    mt_domain *d = ctx;
    if (!ptr || mt_tls.busy || !mt_active()) {
        d->orig.free(d->orig.ctx, ptr);
        return;
    }
    mt_tls.busy = 1;
    if (d->kind != KIND_RAW)
        mt_codes_maybe_process_pending();      /* before a code object's memory can go */
    if (mt_blocks_maybe_tracked(ptr))
        record_free(ptr);
    d->orig.free(d->orig.ctx, ptr);
    mt_tls.busy = 0;
}

static int hooks_ours(mt_domain *d)
{
    PyMemAllocatorEx cur;
    PyMem_GetAllocator(d->domain, &cur);
    return cur.malloc == py_malloc && cur.ctx == d;
}

void mt_hooks_install(void)
{
    static const PyMemAllocatorDomain order[3] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM,
                                                  PYMEM_DOMAIN_OBJ};
    for (int k = 0; k < 3; k++) {
        mt_domain *d = &doms[k];
        d->domain = order[k];
        d->kind = k;             /* KIND_RAW, KIND_MEM, KIND_OBJ */
        if (hooks_ours(d))
            continue;
        PyMem_GetAllocator(d->domain, &d->orig);
        d->hook = (PyMemAllocatorEx){d, py_malloc, py_calloc, py_realloc, py_free};
        PyMem_SetAllocator(d->domain, &d->hook);
    }
}

void mt_hooks_uninstall(void)
{
    for (int k = 2; k >= 0; k--) {
        if (hooks_ours(&doms[k]))
            PyMem_SetAllocator(doms[k].domain, &doms[k].orig);
    }
}

/* ---- native allocations (the preload shim) ---------------------------------------------- */

/* Both written with the GIL before the hooks are attached, read-only by the hooks after. */
static const hp_alloc_funcs *real;           /* the shim's table of libc's functions */
static hp_preload_attach_fn attach_fn;       /* NULL: the shim is not loaded (or not found) */

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
    return !mt_tls.busy && mt_active();
}

static inline void *nat_after_alloc(void *p, size_t n, const void *caller)
{
    if (p && nat_recording() && !mt_tls.paused && !mt_sample_skip(n)) {
        mt_tls.busy = 1;
        record_alloc(p, n, KIND_NATIVE, caller);
        mt_tls.busy = 0;
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
    if (p && nat_recording() && mt_blocks_maybe_tracked(p)) {
        mt_tls.busy = 1;
        record_free(p);
        real->free(p);
        mt_tls.busy = 0;
        return;
    }
    real->free(p);
}

static void *nat_realloc(void *p, size_t n, const void *caller)
{
    if (!nat_recording())
        return real->realloc(p, n);
    mt_tls.busy = 1;
    mt_block b;
    int had = realloc_take(p, &b);
    void *q = real->realloc(p, n);
    if (had)
        realloc_done(&b, q != NULL || n == 0);   /* realloc(p, 0) frees p */
    if (q && mt_active() && !mt_tls.paused && !mt_sample_skip(n))
        record_alloc(q, n, KIND_NATIVE, caller);
    mt_tls.busy = 0;
    return q;
}

/* Anonymous mappings are recorded whole in every mode (not sampled: they are few and
 * large), as reservations; a file mapping is not the program's heap. */
static void *nat_mmap(void *addr, size_t n, int prot, int flags, int fd, off_t off,
                      const void *caller)
{
    void *p = real->mmap(addr, n, prot, flags, fd, off);
    if (p != MAP_FAILED && (flags & MAP_ANONYMOUS) && n && nat_recording() &&
        !mt_tls.paused) {
        mt_tls.busy = 1;
        record_map(p, n, caller);
        mt_tls.busy = 0;
    }
    return p;
}

/* The mapping is read and accounted before it goes, so its touched pages still count. */
static int nat_munmap(void *addr, size_t n)
{
    if (addr && n && nat_recording() && mt_maps_any()) {
        mt_tls.busy = 1;
        record_unmap(addr, n);
        int r = real->munmap(addr, n);
        mt_tls.busy = 0;
        return r;
    }
    return real->munmap(addr, n);
}

static const hp_alloc_hooks nat_hooks = {
    HP_PRELOAD_ABI, nat_malloc, nat_calloc, nat_realloc, nat_free, nat_posix_memalign,
    nat_aligned_alloc, nat_memalign, nat_valloc, nat_pvalloc, nat_mmap, nat_munmap,
};

int mt_hooks_native_attach(void)
{
    if (!find_shim())
        return 0;
    real = attach_fn(NULL);          /* the real functions first, then the hooks */
    if (!real || real->abi != HP_PRELOAD_ABI)
        return 0;                    /* a shim of another hotpath version */
    attach_fn(&nat_hooks);
    return 1;
}

int mt_hooks_native_detach(void)
{
    if (!attach_fn)
        return 0;
    attach_fn(NULL);
    return 1;
}

int mt_hooks_native_available(void)
{
    return find_shim() != NULL;
}
