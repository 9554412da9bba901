/* linestore.h — the line profiler's data: per-code line arrays and per-thread frame stacks.
 *
 * A LineTracer owns one store. Per code object it was given, the store keeps an
 * hp_line_code: an array of {hits, ticks} indexed by line - first line, found from the
 * code object in O(1) through a co_extra slot of our own. Per OS thread that sent an
 * event, it keeps an hp_line_thread: the stack of chosen frames running there, each with
 * the line it is on and the tick that line started, found through a thread-local pointer
 * tagged with the store's session. Frames are keyed by the interpreter frame's address.
 *
 * Invariants:
 * - A code object's co_extra slot (index hp_line_store_extra_index, ours alone) holds NULL
 *   or a pointer to the hp_line_code of the store that last claimed it; every hp_line_code
 *   holds a strong reference to its code object, and the store resets the slot before
 *   freeing the hp_line_code, so a non-NULL slot never dangles. Readers check the entry's
 *   session before trusting it.
 * - A thread's stack holds one entry per running chosen frame, innermost last. Entries
 *   are pushed on a frame's start/resume and popped on its return/yield/unwind; a frame
 *   seen first in the middle (tracing switched on while it ran) is adopted on its first
 *   event, and entries whose frames vanished unseen are dropped when an outer frame's
 *   event finds them above itself.
 * - A new session (hp_line_store_free_threads) invalidates every thread-local pointer.
 *
 * The inline functions are the per-event path: nothing on it allocates except a stack's
 * growth and a thread's first event (both out of line, in linestore.c). They never raise
 * and never set an exception; out of memory comes back as NULL / -1 and the caller stops
 * recording. All fields are protected by the GIL.
 */
#ifndef HP_LINESTORE_H
#define HP_LINESTORE_H

#include "common/compat.h"

#include <stdint.h>

/* Shared variables are HP_INTERNAL (compat.h). The TLS slot costs one __tls_get_addr
 * call per event, as when it was file-static. */

typedef struct {
    uint64_t hits;
    int64_t ticks;
} hp_line_stat;

typedef struct {
    PyObject *code;   /* strong */
    uint64_t session; /* the owning store's session */
    int first;        /* smallest line number in the code */
    int n;            /* lines[i] is line first + i */
    hp_line_stat *lines;
    int active;              /* line events wanted */
    int auto_chosen;         /* chosen by the automatic mode (linesampler.c) */
    double chosen_at;        /* seconds after enable() when chosen (auto) */
    uint64_t chosen_samples; /* own-time samples when chosen (auto) */
    double chosen_seconds;   /* sampled own time when chosen (auto) */
} hp_line_code;

typedef struct {
    hp_line_code *lc;
    const void *frame; /* interpreter frame address: the frame's identity */
    int32_t last;      /* index of the line running, or -1 */
    int64_t t;         /* tick at which it started */
} hp_line_frame;

typedef struct hp_line_thread {
    struct hp_line_thread *next;
    hp_line_frame *stack;
    uint32_t depth, cap;
} hp_line_thread;

typedef struct {
    uint64_t session;     /* unique per store and per hp_line_store_free_threads */
    hp_line_code **codes; /* every code object given, in order of arrival */
    uint32_t n_codes, cap_codes;
    hp_line_thread *threads; /* every thread seen this session */
} hp_line_store;

/* Thread-local: which stack this OS thread uses, for which session. */
typedef struct {
    hp_line_thread *t;
    uint64_t session;
} hp_line_tls;

extern Py_ssize_t hp_line_store_extra_index HP_INTERNAL; /* process-wide; -1 until requested */
extern _Thread_local hp_line_tls hp_line_store_tls HP_INTERNAL;

/* ---- cold: lifecycle and registration (0 / -1 with an exception set, unless said) ---- */

/* Request the co_extra slot, once per process. 0 / -1. */
int hp_line_store_request_slot(void);
/* Give a zeroed store its first session. */
void hp_line_store_init(hp_line_store *st);
/* Our entry for `code`, created when missing (`created` says which). Does not make it
 * active. NULL with an exception set. */
hp_line_code *hp_line_store_add(hp_line_store *st, PyObject *code, int *created);
/* Point every code object's slot back at our entries (another store may have taken
 * them meanwhile). 0 / -1. */
int hp_line_store_reclaim(hp_line_store *st);
/* Zero every line's counters and empty every stack. */
void hp_line_store_clear(hp_line_store *st);
/* Free every thread's stack and start a new session. */
void hp_line_store_free_threads(hp_line_store *st);
/* Free every entry, resetting the slots that still point at them. */
void hp_line_store_free_codes(hp_line_store *st);

/* ---- cold: called from the per-event path (never raise) ----------------------------- */

/* The calling thread's first event under `st`: its stack, or NULL when out of memory. */
hp_line_thread *hp_line_store_new_thread(hp_line_store *st);
/* Double the stack's capacity. 0 / -1 when out of memory. */
int hp_line_store_grow(hp_line_thread *t);
/* Our entry for `code` when its slot holds another store's: found by a scan, and the slot
 * reclaimed. NULL when `code` is not ours. */
hp_line_code *hp_line_store_find(hp_line_store *st, PyObject *code);
/* The entry of `frame`, searched from the top down, with the stale entries above it
 * dropped; NULL when it has none (the stack unchanged then). */
hp_line_frame *hp_line_store_search(hp_line_thread *t, hp_line_code *lc, const void *frame);
/* hp_line_store_search, or a fresh entry pushed when there is none (the frame adopted).
 * NULL when out of memory. */
hp_line_frame *hp_line_store_resync(hp_line_thread *t, hp_line_code *lc, const void *frame);

/* ---- the per-event path ------------------------------------------------------------- */

/* The calling thread's stack under `st`, created on first sight. NULL when out of memory. */
static inline hp_line_thread *hp_line_store_thread(hp_line_store *st)
{
    if (hp_line_store_tls.session == st->session)
        return hp_line_store_tls.t;
    return hp_line_store_new_thread(st);
}

/* The active entry of `code` under `st`, or NULL. */
static inline hp_line_code *hp_line_store_lookup(hp_line_store *st, PyObject *code)
{
    void *extra = NULL;
    if (hp_code_get_extra(code, hp_line_store_extra_index, &extra) < 0) {
        PyErr_Clear();
        return NULL;
    }
    hp_line_code *lc = extra;
    if (!lc)
        return NULL;
    if (lc->session != st->session)
        lc = hp_line_store_find(st, code);
    return (lc && lc->active) ? lc : NULL;
}

/* Push a fresh entry. Returns it, or NULL when out of memory. */
static inline hp_line_frame *hp_line_store_push(hp_line_thread *t, hp_line_code *lc,
                                                const void *frame)
{
    if (t->depth == t->cap && hp_line_store_grow(t) < 0)
        return NULL;
    hp_line_frame *e = &t->stack[t->depth++];
    e->lc = lc;
    e->frame = frame;
    e->last = -1;
    e->t = 0;
    return e;
}

/* The entry of `frame`: the top one, else as hp_line_store_resync. NULL when out of memory. */
static inline hp_line_frame *hp_line_store_entry(hp_line_thread *t, hp_line_code *lc,
                                                 const void *frame)
{
    if (t->depth) {
        hp_line_frame *e = &t->stack[t->depth - 1];
        if (e->frame == frame && e->lc == lc)
            return e;
    }
    return hp_line_store_resync(t, lc, frame);
}

/* Close the running line of `e` at `now`. */
static inline void hp_line_store_credit(hp_line_frame *e, int64_t now)
{
    if (e->last >= 0) {
        hp_line_stat *s = &e->lc->lines[e->last];
        s->hits++;
        s->ticks += now - e->t;
        e->last = -1;
    }
}

#endif /* HP_LINESTORE_H */
