/* memstate.h — what every mem* file shares: the session, the lock, the thread-local flags,
 * and the tracker's own memory.
 *
 * Invariants:
 * - One spinlock (mt_lock) protects every field marked (L) in the mem* headers: the stack
 *   tree, the live blocks, the totals, the timeline. Not the GIL: the RAW-domain and
 *   native hooks run without it.
 * - A hook touches a table only under the lock and only after re-checking
 *   mt_session.active under it, so a hook still running when recording stops never sees
 *   tables being replaced.
 * - mt_tls.busy is set while a hook does its own work or forwards to the allocator below
 *   it; a hook entered while it is set forwards and records nothing. The tracker's own
 *   memory (mt_raw_*) is taken with busy set, so the hooks never see it.
 * - Hooks never create Python objects, never take the GIL, never raise: a failure sets
 *   mt_session.error and stops recording (mt_fail); the next stop() raises.
 */
#ifndef HP_MEMSTATE_H
#define HP_MEMSTATE_H

#include "common/compat.h"

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The variables the mem* files share are HP_INTERNAL (compat.h). */

enum { MT_EXACT = 0, MT_SAMPLED = 1 };
enum { MT_ERR_NONE = 0, MT_ERR_NOMEMORY = 1 };

/* One of the calling thread's latest recorded blocks, as forget() needs it: where it is,
 * and the state of the peak just before it was accounted (memaccount.h). */
typedef struct {
    uintptr_t addr;      /* 0: empty */
    uint64_t seq;        /* mt_totals.seq right after it was accounted */
    int64_t peak_bytes, peak_count;
    int peak_dirty;
} mt_recent;

#define MT_RECENT 8      /* latest recorded blocks kept per thread (a ring) */

/* Thread-local: each thread touches only its own. */
typedef struct {
    int busy;            /* inside the tracker or a forwarded call: record nothing */
    int paused;          /* allocations are not recorded (frees are): pause()/resume() */
    uint64_t session;    /* the session the sampling state below belongs to */
    int64_t countdown;   /* sampled mode: bytes until the next sample (memsample.h) */
    uint64_t rng;        /* xorshift64* state (memsample.h) */
    /* forget(): this thread's latest recorded blocks, newest at recent[top]; valid for
     * the session `recent_session` only. Written under the lock (memtrack.c). */
    uint64_t recent_session;
    unsigned top, nrecent;
    mt_recent recent[MT_RECENT];
} mt_tls_slot;

/* initial-exec: a register-relative access per hook, no __tls_get_addr call. */
extern __thread mt_tls_slot mt_tls HP_TLS_INITIAL_EXEC HP_INTERNAL;

typedef struct {
    /* Set by start() while not recording (GIL held); read-only while recording. */
    int mode, max_frames;          /* MT_EXACT / MT_SAMPLED; frames kept per stack */
    double sample_bytes;
    uint64_t id;                   /* bumped by each start(): stale per-thread state */
    int native;                    /* native hooks attached (2: were, until stop()) */
    struct timespec t0;            /* mt_now() counts from here */
    PyObject *owner;               /* the MemTracker whose data this is (borrowed) */
    /* Atomics. */
    int active;                    /* hooks record */
    int error;                     /* MT_ERR_*; written under the lock */
    int forked;                    /* this process is a fork child of a recording one */
} mt_session_state;

extern mt_session_state mt_session HP_INTERNAL;

/* The totals (memaccount.h accounts into them; its header comment says how the peak is
 * kept). Every field is protected by the lock; `live_bytes` is also stored atomically,
 * so the timeline thread and live() may read it without the lock. */
typedef struct {
    int64_t live_bytes;            /* (L) for writes; read racily by the timeline */
    int64_t live_count, peak_bytes, peak_count;
    int peak_dirty;                /* live == peak, and no snapshot of it taken yet */
    uint64_t peak_epoch;
    double peak_time;              /* mt_now() when the peak was left */
    uint64_t alloc_count, alloc_bytes, free_count, free_bytes;
    uint64_t samples;              /* blocks recorded */
    uint64_t seq;                  /* bumped by every alloc and free accounted: forget()
                                      can tell whether anything happened since a block */
} mt_totals_state;                 /* (L) */

extern mt_totals_state mt_totals HP_INTERNAL;
extern int mt_lock_word HP_INTERNAL;     /* the spinlock: 1 held */

/* The tracker's own memory: malloc's, taken with mt_tls.busy set. */
void *mt_raw_calloc(size_t n, size_t size);
void *mt_raw_realloc(void *p, size_t n);
void mt_raw_free(void *p);

static inline void mt_lock(void)
{
    int spins = 0;
    while (__atomic_exchange_n(&mt_lock_word, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&mt_lock_word, __ATOMIC_RELAXED)) {
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

static inline void mt_unlock(void)
{
    __atomic_store_n(&mt_lock_word, 0, __ATOMIC_RELEASE);
}

/* Recording now (a racy read: re-check under the lock before touching a table). */
static inline int mt_active(void)
{
    return __atomic_load_n(&mt_session.active, __ATOMIC_RELAXED);
}

/* Seconds since start(). */
static inline double mt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)(ts.tv_sec - mt_session.t0.tv_sec) +
           (double)(ts.tv_nsec - mt_session.t0.tv_nsec) * 1e-9;
}

/* (L) Stop recording after a failure; raised by the next stop(). */
static inline void mt_fail(int err)
{
    if (!mt_session.error)
        mt_session.error = err;
    __atomic_store_n(&mt_session.active, 0, __ATOMIC_RELAXED);
}

/* The home slot of address `a` in a power-of-two table (live blocks, code objects). */
static inline size_t mt_ptr_slot(uintptr_t a, size_t mask)
{
    return (size_t)(((uint64_t)(a >> 4) * 0x9E3779B97F4A7C15ull) >> 29) & mask;
}

#endif /* HP_MEMSTATE_H */
