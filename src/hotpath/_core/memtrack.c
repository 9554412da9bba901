/* memtrack.c — memory tracking: who allocated what, what is still live, and the peak.
 * (The model, modes and bounds are described in memtrack.h.)
 *
 * Invariants:
 * - Hooks never create Python objects, never take the GIL, never raise. Every table is
 *   touched under `g_lock` only, and only after re-checking `g.active` under it, so a
 *   hook still running when recording stops never sees tables being replaced.
 * - `tls.busy` is set while a hook does its own work or forwards to the allocator below
 *   it; a hook entered while it is set forwards and records nothing. The tracker's own
 *   memory (raw_*) is taken with `busy` set, so the hooks never see it.
 * - A stack holds code objects by address. A code object is referenced (Py_INCREF) when
 *   first seen by a hook that holds the GIL; a hook without the GIL (RAW domain, native)
 *   marks it pending, and the next hook that holds the GIL — at the latest the OBJ free
 *   of the code object itself, which runs before its memory is released — takes the
 *   reference, or marks it dead when its count has reached zero. Dead code objects show
 *   as unknown frames.
 * - Stack 0 is the overflow stack: allocations whose stack could not be interned (table
 *   at its cap) are counted there, so totals stay exact.
 */
#include "memtrack.h"
#include "preload.h"

#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#undef Py_BUILD_CORE

#include <dlfcn.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if PY_VERSION_HEX >= 0x030D0000
#  define hp_tstate_unchecked PyThreadState_GetUnchecked
#else
#  define hp_tstate_unchecked _PyThreadState_UncheckedGet
#endif

#define MT_MAX_FRAMES 256          /* hard cap on max_frames */
#define MT_MAX_STACKS (1u << 22)   /* distinct stacks kept; more go to stack 0 */
#define MT_TIMELINE_CAP 8192       /* timeline points kept (halved when full) */
#define MT_FILTER_BITS 16

enum { MT_EXACT = 0, MT_SAMPLED = 1 };
enum { KIND_RAW = 0, KIND_MEM = 1, KIND_OBJ = 2, KIND_NATIVE = 3 };
enum { CODE_PENDING = 1, CODE_HELD = 2, CODE_DEAD = 3 };
enum { MT_ERR_NONE = 0, MT_ERR_NOMEMORY = 1 };

/* ---- thread-local state ------------------------------------------------------------ */

typedef struct {
    int busy;            /* inside the tracker or a forwarded call: record nothing */
    int paused;          /* allocations are not recorded (frees are): pause()/resume() */
    uint64_t session;    /* the session the sampling state below belongs to */
    int64_t countdown;   /* sampled mode: bytes until the next sample */
    uint64_t rng;        /* xorshift64* state */
} mt_tls;

static __thread mt_tls tls __attribute__((tls_model("initial-exec")));

/* ---- data -------------------------------------------------------------------------- */

typedef struct {
    PyCodeObject *code;
    intptr_t lasti;      /* instruction index (code units) */
} mt_frame;              /* one captured frame */

/* Stacks are interned as a tree: a node is one frame (code, lasti) under its parent, and
 * stands for the stack from a root down to it. Nodes 0, 1, 2 have no frame: 0 is the
 * overflow stack, 1 the root of every stack, 2 the root of stacks cut at max_frames. A
 * native allocation's stack ends in a marker node (code NULL, lasti -1) under its
 * innermost Python frame. Parents are created before their children (smaller ids). */
#define NODE_OVERFLOW 0u
#define NODE_ROOT 1u
#define NODE_CUT 2u
#define NODE_NONE UINT32_MAX

typedef struct {
    uint64_t hash;       /* hash of the path from the root to this node */
    uint32_t parent;     /* NODE_NONE for nodes 0, 1, 2 */
    uint32_t unused;
    PyCodeObject *code;  /* NULL for nodes 0-2 and native markers */
    intptr_t lasti;      /* -1 for native markers */
    uint64_t alloc_count, alloc_bytes, free_count, free_bytes;
    uint64_t peak_count, peak_bytes;   /* live at the last peak; valid if saved_epoch == g.peak_epoch */
    uint64_t saved_epoch;
} mt_stack;

typedef struct {
    uintptr_t addr;      /* 0 = empty slot */
    uint64_t bytes;      /* bytes it stands for (its size, or the sampled estimate) */
    uint32_t stack;
    uint32_t count;      /* blocks it stands for (1, or the sampled estimate) */
} mt_block;

typedef struct {
    PyCodeObject *code;  /* NULL = empty slot */
    int state;           /* CODE_* */
} mt_code;

typedef struct {
    double t;
    uint64_t rss, heap;
} mt_point;

static int g_lock;       /* the spinlock protecting everything in `g` marked (L) */

static struct {
    /* Set by start() while not recording; read-only while recording. */
    int mode, max_frames;
    double sample_bytes;
    uint64_t session;
    int native;                    /* native hooks attached */
    struct timespec t0;
    PyObject *owner;               /* the MemTracker whose data this is (borrowed) */
    /* Atomics. */
    int active;                    /* hooks record */
    int error;                     /* MT_ERR_* */
    int forked;                    /* this process is a fork child of a recording one */
    int pending;                   /* code objects wait for a reference */
    int64_t live_bytes;            /* (L) for writes; read racily by the timeline */
    /* (L) */
    mt_block *blocks;
    size_t blocks_mask, blocks_used;
    mt_stack *stacks;
    uint32_t n_stacks, cap_stacks;
    uint32_t *stack_index;         /* node id + 1 by path hash, 0 = empty */
    size_t stack_index_mask;
    mt_code *codes;
    size_t codes_mask, codes_used;
    uint16_t *filter;              /* sampled mode: filter_mem, else NULL */
    int64_t live_count, peak_bytes, peak_count;
    int peak_dirty;                /* live == peak, and no snapshot of it taken yet */
    uint64_t peak_epoch;
    double peak_time;
    uint64_t alloc_count, alloc_bytes, free_count, free_bytes, samples;
    mt_point *points;
    size_t n_points;
} g;

/* Sampled mode's counting filter: live sampled blocks per address hash, read without the
 * lock by the free hooks. Allocated once and never freed, so a hook still running after
 * a stop never reads freed memory. */
static uint16_t *filter_mem;

static struct {
    pthread_t thread;
    int running;                   /* GIL */
    int stop;                      /* protected by mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    double interval;               /* the timeline thread's own */
    int fd;                        /* /proc/self/statm, or -1 */
    long page;
} tl = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .fd = -1};

/* ---- the tracker's own memory and lock ---------------------------------------------- */

static void *raw_calloc(size_t n, size_t size)
{
    int b = tls.busy;
    tls.busy = 1;
    void *p = calloc(n, size);
    tls.busy = b;
    return p;
}

static void *raw_realloc(void *p, size_t n)
{
    int b = tls.busy;
    tls.busy = 1;
    void *q = realloc(p, n);
    tls.busy = b;
    return q;
}

static void raw_free(void *p)
{
    int b = tls.busy;
    tls.busy = 1;
    free(p);
    tls.busy = b;
}

static inline void lock(void)
{
    int spins = 0;
    while (__atomic_exchange_n(&g_lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&g_lock, __ATOMIC_RELAXED)) {
            if (++spins < 100) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
            } else {
                sched_yield();
            }
        }
    }
}

static inline void unlock(void)
{
    __atomic_store_n(&g_lock, 0, __ATOMIC_RELEASE);
}

static inline int is_active(void)
{
    return __atomic_load_n(&g.active, __ATOMIC_RELAXED);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)(ts.tv_sec - g.t0.tv_sec) + (double)(ts.tv_nsec - g.t0.tv_nsec) * 1e-9;
}

/* (L) Stop recording after a failure; raised by the next stop(). */
static void fail(int err)
{
    if (!g.error)
        g.error = err;
    __atomic_store_n(&g.active, 0, __ATOMIC_RELAXED);
}

/* ---- hashing ------------------------------------------------------------------------ */

static inline size_t ptr_slot(uintptr_t a, size_t mask)
{
    return (size_t)(((uint64_t)(a >> 4) * 0x9E3779B97F4A7C15ull) >> 29) & mask;
}

static inline unsigned filter_slot(uintptr_t a)
{
    return (unsigned)(((uint64_t)(a >> 4) * 0xC2B2AE3D27D4EB4Full) >> (64 - MT_FILTER_BITS));
}

#define SEED_ROOT 0x243F6A8885A308D3ull
#define SEED_CUT 0x13198A2E03707344ull

static inline uint64_t hash_step(uint64_t h, const void *code, intptr_t lasti)
{
    h = (h ^ (uint64_t)(uintptr_t)code) * 0x9E3779B97F4A7C15ull;
    h = (h ^ (uint64_t)lasti) * 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 31);
}

/* The path hash of a captured stack (frames innermost first), from its root outwards. */
static inline uint64_t stack_hash(const mt_frame *f, int n, int native, int truncated)
{
    uint64_t h = truncated ? SEED_CUT : SEED_ROOT;
    for (int i = n - 1; i >= 0; i--)
        h = hash_step(h, f[i].code, f[i].lasti);
    if (native)
        h = hash_step(h, NULL, -1);
    return h;
}

/* ---- the current Python stack ---------------------------------------------------------- */

static inline PyCodeObject *frame_code(_PyInterpreterFrame *f)
{
#if PY_VERSION_HEX >= 0x030D0000
    return _PyFrame_GetCode(f);
#else
    return f->f_code;
#endif
}

static inline int frame_skipped(_PyInterpreterFrame *f)
{
#if PY_VERSION_HEX >= 0x030C0000
    if (f->owner == FRAME_OWNED_BY_CSTACK)
        return 1;
#endif
    return _PyFrame_IsIncomplete(f);
}

/* The frames of `ts`, innermost first, at most `max`; *truncated = 1 when there were more.
 * Reads only this thread's own frames, which no other thread changes. */
static int capture(PyThreadState *ts, mt_frame *out, int max, int *truncated)
{
    if (!ts)
        return 0;
#if PY_VERSION_HEX >= 0x030D0000
    _PyInterpreterFrame *f = ts->current_frame;
#else
    _PyInterpreterFrame *f = ts->cframe ? ts->cframe->current_frame : NULL;
#endif
    int n = 0;
    for (; f; f = f->previous) {
        if (frame_skipped(f))
            continue;
        if (n == max) {
            *truncated = 1;
            break;
        }
        out[n].code = frame_code(f);
        out[n].lasti = _PyInterpreterFrame_LASTI(f);
        n++;
    }
    return n;
}

/* ---- code objects --------------------------------------------------------------------- */

static int codes_grow(void)
{
    size_t cap = g.codes ? 2 * (g.codes_mask + 1) : 256;
    mt_code *t = raw_calloc(cap, sizeof *t);
    if (!t)
        return -1;
    if (g.codes) {
        for (size_t i = 0; i <= g.codes_mask; i++) {
            if (!g.codes[i].code)
                continue;
            size_t j = ptr_slot((uintptr_t)g.codes[i].code, cap - 1);
            while (t[j].code)
                j = (j + 1) & (cap - 1);
            t[j] = g.codes[i];
        }
        raw_free(g.codes);
    }
    g.codes = t;
    g.codes_mask = cap - 1;
    return 0;
}

/* (L) Make sure `co` is kept alive (now, or by the next hook holding the GIL).
 * `gil`: 1 held, 0 not, -1 unknown (find out only if needed). 0 / -1 out of memory. */
static int code_note(PyCodeObject *co, int gil)
{
    if ((g.codes_used + 1) * 2 > (g.codes ? g.codes_mask + 1 : 0) && codes_grow() < 0)
        return -1;
    size_t i = ptr_slot((uintptr_t)co, g.codes_mask);
    while (g.codes[i].code) {
        if (g.codes[i].code == co)
            return 0;
        i = (i + 1) & g.codes_mask;
    }
    if (gil < 0) {
        PyThreadState *mine = PyGILState_GetThisThreadState();
        gil = mine && hp_tstate_unchecked() == mine;
    }
    g.codes[i].code = co;
    g.codes_used++;
    if (gil) {
        Py_INCREF(co);
        g.codes[i].state = CODE_HELD;
    } else {
        g.codes[i].state = CODE_PENDING;
        __atomic_store_n(&g.pending, 1, __ATOMIC_RELAXED);
    }
    return 0;
}

/* (L), GIL held: reference the pending code objects, or mark the dying ones dead. */
static void process_pending(void)
{
    if (!g.codes)
        return;
    for (size_t i = 0; i <= g.codes_mask; i++) {
        mt_code *c = &g.codes[i];
        if (c->code && c->state == CODE_PENDING) {
            if (Py_REFCNT(c->code) > 0) {
                Py_INCREF(c->code);
                c->state = CODE_HELD;
            } else {
                c->state = CODE_DEAD;
            }
        }
    }
    __atomic_store_n(&g.pending, 0, __ATOMIC_RELAXED);
}

static inline void maybe_process_pending(void)
{
    if (__atomic_load_n(&g.pending, __ATOMIC_RELAXED)) {
        lock();
        process_pending();
        unlock();
    }
}

/* (L) 1 when `co` is held (safe to use with the GIL). */
static int code_held(PyCodeObject *co)
{
    if (!g.codes)
        return 0;
    size_t i = ptr_slot((uintptr_t)co, g.codes_mask);
    while (g.codes[i].code) {
        if (g.codes[i].code == co)
            return g.codes[i].state == CODE_HELD;
        i = (i + 1) & g.codes_mask;
    }
    return 0;
}

/* ---- stacks -------------------------------------------------------------------------- */

static int stack_index_grow(void)
{
    size_t cap = g.stack_index ? 2 * (g.stack_index_mask + 1) : 1024;
    uint32_t *t = raw_calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (uint32_t id = NODE_CUT + 1; id < g.n_stacks; id++) {
        size_t j = (size_t)(g.stacks[id].hash >> 20) & (cap - 1);
        while (t[j])
            j = (j + 1) & (cap - 1);
        t[j] = id + 1;
    }
    raw_free(g.stack_index);
    g.stack_index = t;
    g.stack_index_mask = cap - 1;
    return 0;
}

/* (L) Append a node with no counts. Its id, or NODE_NONE when out of memory. */
static uint32_t stack_append(uint64_t h, uint32_t parent, PyCodeObject *code, intptr_t lasti)
{
    if (g.n_stacks == g.cap_stacks) {
        uint32_t cap = g.cap_stacks ? 2 * g.cap_stacks : 256;
        mt_stack *s = raw_realloc(g.stacks, (size_t)cap * sizeof *s);
        if (!s)
            return NODE_NONE;
        g.stacks = s;
        g.cap_stacks = cap;
    }
    mt_stack *s = &g.stacks[g.n_stacks];
    memset(s, 0, sizeof *s);
    s->hash = h;
    s->parent = parent;
    s->code = code;
    s->lasti = lasti;
    s->saved_epoch = g.peak_epoch;     /* it had nothing live at the last peak */
    return g.n_stacks++;
}

/* (L) Whether node `id` is the stack (fr, n, native, truncated). */
static int stack_matches(uint32_t id, const mt_frame *fr, int n, int native, int truncated)
{
    const mt_stack *s = &g.stacks[id];
    if (native) {
        if (s->code || s->lasti != -1)
            return 0;
        s = &g.stacks[s->parent];
    }
    for (int i = 0; i < n; i++) {
        if (s->code != fr[i].code || s->lasti != fr[i].lasti || s->parent == NODE_NONE)
            return 0;
        s = &g.stacks[s->parent];
    }
    return s == &g.stacks[truncated ? NODE_CUT : NODE_ROOT];
}

/* (L) The child of `parent` for frame (code, lasti) whose path hash is `h`; created on
 * first sight. NODE_NONE when it cannot be (cap reached, out of memory). */
static uint32_t stack_child(uint32_t parent, uint64_t h, PyCodeObject *code, intptr_t lasti,
                            int gil)
{
    size_t i = (size_t)(h >> 20) & g.stack_index_mask;
    for (;;) {
        uint32_t id = g.stack_index[i];
        if (!id)
            break;
        const mt_stack *s = &g.stacks[id - 1];
        if (s->hash == h && s->parent == parent && s->code == code && s->lasti == lasti)
            return id - 1;
        i = (i + 1) & g.stack_index_mask;
    }
    if (g.n_stacks >= MT_MAX_STACKS || (code && code_note(code, gil) < 0))
        return NODE_NONE;
    uint32_t id = stack_append(h, parent, code, lasti);
    if (id == NODE_NONE)
        return NODE_NONE;
    g.stack_index[i] = id + 1;
    if ((size_t)g.n_stacks * 2 > g.stack_index_mask + 1 && stack_index_grow() < 0)
        fail(MT_ERR_NOMEMORY);
    return id;
}

/* (L) The node of the captured stack, interned on first sight; NODE_OVERFLOW when it
 * cannot be. The common case is one probe of the index by the whole path's hash. */
static uint32_t stack_intern(uint64_t h, const mt_frame *fr, int n, int native, int truncated,
                             int gil)
{
    if (n == 0 && !native)
        return truncated ? NODE_CUT : NODE_ROOT;
    size_t i = (size_t)(h >> 20) & g.stack_index_mask;
    for (;;) {
        uint32_t id = g.stack_index[i];
        if (!id)
            break;
        if (g.stacks[id - 1].hash == h && stack_matches(id - 1, fr, n, native, truncated))
            return id - 1;
        i = (i + 1) & g.stack_index_mask;
    }
    uint32_t node = truncated ? NODE_CUT : NODE_ROOT;
    uint64_t ph = truncated ? SEED_CUT : SEED_ROOT;
    for (int k = n - 1; k >= 0 && node != NODE_NONE; k--) {
        ph = hash_step(ph, fr[k].code, fr[k].lasti);
        node = stack_child(node, ph, fr[k].code, fr[k].lasti, gil);
    }
    if (native && node != NODE_NONE) {
        ph = hash_step(ph, NULL, -1);
        node = stack_child(node, ph, NULL, -1, gil);
    }
    return node == NODE_NONE ? NODE_OVERFLOW : node;
}

/* ---- accounting and the peak ------------------------------------------------------------
 *
 * The peak is kept by epochs. `peak_dirty` means "the current state is a new high that no
 * snapshot holds yet"; the first decrease after it takes the snapshot by bumping
 * `peak_epoch` — O(1). A stack about to change whose `saved_epoch` is older than the
 * epoch has not changed since that snapshot, so its live bytes right now are its bytes
 * at the peak: it saves them (and the epoch) before changing. At export, a stack's bytes
 * at the peak are its saved ones when saved in the current epoch, else its live ones.
 */

static inline void stack_touch(mt_stack *s)
{
    if (s->saved_epoch != g.peak_epoch) {
        s->peak_bytes = s->alloc_bytes - s->free_bytes;
        s->peak_count = s->alloc_count - s->free_count;
        s->saved_epoch = g.peak_epoch;
    }
}

/* (L) */
static inline void account_alloc(uint32_t sid, uint64_t bytes, uint32_t count)
{
    mt_stack *s = &g.stacks[sid];
    stack_touch(s);
    s->alloc_count += count;
    s->alloc_bytes += bytes;
    g.alloc_count += count;
    g.alloc_bytes += bytes;
    g.live_count += count;
    int64_t live = g.live_bytes + (int64_t)bytes;
    __atomic_store_n(&g.live_bytes, live, __ATOMIC_RELAXED);
    if (live > g.peak_bytes) {
        g.peak_bytes = live;
        g.peak_count = g.live_count;
        g.peak_dirty = 1;
    }
}

/* (L) */
static inline void account_free(uint32_t sid, uint64_t bytes, uint32_t count)
{
    if (g.peak_dirty) {
        g.peak_epoch++;
        g.peak_dirty = 0;
        g.peak_time = now_seconds();
    }
    mt_stack *s = &g.stacks[sid];
    stack_touch(s);
    s->free_count += count;
    s->free_bytes += bytes;
    g.free_count += count;
    g.free_bytes += bytes;
    g.live_count -= count;
    __atomic_store_n(&g.live_bytes, g.live_bytes - (int64_t)bytes, __ATOMIC_RELAXED);
}

/* ---- live blocks: address → block, linear probing, backward-shift deletion ---------------- */

static int blocks_grow(void)
{
    size_t cap = g.blocks ? 2 * (g.blocks_mask + 1) : 4096;
    mt_block *t = raw_calloc(cap, sizeof *t);
    if (!t)
        return -1;
    if (g.blocks) {
        for (size_t i = 0; i <= g.blocks_mask; i++) {
            if (!g.blocks[i].addr)
                continue;
            size_t j = ptr_slot(g.blocks[i].addr, cap - 1);
            while (t[j].addr)
                j = (j + 1) & (cap - 1);
            t[j] = g.blocks[i];
        }
        raw_free(g.blocks);
    }
    g.blocks = t;
    g.blocks_mask = cap - 1;
    return 0;
}

/* (L) Insert `b`; when its address is present already (a free we never saw), the old
 * block is replaced and copied to *old. 1 replaced, 0 inserted, -1 out of memory. */
static int blocks_put(const mt_block *b, mt_block *old)
{
    if ((g.blocks_used + 1) * 5 > (g.blocks_mask + 1) * 3 && blocks_grow() < 0)
        return -1;
    size_t i = ptr_slot(b->addr, g.blocks_mask);
    while (g.blocks[i].addr) {
        if (g.blocks[i].addr == b->addr) {
            *old = g.blocks[i];
            g.blocks[i] = *b;
            return 1;
        }
        i = (i + 1) & g.blocks_mask;
    }
    g.blocks[i] = *b;
    g.blocks_used++;
    return 0;
}

/* (L) Remove the block at `addr` into *out. 1 found, 0 not tracked. */
static int blocks_take(uintptr_t addr, mt_block *out)
{
    if (!g.blocks_used)
        return 0;
    size_t mask = g.blocks_mask;
    size_t i = ptr_slot(addr, mask);
    for (;;) {
        if (!g.blocks[i].addr)
            return 0;
        if (g.blocks[i].addr == addr)
            break;
        i = (i + 1) & mask;
    }
    *out = g.blocks[i];
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!g.blocks[j].addr)
            break;
        size_t home = ptr_slot(g.blocks[j].addr, mask);
        /* Move j into the hole at i unless its home lies cyclically in (i, j]. */
        int stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            g.blocks[i] = g.blocks[j];
            i = j;
        }
    }
    g.blocks[i].addr = 0;
    g.blocks_used--;
    return 1;
}

/* ---- recording ------------------------------------------------------------------------------ */

static inline uint64_t rng_next(void)
{
    uint64_t x = tls.rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    tls.rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Bytes to the next sample point: exponential with mean sample_bytes. */
static int64_t draw(void)
{
    double u = (double)((rng_next() >> 11) + 1) * 0x1.0p-53;     /* (0, 1] */
    return (int64_t)(-log(u) * g.sample_bytes) + 1;
}

static void sampler_init(void)
{
    tls.session = g.session;
    tls.rng = (g.session * 0x9E3779B97F4A7C15ull) ^ (uint64_t)(uintptr_t)&tls ^ 0x5DEECE66Dull;
    if (!tls.rng)
        tls.rng = 1;
    tls.countdown = draw();
}

/* Sampled mode's fast path: 1 when this block is not sampled (the common case). */
static inline int sample_skip(size_t n)
{
    if (g.mode != MT_SAMPLED)
        return 0;
    if (__builtin_expect(tls.session != g.session, 0))
        sampler_init();
    return n == 0 || (tls.countdown -= (int64_t)n) > 0;
}

/* Record a block of `n` bytes at `p` (sampled mode: one sample_skip() said to). Called
 * with tls.busy set, recording active. */
static void record_alloc(void *p, size_t n, int kind)
{
    uint64_t bytes = n;
    uint32_t count = 1;
    if (g.mode == MT_SAMPLED) {
        tls.countdown = draw();
        double q = -expm1(-(double)n / g.sample_bytes);
        double c = 1.0 / q;
        bytes = (uint64_t)llround((double)n * c);
        count = c < 4e9 ? (uint32_t)llround(c) : UINT32_MAX;
    }
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
    int nf = capture(ts, fr, g.max_frames, &truncated);
    int native = kind == KIND_NATIVE;
    uint64_t h = stack_hash(fr, nf, native, truncated);
    mt_block b = {(uintptr_t)p, bytes, 0, count}, old;

    lock();
    if (!is_active()) {
        unlock();
        return;
    }
    if (gil == 1 && g.pending)
        process_pending();
    b.stack = stack_intern(h, fr, nf, native, truncated, gil);
    int r = blocks_put(&b, &old);
    if (r < 0) {
        fail(MT_ERR_NOMEMORY);
    } else {
        if (r == 1)
            account_free(old.stack, old.bytes, old.count);
        else if (g.filter)
            g.filter[filter_slot(b.addr)]++;
        account_alloc(b.stack, bytes, count);
        g.samples++;
    }
    unlock();
}

/* Sampled mode: 0 when `p` was certainly never sampled (the common case). */
static inline int maybe_tracked(void *p)
{
    return !g.filter || __atomic_load_n(&g.filter[filter_slot((uintptr_t)p)], __ATOMIC_RELAXED);
}

/* Account the free of `p` if it is tracked. Called with tls.busy set. */
static void record_free(void *p)
{
    if (!maybe_tracked(p))
        return;
    lock();
    mt_block b;
    if (is_active() && blocks_take((uintptr_t)p, &b)) {
        if (g.filter)
            g.filter[filter_slot(b.addr)]--;
        account_free(b.stack, b.bytes, b.count);
    }
    unlock();
}

/* Take `p`'s block out of the table before a realloc may release it. 1 when tracked. */
static int realloc_take(void *p, mt_block *b)
{
    if (!p || (g.filter && !__atomic_load_n(&g.filter[filter_slot((uintptr_t)p)],
                                            __ATOMIC_RELAXED)))
        return 0;
    lock();
    int found = is_active() && blocks_take((uintptr_t)p, b);
    unlock();
    return found;
}

/* After realloc: the old block is gone (moved = 1) or stays (the realloc failed). */
static void realloc_done(mt_block *b, int moved)
{
    lock();
    if (is_active()) {
        if (moved) {
            if (g.filter)
                g.filter[filter_slot(b->addr)]--;
            account_free(b->stack, b->bytes, b->count);
        } else {
            mt_block old;
            if (blocks_put(b, &old) < 0)
                fail(MT_ERR_NOMEMORY);
        }
    } else if (moved && g.filter) {
        g.filter[filter_slot(b->addr)]--;
    }
    unlock();
}

/* ---- Python's allocator domains ---------------------------------------------------------- */

typedef struct {
    PyMemAllocatorEx orig;       /* the allocator we wrap (set at install; GIL) */
    PyMemAllocatorEx hook;
    PyMemAllocatorDomain domain;
    int kind;
} mt_domain;

static mt_domain doms[3];

static void *py_malloc(void *ctx, size_t n)
{
    mt_domain *d = ctx;
    if (tls.busy)
        return d->orig.malloc(d->orig.ctx, n);
    tls.busy = 1;
    void *p = d->orig.malloc(d->orig.ctx, n);
    if (p && is_active() && !tls.paused && !sample_skip(n))
        record_alloc(p, n, d->kind);
    tls.busy = 0;
    return p;
}

static void *py_calloc(void *ctx, size_t nelem, size_t elsize)
{
    mt_domain *d = ctx;
    if (tls.busy)
        return d->orig.calloc(d->orig.ctx, nelem, elsize);
    tls.busy = 1;
    void *p = d->orig.calloc(d->orig.ctx, nelem, elsize);
    if (p && is_active() && !tls.paused && !sample_skip(nelem * elsize))
        record_alloc(p, nelem * elsize, d->kind);
    tls.busy = 0;
    return p;
}

static void *py_realloc(void *ctx, void *ptr, size_t n)
{
    mt_domain *d = ctx;
    if (tls.busy || !is_active())
        return d->orig.realloc(d->orig.ctx, ptr, n);
    tls.busy = 1;
    if (d->kind != KIND_RAW)
        maybe_process_pending();
    mt_block b;
    int had = realloc_take(ptr, &b);
    void *p = d->orig.realloc(d->orig.ctx, ptr, n);
    if (had)
        realloc_done(&b, p != NULL);
    if (p && is_active() && !tls.paused && !sample_skip(n))
        record_alloc(p, n, d->kind);
    tls.busy = 0;
    return p;
}

static void py_free(void *ctx, void *ptr)
{
    mt_domain *d = ctx;
    if (!ptr || tls.busy || !is_active()) {
        d->orig.free(d->orig.ctx, ptr);
        return;
    }
    tls.busy = 1;
    if (d->kind != KIND_RAW)
        maybe_process_pending();      /* before a code object's memory can go */
    if (maybe_tracked(ptr))
        record_free(ptr);
    d->orig.free(d->orig.ctx, ptr);
    tls.busy = 0;
}

static int hooks_ours(mt_domain *d)
{
    PyMemAllocatorEx cur;
    PyMem_GetAllocator(d->domain, &cur);
    return cur.malloc == py_malloc && cur.ctx == d;
}

/* GIL held. Wrap whatever allocator each domain has now (unless ours is on top). */
static void hooks_install(void)
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

/* GIL held. Unwrap where ours is still on top; elsewhere (someone wrapped us since) our
 * hook stays in the chain and just forwards. */
static void hooks_uninstall(void)
{
    for (int k = 2; k >= 0; k--) {
        if (hooks_ours(&doms[k]))
            PyMem_SetAllocator(doms[k].domain, &doms[k].orig);
    }
}

/* ---- native allocations (the preload shim) ---------------------------------------------------- */

static const hp_alloc_funcs *real;           /* the shim's table of libc's functions */
static hp_preload_attach_fn attach_fn;       /* NULL: the shim is not loaded */

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
    return !tls.busy && is_active();
}

static inline void *nat_after_alloc(void *p, size_t n)
{
    if (p && nat_recording() && !tls.paused && !sample_skip(n)) {
        tls.busy = 1;
        record_alloc(p, n, KIND_NATIVE);
        tls.busy = 0;
    }
    return p;
}

static void *nat_malloc(size_t n)
{
    return nat_after_alloc(real->malloc(n), n);
}

static void *nat_calloc(size_t n, size_t size)
{
    return nat_after_alloc(real->calloc(n, size), n * size);
}

static void *nat_memalign(size_t align, size_t n)
{
    return nat_after_alloc(real->memalign(align, n), n);
}

static void *nat_aligned_alloc(size_t align, size_t n)
{
    return nat_after_alloc(real->aligned_alloc(align, n), n);
}

static void *nat_valloc(size_t n)
{
    return nat_after_alloc(real->valloc(n), n);
}

static void *nat_pvalloc(size_t n)
{
    return nat_after_alloc(real->pvalloc(n), n);
}

static int nat_posix_memalign(void **out, size_t align, size_t n)
{
    int r = real->posix_memalign(out, align, n);
    if (r == 0)
        nat_after_alloc(*out, n);
    return r;
}

static void nat_free(void *p)
{
    if (p && nat_recording() && maybe_tracked(p)) {
        tls.busy = 1;
        record_free(p);
        real->free(p);
        tls.busy = 0;
        return;
    }
    real->free(p);
}

static void *nat_realloc(void *p, size_t n)
{
    if (!nat_recording())
        return real->realloc(p, n);
    tls.busy = 1;
    mt_block b;
    int had = realloc_take(p, &b);
    void *q = real->realloc(p, n);
    if (had)
        realloc_done(&b, q != NULL || n == 0);   /* realloc(p, 0) frees p */
    if (q && is_active() && !tls.paused && !sample_skip(n))
        record_alloc(q, n, KIND_NATIVE);
    tls.busy = 0;
    return q;
}

static void *nat_mmap(void *addr, size_t n, int prot, int flags, int fd, off_t off)
{
    void *p = real->mmap(addr, n, prot, flags, fd, off);
    if (p != MAP_FAILED && (flags & MAP_ANONYMOUS))
        nat_after_alloc(p, n);
    return p;
}

static int nat_munmap(void *addr, size_t n)
{
    if (addr && nat_recording()) {
        tls.busy = 1;
        record_free(addr);           /* a partial unmap counts as the whole mapping */
        int r = real->munmap(addr, n);
        tls.busy = 0;
        return r;
    }
    return real->munmap(addr, n);
}

static const hp_alloc_funcs nat_hooks = {
    HP_PRELOAD_ABI, nat_malloc, nat_calloc, nat_realloc, NULL, nat_free, nat_posix_memalign,
    nat_aligned_alloc, nat_memalign, nat_valloc, nat_pvalloc, nat_mmap, nat_munmap,
};

/* ---- memory over time ------------------------------------------------------------------------- */

static uint64_t read_rss(void)
{
    char buf[128];
    if (tl.fd < 0)
        return 0;
    ssize_t n = pread(tl.fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *s = buf;
    while (*s && *s != ' ')               /* skip the first field (size) */
        s++;
    uint64_t pages = 0;
    while (*s == ' ')
        s++;
    while (*s >= '0' && *s <= '9')
        pages = pages * 10 + (uint64_t)(*s++ - '0');
    return pages * (uint64_t)tl.page;
}

/* (L) Append a point; when full, keep every other one. Returns 1 when halved. */
static int timeline_add(double t, uint64_t rss, uint64_t heap)
{
    int halved = 0;
    if (!g.points)
        return 0;
    if (g.n_points == MT_TIMELINE_CAP) {
        for (size_t i = 0; i < MT_TIMELINE_CAP / 2; i++)
            g.points[i] = g.points[2 * i];
        g.n_points = MT_TIMELINE_CAP / 2;
        halved = 1;
    }
    g.points[g.n_points++] = (mt_point){t, rss, heap};
    return halved;
}

static void timeline_sample(void)
{
    uint64_t rss = read_rss();
    double t = now_seconds();
    lock();
    int64_t heap = __atomic_load_n(&g.live_bytes, __ATOMIC_RELAXED);
    int halved = timeline_add(t, rss, heap > 0 ? (uint64_t)heap : 0);
    unlock();
    if (halved)
        tl.interval *= 2;
}

static void *timeline_main(void *arg)
{
    tls.busy = 1;                          /* nothing this thread does is the program's */
    pthread_mutex_lock(&tl.mu);
    while (!tl.stop) {
        pthread_mutex_unlock(&tl.mu);
        timeline_sample();
        pthread_mutex_lock(&tl.mu);
        if (tl.stop)
            break;
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        double s = tl.interval;
        dl.tv_sec += (time_t)s;
        dl.tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&tl.cv, &tl.mu, &dl);
    }
    pthread_mutex_unlock(&tl.mu);
    return NULL;
}

/* GIL held. 0, or -1 when the thread could not start (the timeline stays off). */
static int timeline_start(double interval)
{
    tl.page = sysconf(_SC_PAGESIZE);
    if (tl.fd < 0)
        tl.fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    tl.interval = interval;
    tl.stop = 0;
    timeline_sample();
    if (interval <= 0)
        return 0;
    if (pthread_create(&tl.thread, NULL, timeline_main, NULL) != 0)
        return -1;
    tl.running = 1;
    return 0;
}

/* GIL held (released while joining). */
static void timeline_stop(void)
{
    if (tl.running) {
        pthread_mutex_lock(&tl.mu);
        tl.stop = 1;
        pthread_cond_signal(&tl.cv);
        pthread_mutex_unlock(&tl.mu);
        Py_BEGIN_ALLOW_THREADS
        pthread_join(tl.thread, NULL);
        Py_END_ALLOW_THREADS
        tl.running = 0;
    }
    timeline_sample();
}

/* ---- fork ------------------------------------------------------------------------------------------ */

static void atfork_prepare(void)
{
    tls.busy++;
    lock();
}

static void atfork_parent(void)
{
    unlock();
    tls.busy--;
}

/* The child stops recording: the tables are its own copy, the parent's stay intact. The
 * timeline thread does not exist in the child. */
static void atfork_child(void)
{
    if (__atomic_load_n(&g.active, __ATOMIC_RELAXED))
        g.forked = 1;
    __atomic_store_n(&g.active, 0, __ATOMIC_RELAXED);
    tl.running = 0;
    pthread_mutex_init(&tl.mu, NULL);
    pthread_cond_init(&tl.cv, NULL);
    g_lock = 0;
    tls.busy--;
}

/* ---- session lifetime ------------------------------------------------------------------------------- */

/* GIL held, not recording. Free the tables; release the code objects. */
static void data_clear(void)
{
    lock();
    mt_code *codes = g.codes;
    size_t ncodes = g.codes ? g.codes_mask + 1 : 0;
    raw_free(g.blocks);
    raw_free(g.stacks);
    raw_free(g.stack_index);
    raw_free(g.points);
    g.blocks = NULL;
    g.blocks_mask = g.blocks_used = 0;
    g.stacks = NULL;
    g.n_stacks = g.cap_stacks = 0;
    g.stack_index = NULL;
    g.stack_index_mask = 0;
    g.codes = NULL;
    g.codes_mask = g.codes_used = 0;
    g.filter = NULL;
    g.points = NULL;
    g.n_points = 0;
    g.live_count = g.peak_bytes = g.peak_count = 0;
    __atomic_store_n(&g.live_bytes, 0, __ATOMIC_RELAXED);
    g.peak_dirty = 0;
    g.peak_epoch = 1;
    g.peak_time = 0;
    g.alloc_count = g.alloc_bytes = g.free_count = g.free_bytes = g.samples = 0;
    g.pending = 0;
    g.error = 0;
    g.forked = 0;
    g.owner = NULL;
    unlock();
    for (size_t i = 0; i < ncodes; i++)
        if (codes[i].code && codes[i].state == CODE_HELD)
            Py_DECREF(codes[i].code);
    raw_free(codes);
}

/* GIL held, not recording: fresh tables. 0 / -1 with MemoryError set. */
static int data_init(int sampled)
{
    data_clear();
    lock();
    int ok = blocks_grow() == 0 && stack_index_grow() == 0 && codes_grow() == 0 &&
             (g.points = raw_calloc(MT_TIMELINE_CAP, sizeof *g.points)) != NULL &&
             (!sampled || filter_mem ||
              (filter_mem = raw_calloc((size_t)1 << MT_FILTER_BITS, sizeof *filter_mem))) &&
             stack_append(0, NODE_NONE, NULL, 0) == NODE_OVERFLOW &&
             stack_append(SEED_ROOT, NODE_NONE, NULL, 0) == NODE_ROOT &&
             stack_append(SEED_CUT, NODE_NONE, NULL, 0) == NODE_CUT;
    if (ok && sampled) {
        memset(filter_mem, 0, ((size_t)1 << MT_FILTER_BITS) * sizeof *filter_mem);
        g.filter = filter_mem;
    }
    unlock();
    if (!ok) {
        data_clear();
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static size_t tracker_bytes(void)
{
    return (g.blocks ? (g.blocks_mask + 1) * sizeof(mt_block) : 0) +
           (size_t)g.cap_stacks * sizeof(mt_stack) +
           (g.stack_index ? (g.stack_index_mask + 1) * sizeof(uint32_t) : 0) +
           (g.codes ? (g.codes_mask + 1) * sizeof(mt_code) : 0) +
           (g.filter ? ((size_t)1 << MT_FILTER_BITS) * sizeof(uint16_t) : 0) +
           (g.points ? MT_TIMELINE_CAP * sizeof(mt_point) : 0);
}

/* ---- the MemTracker type ------------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
} hp_memtracker;

static int atfork_registered = 0;       /* GIL */

static PyObject *mt_start(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"mode", "sample_bytes", "max_frames", "interval", "native", NULL};
    const char *mode = "exact";
    double sample_bytes = 16384.0, interval = 0.01;
    int max_frames = 64, native = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|sdidp", kwlist, &mode, &sample_bytes,
                                     &max_frames, &interval, &native))
        return NULL;
    int m;
    if (strcmp(mode, "exact") == 0)
        m = MT_EXACT;
    else if (strcmp(mode, "sampled") == 0)
        m = MT_SAMPLED;
    else {
        PyErr_Format(PyExc_ValueError, "mode must be 'exact' or 'sampled', not '%s'", mode);
        return NULL;
    }
    if (!(sample_bytes >= 1.0) || max_frames < 1 || max_frames > MT_MAX_FRAMES ||
        !(interval >= 0.0)) {
        PyErr_Format(PyExc_ValueError, "need sample_bytes >= 1, 1 <= max_frames <= %d, "
                     "interval >= 0", MT_MAX_FRAMES);
        return NULL;
    }
    if (is_active()) {
        PyErr_SetString(PyExc_RuntimeError,
                        "hotpath: another memory tracker is recording in this process");
        return NULL;
    }
    if (!atfork_registered) {
        if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child) != 0) {
            PyErr_SetString(PyExc_RuntimeError, "hotpath: pthread_atfork failed");
            return NULL;
        }
        atfork_registered = 1;
    }
    if (data_init(m == MT_SAMPLED) < 0)
        return NULL;
    g.mode = m;
    g.sample_bytes = sample_bytes;
    g.max_frames = max_frames;
    g.session++;
    g.owner = self;
    clock_gettime(CLOCK_MONOTONIC, &g.t0);
    g.native = 0;
    if (timeline_start(interval) < 0) {
        data_clear();
        PyErr_SetString(PyExc_RuntimeError, "hotpath: cannot start the timeline thread");
        return NULL;
    }
    hooks_install();
    __atomic_store_n(&g.active, 1, __ATOMIC_RELEASE);
    if (native && find_shim()) {
        real = attach_fn(NULL);          /* the real functions first, then the hooks */
        attach_fn(&nat_hooks);
        g.native = 1;
    }
    Py_RETURN_NONE;
}

static PyObject *mt_stop(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (g.owner != self)
        Py_RETURN_NONE;
    if (g.native && attach_fn) {
        attach_fn(NULL);
        g.native = 2;            /* was attached */
    }
    int was_active = __atomic_exchange_n(&g.active, 0, __ATOMIC_ACQ_REL);
    if (was_active || g.error) {
        hooks_uninstall();
        timeline_stop();
    }
    lock();
    process_pending();
    int err = g.error;
    unlock();
    if (err == MT_ERR_NOMEMORY) {
        PyErr_SetString(PyExc_MemoryError,
                        "hotpath: the memory tracker ran out of memory and stopped recording");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Copies of the tables, taken under the lock, turned into Python objects after it. */
typedef struct {
    mt_stack *stacks;          /* code NULL where the code object is not held */
    uint32_t n_stacks;
    mt_point *points;
    size_t n_points;
    int peak_dirty;
    uint64_t peak_epoch;
} mt_copy;

static void copy_free(mt_copy *c)
{
    raw_free(c->stacks);
    raw_free(c->points);
}

/* (parent, code or None, line, alloc_count, alloc_bytes, free_count, free_bytes,
 *  peak_count, peak_bytes); parent -1 for nodes 0-2, line -1 for native markers. */
static PyObject *build_node(const mt_copy *c, const mt_stack *s)
{
    int line = 0;
    if (s->code)
        line = PyCode_Addr2Line(s->code, (int)(s->lasti * (intptr_t)sizeof(_Py_CODEUNIT)));
    else if (s->lasti == -1)
        line = -1;
    uint64_t peak_bytes, peak_count;
    if (c->peak_dirty || s->saved_epoch != c->peak_epoch) {
        peak_bytes = s->alloc_bytes - s->free_bytes;
        peak_count = s->alloc_count - s->free_count;
    } else {
        peak_bytes = s->peak_bytes;
        peak_count = s->peak_count;
    }
    return Py_BuildValue("(LOiKKKKKK)",
                         s->parent == NODE_NONE ? -1LL : (long long)s->parent,
                         s->code ? (PyObject *)s->code : Py_None, line,
                         (unsigned long long)s->alloc_count, (unsigned long long)s->alloc_bytes,
                         (unsigned long long)s->free_count, (unsigned long long)s->free_bytes,
                         (unsigned long long)peak_count, (unsigned long long)peak_bytes);
}

static PyObject *mt_snapshot(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (g.owner != self) {
        PyErr_SetString(PyExc_RuntimeError, "hotpath: this memory tracker has no data "
                        "(not started, cleared, or another tracker started since)");
        return NULL;
    }
    mt_copy c = {0};
    tls.busy++;
    lock();
    process_pending();
    c.n_stacks = g.n_stacks;
    c.n_points = g.n_points;
    c.stacks = raw_calloc(c.n_stacks ? c.n_stacks : 1, sizeof *c.stacks);
    c.points = raw_calloc(c.n_points ? c.n_points : 1, sizeof *c.points);
    int ok = c.stacks && c.points;
    if (ok) {
        memcpy(c.stacks, g.stacks, c.n_stacks * sizeof *c.stacks);
        memcpy(c.points, g.points, c.n_points * sizeof *c.points);
        for (uint32_t i = 0; i < c.n_stacks; i++)
            if (c.stacks[i].code && !code_held(c.stacks[i].code))
                c.stacks[i].code = NULL;
    }
    c.peak_dirty = g.peak_dirty;
    c.peak_epoch = g.peak_epoch;
    double peak_time = g.peak_dirty ? now_seconds() : g.peak_time;
    unsigned long long totals[9] = {
        g.alloc_count, g.alloc_bytes, g.free_count, g.free_bytes,
        (unsigned long long)g.live_count, (unsigned long long)g.live_bytes,
        (unsigned long long)g.peak_count, (unsigned long long)g.peak_bytes, g.samples};
    size_t tbytes = tracker_bytes();
    unlock();
    tls.busy--;
    if (!ok) {
        copy_free(&c);
        return PyErr_NoMemory();
    }

    tls.paused++;                 /* the snapshot's own objects are not the program's */
    PyObject *res = NULL, *nodes = NULL, *timeline = NULL;
    if (!(nodes = PyList_New((Py_ssize_t)c.n_stacks)) ||
        !(timeline = PyList_New((Py_ssize_t)c.n_points)))
        goto done;
    for (uint32_t i = 0; i < c.n_stacks; i++) {
        PyObject *node = build_node(&c, &c.stacks[i]);
        if (!node)
            goto done;
        PyList_SET_ITEM(nodes, (Py_ssize_t)i, node);
    }
    for (size_t i = 0; i < c.n_points; i++) {
        PyObject *p = Py_BuildValue("(dKK)", c.points[i].t,
                                    (unsigned long long)c.points[i].rss,
                                    (unsigned long long)c.points[i].heap);
        if (!p)
            goto done;
        PyList_SET_ITEM(timeline, (Py_ssize_t)i, p);
    }
    res = Py_BuildValue(
        "{s:s,s:d,s:i,s:O,s:O,s:O,s:O,s:O,s:K,s:K,s:K,s:K,s:L,s:L,s:K,s:K,s:d,s:K,s:n,s:d}",
        "mode", g.mode == MT_SAMPLED ? "sampled" : "exact",
        "sample_bytes", g.sample_bytes,
        "max_frames", g.max_frames,
        "native", g.native ? Py_True : Py_False,
        "active", is_active() ? Py_True : Py_False,
        "forked", g.forked ? Py_True : Py_False,
        "nodes", nodes,
        "timeline", timeline,
        "alloc_count", totals[0], "alloc_bytes", totals[1],
        "free_count", totals[2], "free_bytes", totals[3],
        "live_count", (long long)totals[4], "live_bytes", (long long)totals[5],
        "peak_count", totals[6], "peak_bytes", totals[7],
        "peak_time", peak_time,
        "samples", totals[8],
        "tracker_bytes", (Py_ssize_t)tbytes,
        "duration", now_seconds());
done:
    Py_XDECREF(nodes);
    Py_XDECREF(timeline);
    tls.paused--;
    copy_free(&c);
    return res;
}

static PyObject *mt_live(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromLongLong(__atomic_load_n(&g.live_bytes, __ATOMIC_RELAXED));
}

static PyObject *mt_peak(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    lock();
    long long p = g.peak_bytes;
    unlock();
    return PyLong_FromLongLong(p);
}

/* The peak starts again from the current live total (for memit). */
static PyObject *mt_reset_peak(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    lock();
    g.peak_bytes = g.live_bytes;
    g.peak_count = g.live_count;
    g.peak_dirty = 1;
    g.peak_time = now_seconds();
    unlock();
    Py_RETURN_NONE;
}

static PyObject *mt_pause(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    tls.paused++;
    Py_RETURN_NONE;
}

static PyObject *mt_resume(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (tls.paused > 0)
        tls.paused--;
    Py_RETURN_NONE;
}

static PyObject *mt_clear(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (g.owner == self) {
        if (is_active()) {
            PyErr_SetString(PyExc_RuntimeError, "hotpath: stop the memory tracker first");
            return NULL;
        }
        data_clear();
    }
    Py_RETURN_NONE;
}

static PyObject *mt_native_available(PyObject *cls, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(find_shim() != NULL);
}

static PyObject *mt_get_active(PyObject *self, void *closure)
{
    return PyBool_FromLong(g.owner == self && is_active());
}

static PyObject *mt_get_forked(PyObject *self, void *closure)
{
    return PyBool_FromLong(g.owner == self && g.forked);
}

static void mt_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (g.owner == self) {
        PyObject *r = mt_stop(self, NULL);
        if (!r)
            PyErr_Clear();
        Py_XDECREF(r);
        data_clear();
    }
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef mt_methods[] = {
    {"start", (PyCFunction)(void (*)(void))mt_start, METH_VARARGS | METH_KEYWORDS,
     "start(mode='exact', sample_bytes=16384, max_frames=64, interval=0.01, native=True)\n"
     "Record allocations from now on (fresh data)."},
    {"stop", mt_stop, METH_NOARGS, "Stop recording; the data stays until clear()."},
    {"snapshot", mt_snapshot, METH_NOARGS, "The data: stacks, totals, timeline (a dict)."},
    {"live", mt_live, METH_NOARGS, "Tracked live bytes now."},
    {"peak", mt_peak, METH_NOARGS, "Tracked live bytes at the peak."},
    {"reset_peak", mt_reset_peak, METH_NOARGS, "Restart the peak from the live bytes now."},
    {"pause", mt_pause, METH_NOARGS, "Stop recording this thread's allocations (nests)."},
    {"resume", mt_resume, METH_NOARGS, "Undo one pause()."},
    {"clear", mt_clear, METH_NOARGS, "Drop the data (not while recording)."},
    {"native_available", mt_native_available, METH_NOARGS | METH_STATIC,
     "Whether the preload shim is loaded, so native allocations can be tracked."},
    {NULL}
};

static PyGetSetDef mt_getset[] = {
    {"active", mt_get_active, NULL, "Recording now.", NULL},
    {"forked", mt_get_forked, NULL, "This is a fork child of the recording process.", NULL},
    {NULL}
};

static PyType_Slot mt_slots[] = {
    {Py_tp_doc, "MemTracker(): the memory tracker's capture (one records at a time)."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, mt_dealloc},
    {Py_tp_methods, mt_methods},
    {Py_tp_getset, mt_getset},
    {0, NULL}
};

PyType_Spec hp_memtracker_spec = {
    .name = "hotpath._core.MemTracker",
    .basicsize = sizeof(hp_memtracker),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = mt_slots,
};
