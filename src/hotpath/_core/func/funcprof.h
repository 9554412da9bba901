/* funcprof.h — the function profiler: its state and the per-event entry points.
 *
 * An event source (source_legacy.c on 3.11, source_monitoring.c on 3.12+) turns the
 * interpreter's events into three calls: hp_func_on_py_start and hp_func_on_c_call enter a Python
 * or C function, hp_func_on_return leaves the innermost one. They find the thread's call tree
 * through a thread-local pointer tagged with the session and the child node by the
 * event's own pointer (funcreg only runs when a node is created), and record integer
 * ticks. They never raise: a failure sets `error`, recording
 * stops, and the next cold call (disable, snapshot) reports it.
 *
 * All fields are protected by the GIL.
 */
#ifndef HP_FUNCPROF_H
#define HP_FUNCPROF_H

#include "common/compat.h"
#include "calltree.h"
#include "common/clock.h"
#include "funcreg.h"
#include "common/newthreads.h"

typedef struct hp_func_profiler {
    PyObject_HEAD
    uint64_t session; /* unique per profiler object in this process */
    hp_func_reg reg;
    hp_func_thread *threads;         /* every thread seen, in order of first event */
    hp_func_thread **threads_tail;   /* where the next thread is appended */
    PyObject *timer;                 /* custom timer (strong) or NULL for the tick clock */
    double timeunit;                 /* seconds per custom-timer unit, 0 = timer returns seconds */
    uint32_t max_nodes;              /* per-thread call tree cap */
    int builtins;                    /* record C functions */
    int enabled;                     /* hooks installed */
    int recording;                   /* enabled and no error */
    int error;                       /* 0, or HP_FUNC_ERR_*: why recording stopped */
    int in_hook;                     /* > 0 while a hook runs Python code (the custom timer):
                                clear/disable/__init__ must not free what it uses */
    int displaced;                   /* 3.11: another tool replaced our hook on some thread */
    int tool_id;                     /* 3.12+: the sys.monitoring tool id taken, or -1 */
    hp_newthreads_hook threads_hook; /* threading's profile hook, taken while enabled */
    int64_t enabled_at;              /* ticks at the last enable, for wall time */
    int64_t enabled_ticks;           /* ticks spent enabled, summed over enable/disable pairs */
} hp_func_profiler;

enum {
    HP_FUNC_ERR_NONE,
    HP_FUNC_ERR_NOMEMORY,
    HP_FUNC_ERR_INTERNAL,
    HP_FUNC_ERR_TIMER
};

/* The profiler that is recording now, if any: one at a time per process, since each OS
 * thread has one thread-local slot. Protected by the GIL. */
extern hp_func_profiler *hp_func_active_profiler;

/* Thread-local: which call tree this OS thread records into, for which session. */
typedef struct {
    hp_func_thread *tree;
    uint64_t session;
    uint64_t serial; /* this OS thread's number (0 until first needed) */
} hp_func_tls_slot;
/* initial-exec: one register-relative load instead of a __tls_get_addr call per event
 * (24 bytes of the static TLS surplus glibc keeps for dlopen'ed modules). */
extern _Thread_local hp_func_tls_slot hp_func_tls HP_TLS_INITIAL_EXEC HP_INTERNAL;

/* Cold: the calling thread's first event under `p` (or its first since another profiler
 * used the thread-local slot: then its existing tree is found again by the thread's
 * serial number). Returns NULL on failure (p->error set, exception cleared). */
hp_func_thread *hp_func_new_thread(hp_func_profiler *p);
/* Cold: record a failure and stop recording; clears any exception. */
void hp_func_fail(hp_func_profiler *p, int err);
/* Cold: give the calling thread's tree its threading name, if it has none yet. */
void hp_func_name_thread(hp_func_profiler *p);
/* Ticks from the custom timer (cold-ish: a Python call). Never raises. */
int64_t hp_func_external_now(hp_func_profiler *p);

static inline hp_func_thread *hp_func_current_thread(hp_func_profiler *p)
{
    if (hp_func_tls.session == p->session)
        return hp_func_tls.tree;
    return hp_func_new_thread(p);
}

static inline int64_t hp_func_now(hp_func_profiler *p)
{
    return p->timer ? hp_func_external_now(p) : hp_clock_now();
}

/* Cold: create the node for a first-seen path; 0 when recording had to stop;
 * HP_FUNC_NEED_LABEL when a C function is new and `cfunc` is NULL. */
#define HP_FUNC_NEED_LABEL UINT32_MAX
uint32_t hp_func_new_code_node(hp_func_profiler *p, hp_func_thread *t, PyCodeObject *co);
uint32_t hp_func_new_cfunc_node(hp_func_profiler *p, hp_func_thread *t, PyMethodDef *ml,
                                PyObject *cfunc);

static inline void hp_func_on_py_start(hp_func_profiler *p, PyCodeObject *co)
{
    if (!p->recording)
        return;
    hp_func_thread *t = hp_func_current_thread(p);
    if (!t)
        return;
    uint32_t i;
    hp_func_node *node = hp_func_calltree_find(t, co, &i);
    if (!node) {
        if (!(i = hp_func_new_code_node(p, t, co)))
            return;
        node = hp_func_calltree_node(t, i);
    }
    int64_t now = hp_func_now(p);
    if (!p->recording) /* the custom timer just failed */
        return;
    hp_func_calltree_push(t, node, i, now);
    if (t->failed)
        hp_func_fail(p, HP_FUNC_ERR_NOMEMORY);
}

static inline void hp_func_on_return(hp_func_profiler *p)
{
    if (!p->recording)
        return;
    int64_t now = hp_func_now(p);
    hp_func_thread *t = p->recording ? hp_func_current_thread(p) : NULL;
    if (t)
        hp_func_calltree_leave(t, now);
}

/* A C function identified by its PyMethodDef. `cfunc` is a PyCFunction to label it by on
 * first sight (borrowed), or NULL when the caller has none at hand (a method descriptor):
 * then, for a function never seen before, this returns 0 without recording and the
 * caller labels the function itself. Returns 1 otherwise. */
static inline int hp_func_on_c_call(hp_func_profiler *p, PyMethodDef *ml, PyObject *cfunc)
{
    if (!p->recording)
        return 1;
    hp_func_thread *t = hp_func_current_thread(p);
    if (!t)
        return 1;
    uint32_t i;
    hp_func_node *node = hp_func_calltree_find(t, ml, &i);
    if (!node) {
        i = hp_func_new_cfunc_node(p, t, ml, cfunc);
        if (i == HP_FUNC_NEED_LABEL)
            return 0;
        if (!i)
            return 1;
        node = hp_func_calltree_node(t, i);
    }
    int64_t now = hp_func_now(p);
    if (!p->recording)
        return 1;
    hp_func_calltree_push(t, node, i, now);
    if (t->failed)
        hp_func_fail(p, HP_FUNC_ERR_NOMEMORY);
    return 1;
}

/* The event sources, one per interpreter generation: 0 / -1 with an exception set.
 * start leaves nothing installed when it fails; stop puts back threading's previous
 * profile hook (p->threads_hook, newthreads.h) if ours is still the one installed. */
int hp_func_source_start(hp_func_profiler *p);
int hp_func_source_stop(hp_func_profiler *p);


#endif /* HP_FUNCPROF_H */
