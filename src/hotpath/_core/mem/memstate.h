/* memstate.h — what every mem* file shares: the session, the lock, the thread-local flags,
 * and the tracker's own memory.
 *
 * Invariants:
 * - One spinlock (hp_mem_lock) protects every field marked (L) in the mem* headers: the stack
 *   tree, the live blocks, the totals, the timeline. Not the GIL: the RAW-domain and
 *   native hooks run without it.
 * - A hook touches a table only under the lock and only after re-checking
 *   hp_mem_session.active under it, so a hook still running when recording stops never sees
 *   tables being replaced.
 * - hp_mem_tls.busy is set while a hook does its own work or forwards to the allocator below
 *   it; a hook entered while it is set forwards and records nothing. The tracker's own
 *   memory (hp_mem_raw_*) is taken with busy set, so the hooks never see it.
 * - Hooks never create Python objects, never take the GIL, never raise: a failure sets
 *   hp_mem_session.error and stops recording (hp_mem_fail); the next stop() raises.
 */
#ifndef HP_MEMSTATE_H
#define HP_MEMSTATE_H

#include "common/compat.h"

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The variables the mem* files share are HP_INTERNAL (compat.h). */

enum {
    HP_MEM_EXACT = 0,
    HP_MEM_SAMPLED = 1
};
enum {
    HP_MEM_ERR_NONE = 0,
    HP_MEM_ERR_NOMEMORY = 1
};

/* One of the calling thread's latest recorded blocks, as forget() needs it: where it is,
 * and the state of the peak just before it was accounted (memaccount.h). */
typedef struct {
    uintptr_t addr; /* 0: empty */
    uint64_t seq;   /* hp_mem_totals.seq right after it was accounted */
    int64_t peak_bytes, peak_count;
    int peak_dirty;
} hp_mem_recent;

#define HP_MEM_RECENT 8 /* latest recorded blocks kept per thread (a ring) */

/* Thread-local: each thread touches only its own. */
typedef struct {
    int busy;          /* inside the tracker or a forwarded call: record nothing */
    int paused;        /* allocations are not recorded (frees are): pause()/resume() */
    uint64_t session;  /* the session the sampling state below belongs to */
    int64_t countdown; /* sampled mode: bytes until the next sample (memsample.h) */
    uint64_t rng;      /* xorshift64* state (memsample.h) */
    /* forget(): this thread's latest recorded blocks, newest at recent[top]; valid for
     * the session `recent_session` only. Written under the lock (memtrack.c). */
    uint64_t recent_session;
    unsigned top, nrecent;
    hp_mem_recent recent[HP_MEM_RECENT];
} hp_mem_tls_slot;

/* initial-exec: a register-relative access per hook, no __tls_get_addr call. */
extern __thread hp_mem_tls_slot hp_mem_tls HP_TLS_INITIAL_EXEC HP_INTERNAL;

typedef struct {
    /* Set by start() while not recording (GIL held); read-only while recording. */
    int mode, max_frames; /* HP_MEM_EXACT / HP_MEM_SAMPLED; frames kept per stack */
    double sample_bytes;
    uint64_t id;        /* bumped by each start(): stale per-thread state */
    int native;         /* native hooks attached (2: were, until stop()) */
    struct timespec t0; /* hp_mem_now() counts from here */
    PyObject *owner;    /* the MemTracker whose data this is (borrowed) */
    /* Atomics. */
    int active; /* hooks record */
    int error;  /* HP_MEM_ERR_*; written under the lock */
    int forked; /* this process is a fork child of a recording one */
} hp_mem_session_state;

extern hp_mem_session_state hp_mem_session HP_INTERNAL;

/* The totals (memaccount.h accounts into them; its header comment says how the peak is
 * kept). Every field is protected by the lock; `live_bytes` is also stored atomically,
 * so the timeline thread and live() may read it without the lock. */
typedef struct {
    int64_t live_bytes; /* (L) for writes; read racily by the timeline */
    int64_t live_count, peak_bytes, peak_count;
    int peak_dirty; /* live == peak, and no snapshot of it taken yet */
    uint64_t peak_epoch;
    double peak_time; /* hp_mem_now() when the peak was left */
    uint64_t alloc_count, alloc_bytes, free_count, free_bytes;
    uint64_t samples;  /* blocks recorded */
    uint64_t seq;      /* bumped by every alloc and free accounted: forget()
                                      can tell whether anything happened since a block */
} hp_mem_totals_state; /* (L) */

extern hp_mem_totals_state hp_mem_totals HP_INTERNAL;
extern int hp_mem_lock_word HP_INTERNAL; /* the spinlock: 1 held */

/* The tracker's own memory: malloc's, taken with hp_mem_tls.busy set. */
void *hp_mem_raw_calloc(size_t n, size_t size);
void *hp_mem_raw_realloc(void *p, size_t n);
void hp_mem_raw_free(void *p);

static inline void hp_mem_lock(void)
{
    int spins = 0;
    while (__atomic_exchange_n(&hp_mem_lock_word, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&hp_mem_lock_word, __ATOMIC_RELAXED)) {
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

static inline void hp_mem_unlock(void)
{
    __atomic_store_n(&hp_mem_lock_word, 0, __ATOMIC_RELEASE);
}

/* Recording now (a racy read: re-check under the lock before touching a table). */
static inline int hp_mem_active(void)
{
    return __atomic_load_n(&hp_mem_session.active, __ATOMIC_RELAXED);
}

/* Seconds since start(). */
static inline double hp_mem_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)(ts.tv_sec - hp_mem_session.t0.tv_sec) +
        (double)(ts.tv_nsec - hp_mem_session.t0.tv_nsec) * 1e-9;
}

/* (L) Stop recording after a failure; raised by the next stop(). */
static inline void hp_mem_fail(int err)
{
    if (!hp_mem_session.error)
        hp_mem_session.error = err;
    __atomic_store_n(&hp_mem_session.active, 0, __ATOMIC_RELAXED);
}

/* The home slot of address `a` in a power-of-two table (live blocks, code objects). */
static inline size_t hp_mem_ptr_slot(uintptr_t a, size_t mask)
{
    return (size_t)(((uint64_t)(a >> 4) * 0x9E3779B97F4A7C15ull) >> 29) & mask;
}

#endif /* HP_MEMSTATE_H */
