/* sampleprof.c — hotpath._core.Sampler: the sampling profiler.
 *
 * A common/sampler.h thread (python = 1) wakes every `interval` seconds; the sample is
 * taken by whichever thread can take it without a thread switch (before_tick): the main
 * thread itself, through a pending call, when it holds the GIL; else the sampler thread,
 * taking the GIL (a free GIL costs no wait). A sample reads every thread's Python stack
 * but the sampler thread's (frames.h's hp_stack_codes: the frame chain, no Python code
 * run, nothing allocated once a path is known), adding one sample to that thread's
 * calling-context tree (sampletree.h). Before each tick the sampler thread asks who
 * holds the GIL (common/gilstate.h); samples count, per thread, those in which that
 * thread held it.
 *
 * Why the pending call: a sample taken by the sampler thread while the program's thread
 * runs Python makes that thread hand the GIL over and wait for it back (two thread
 * switches, and a switch-interval wait before the hand-over) at every tick; measured on
 * 3.12 that cost 75-90 us of CPU per sample, +8-12% at 1 kHz. The main thread sampling
 * itself at its next eval-breaker check costs a stack walk; the sampler thread's
 * remaining cost is waking up.
 *
 * What a sample weighs (nanoseconds, the trees' tick):
 *   wall  the wall time since the previous tick (taking the GIL can wait up to a switch
 *         interval, so ticks are not evenly spaced; weighting by the real gap keeps the
 *         estimated times honest), for every thread that has a Python frame;
 *   cpu   each thread's own CPU time since its previous sample (per-thread CPU clocks);
 *         a thread that used none (blocked, sleeping, waiting for the GIL) is not counted.
 *
 * Functions are code objects, held (strong references in `codes`) so that their
 * addresses stay unique while the sampler lives; `index` maps an address to its row.
 * Row 0 is the trees' overflow pseudo-function.
 *
 * asyncio: a running task's coroutines call each other through `await`, which runs the
 * awaited coroutine's frame on top of the awaiting one, so the running task's whole
 * await chain is on the thread's frame stack and is sampled as it is (every version).
 * Suspended tasks are on no stack and use no time.
 *
 * One sampler runs at a time in a process (`active`): a fork child has no sampler thread,
 * and the pthread_atfork child handler marks the copy stopped (the child keeps the
 * thread's reference: the object stays). A running sampler holds a reference to itself
 * (the thread's), so the collector never clears it under the tick.
 *
 * Every field is protected by the GIL (the tick runs holding it), except `holder`, which
 * only the sampler thread touches (written in `before`, read in its tick), `pending`
 * (atomic), and the thread's stop flag (its mutex, sampler.h).
 */
#include "common/compat.h"
#include "common/frames.h"
#include "common/gilstate.h"
#include "common/module.h"
#include "common/saferead.h"
#include "common/sampler.h"
#include "common/stackpeek.h"
#include "common/table.h"
#include "sampletree.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEPTH 2048 /* frames read per sample; deeper stacks lose their outer frames */

typedef struct {
    uint64_t id;             /* PyThreadState_GetID: unique for the process's life */
    unsigned long ident;     /* threading.get_ident() */
    unsigned long native_id; /* the kernel's thread id (per-thread CPU clock) */
    int64_t cpu_last;        /* cpu mode: the thread's CPU ns at its last sample */
    uint64_t samples, gil_samples;
    int64_t unweighed; /* wall mode: the innermost node of this thread's last sample,
                        * still to be weighed (by the time to the next ask), or -1 */
    PyObject *name;    /* the threading.Thread's name when first seen, or NULL */
    hp_sample_tree tree;
} sample_thread;

typedef struct {
    PyObject_HEAD
    hp_sampler thread;
    PyInterpreterState *interp;
    int cpu; /* 1: weigh by per-thread CPU time */
    size_t max_nodes;
    int running;
    PyObject *codes;          /* list of code objects (strong), row i + 1 */
    PyObject *active_threads; /* threading._active (strong), or NULL */
    PyObject *str_name;       /* "_name" (strong) */
    hp_ptrmap index;          /* code address -> row */
    sample_thread *threads;
    size_t nthreads, cap_threads;
    int64_t last; /* monotonic ns of the previous tick (or of start) */
    int64_t started_ns, elapsed_ns;
    uint64_t ticks;
    uint64_t main_ticks; /* of `ticks`, those the main thread took (pending calls) */
    const void *holder;  /* the GIL's holder before this tick (sampler thread) */
    const void *main_ts; /* the main thread's state, when the main interpreter is
                          * sampled (pending calls run there), else NULL; compared only */
    uintptr_t pending;   /* the unserved pending-call request's number, or 0 (atomic:
                          * the sampler thread and the main thread) */
    /* the GIL holder's top frames, peeked by the sampler thread as it asks for a sample
     * (stackpeek.h): `peeks[seq & 1]` for pending-call request `seq` (the main thread may
     * still be reading the previous request's while the next is made: never the same
     * slot), `self_peek` for a tick the sampler thread takes itself */
    hp_stack_peek peeks[2], self_peek;
    hp_peek_cache peek_cache; /* the sampler thread's only */
    uint64_t peeked;          /* samples whose GIL holder's stack was peeked at the ask */
    uint64_t peek_moved;      /* of those, samples whose stack had moved by the time it was
                          * taken (put back as it was at the ask) */
    uint64_t peek_lost;       /* of those, samples where no peeked frame was left: taken as
                          * the stack was then */
    char error[120];          /* set when the capture stopped early */
    PyCodeObject *stack[MAX_DEPTH];
    const void *frames[MAX_DEPTH];
    uint32_t path[MAX_DEPTH + 1 + HP_PEEK_FRAMES];
} SamplerObject;

static SamplerObject *active = NULL; /* the running sampler (GIL) */
static int atfork_registered = 0;    /* GIL */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The CPU time (ns) thread `t` has used, or -1 when it cannot be read (it has ended).
 * Linux: the per-thread CPU clock id is derived from the kernel thread id (the encoding
 * pthread_getcpuclockid uses), so a thread that has ended gives EINVAL instead of a read
 * through a stale pthread_t. */
static int64_t thread_cpu_ns(const sample_thread *t)
{
    clockid_t cid;
#ifdef __linux__
    cid = (clockid_t)((~(clockid_t)t->native_id) << 3) | 6; /* CPUCLOCK_SCHED|PERTHREAD */
#else
    if (pthread_getcpuclockid((pthread_t)t->ident, &cid) != 0)
        return -1;
#endif
    struct timespec ts;
    if (clock_gettime(cid, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void fail(SamplerObject *s, const char *why)
{
    if (!s->error[0])
        snprintf(s->error, sizeof s->error, "%s", why);
}

/* The name of the threading.Thread whose ident is `ident` (new reference), or NULL
 * (no error set). Reads threading._active and the Thread's instance dict directly:
 * no Python code runs (no attribute lookup, no property). Once per thread. */
static PyObject *thread_name(SamplerObject *s, unsigned long ident)
{
    if (!s->active_threads || !PyDict_Check(s->active_threads))
        return NULL;
    PyObject *key = PyLong_FromUnsignedLong(ident);
    if (!key) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *thread = PyDict_GetItemWithError(s->active_threads, key); /* borrowed */
    Py_DECREF(key);
    PyObject *name = NULL;
    PyObject *dict = thread ? PyObject_GenericGetDict(thread, NULL) : NULL; /* new */
    if (dict && PyDict_CheckExact(dict)) {
        name = PyDict_GetItemWithError(dict, s->str_name); /* borrowed */
        name = name && PyUnicode_Check(name) ? Py_NewRef(name) : NULL;
    }
    Py_XDECREF(dict);
    PyErr_Clear();
    return name;
}

/* The record of thread state `ts`, made if new; NULL when out of memory. */
static sample_thread *thread_of(SamplerObject *s, PyThreadState *ts)
{
    uint64_t id = PyThreadState_GetID(ts);
    for (size_t i = 0; i < s->nthreads; i++) {
        if (s->threads[i].id == id)
            return &s->threads[i];
    }
    if (s->nthreads == s->cap_threads) {
        size_t cap = s->cap_threads ? s->cap_threads * 2 : 8;
        sample_thread *p = realloc(s->threads, cap * sizeof *p);
        if (!p)
            return NULL;
        s->threads = p;
        s->cap_threads = cap;
    }
    sample_thread *t = &s->threads[s->nthreads];
    memset(t, 0, sizeof *t);
    if (hp_sample_tree_init(&t->tree, s->max_nodes) < 0) {
        hp_sample_tree_free(&t->tree);
        return NULL;
    }
    t->id = id;
    t->ident = ts->thread_id;
    t->native_id = ts->native_thread_id;
    t->cpu_last = 0; /* a thread first seen after start: all its CPU time is new */
    t->unweighed = -1;
    t->name = thread_name(s, t->ident);
    s->nthreads++;
    return t;
}

/* The row of code object `co`, added if new; -1 when out of memory. */
static int64_t row_of(SamplerObject *s, PyCodeObject *co)
{
    uint32_t row;
    if (hp_ptrmap_get(&s->index, co, &row))
        return row;
    Py_ssize_t n = PyList_GET_SIZE(s->codes);
    if (hp_ptrmap_put(&s->index, co, (uint32_t)(n + 1)) < 0)
        return -1;
    if (PyList_Append(s->codes, (PyObject *)co) < 0) {
        hp_ptrmap_del(&s->index, co);
        PyErr_Clear();
        return -1;
    }
    return n + 1;
}

/* The row of the code object at `addr`, read by a peek (stackpeek.h) from a frame that
 * has returned since: it was alive then (its frame held it), but may have been freed
 * before this sample (a module's top-level code is dropped once the import ends). GIL
 * held. A row when the sampler already holds it; otherwise adopted only when its header
 * still says "a live code object": readable (saferead.h), the type PyCode_Type, and a
 * reference count of a live heap object (a freed block's first word is an allocator's
 * free-list link: 0 or an address, above 2^32; in a block reused by another object the
 * type differs). -1 when not adopted (the put-back ends there). */
static int64_t peeked_row(SamplerObject *s, const void *addr)
{
    uint32_t row;
    if (hp_ptrmap_get(&s->index, addr, &row))
        return row;
    PyObject head;
    if (hp_safe_read(&head, addr, sizeof head) < 0 || Py_TYPE(&head) != &PyCode_Type)
        return -1;
    uint64_t refs; /* the whole first word: 3.14 keeps flags in its upper half */
    memcpy(&refs, &head, sizeof refs);
    if (refs == 0 || refs >= ((uint64_t)1 << 32))
        return -1;
    return row_of(s, (PyCodeObject *)addr);
}

/* The stack of `n` walked frames (s->stack / s->frames, innermost first) as it was when
 * `peek` was read: returns the number of walked frames to drop from the inside (those
 * pushed since) and fills `back` with the rows of the peeked frames popped since, which
 * go on top instead, outermost first; returns their number in *nback. A popped frame
 * whose code object cannot be adopted (peeked_row) ends the put-back there. */
static int as_peeked(SamplerObject *s, const hp_stack_peek *peek, int n, uint32_t *back, int *nback)
{
    *nback = 0;
    s->peeked++;
    int at = 0;
    int j = hp_stack_peek_match(peek, s->frames, s->stack, n, &at);
    if (j < 0) {
        s->peek_lost++;
        return 0;
    }
    for (int m = j - 1; m >= 0; m--) {
        int64_t row = peeked_row(s, peek->f[m].code);
        if (row < 0)
            break;
        back[(*nback)++] = (uint32_t)row;
    }
    if (at > 0 || *nback > 0)
        s->peek_moved++;
    return at;
}

/* Wall mode: give every thread's last sample its weight, `w` (the time from its ask to
 * the next one, or to the stop). */
static void weigh_last(SamplerObject *s, int64_t w)
{
    for (size_t i = 0; i < s->nthreads; i++) {
        sample_thread *t = &s->threads[i];
        if (t->unweighed >= 0)
            hp_sample_tree_weigh(&t->tree, (uint32_t)t->unweighed, w);
        t->unweighed = -1;
    }
}

/* One sample of every thread but `skip` (the sampler thread's own), GIL held; `holder`
 * is the thread state that held the GIL just before, and `peek` (or NULL) its top frames
 * peeked as the sample was asked for. Never raises (the caller keeps any exception in
 * flight). */
static void sample_all(SamplerObject *s, PyThreadState *skip, const void *holder,
                       const hp_stack_peek *peek)
{
    /* A sample stands for the moment it was asked for (the peek's). In wall mode it
     * weighs the time from its ask to the next one, added when that ask is served
     * (weigh_last): asks come at a fixed rate whatever the program does, so each weighs
     * one interval, except one whose sample waited past the next due time (a long C
     * call), which weighs the whole wait, as it should. Weighing by the time between
     * samples *taken* instead adds each ask-to-sample wait to the stack found there; that
     * wait is longest in straight-line code (no eval-breaker check), measured: a
     * straight-line caller at 1.40x its real share of a loop's. */
    int64_t now = peek && peek->asked_ns ? peek->asked_ns : mono_ns();
    if (now < s->last)
        now = s->last;
    int64_t dt = now - s->last;
    s->last = now;
    if (!s->cpu)
        weigh_last(s, dt);
    if (s->error[0])
        return;
    s->ticks++;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(s->interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (ts == skip)
            continue;
        int cut = 0;
        int n = hp_stack_codes(ts, s->stack, s->frames, MAX_DEPTH, &cut);
        if (n == 0)
            continue; /* runs no Python code (yet, or any more) */
        int drop = 0, nback = 0;
        uint32_t back[HP_PEEK_FRAMES];
        if (peek && peek->ts == (const void *)ts && peek->n > 0)
            drop = as_peeked(s, peek, n, back, &nback);
        sample_thread *t = thread_of(s, ts);
        if (!t) {
            fail(s, "out of memory for a thread's call tree");
            return;
        }
        if (!t->name && t->samples < 64) /* first seen before threading registered it */
            t->name = thread_name(s, t->ident);
        int64_t w = 0; /* wall: weighed at the next ask */
        if (s->cpu) {
            int64_t c = thread_cpu_ns(t);
            if (c < 0)
                continue;
            w = c - t->cpu_last;
            t->cpu_last = c;
            if (w <= 0)
                continue; /* not on a CPU since its last sample */
        }
        /* outermost first; a cut stack starts at the overflow function */
        int k = 0;
        if (cut)
            s->path[k++] = HP_SAMPLE_OVERFLOW;
        for (int i = n - 1; i >= drop; i--) {
            int64_t row = row_of(s, s->stack[i]);
            if (row < 0) {
                fail(s, "out of memory for the function table");
                return;
            }
            s->path[k++] = (uint32_t)row;
        }
        for (int m = 0; m < nback; m++)
            s->path[k++] = back[m];
        uint32_t leaf = 0;
        if (hp_sample_tree_add(&t->tree, s->path, k, w, &leaf) < 0) {
            fail(s, "out of memory for a thread's call tree");
            return;
        }
        if (!s->cpu)
            t->unweighed = leaf;
        t->samples++;
        if ((const void *)ts == holder)
            t->gil_samples++;
    }
}

/* The sampler thread's tick (it took the GIL). */
static void tick(void *arg, PyThreadState *me)
{
    SamplerObject *s = arg;
    sample_all(s, me, s->holder, &s->self_peek);
}

/* The pending call the sampler thread hands to the main thread (it runs in the main
 * thread, holding the GIL, at its next eval-breaker check): the same sample, taken with
 * no thread switch. `arg` is the request's number; a request the sampler thread has
 * since given up (it took the GIL itself), or one left from a sampler that stopped, is
 * not this sampler's current `pending` and does nothing. Returns 0 (never raises). */
static int pending_tick(void *arg)
{
    SamplerObject *s = active;
    uintptr_t want = (uintptr_t)arg;
    if (!s || !s->running ||
        !__atomic_compare_exchange_n(&s->pending, &want, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return 0;
    hp_saved_exc saved;
    hp_exc_save(&saved);
    PyThreadState *sampler_ts = __atomic_load_n(&s->thread.me, __ATOMIC_ACQUIRE); /* or NULL */
    sample_all(s, sampler_ts, PyThreadState_Get(), &s->peeks[(uintptr_t)arg & 1]);
    s->main_ticks++;
    hp_exc_restore(&saved);
    return 0;
}

/* Without the GIL, in the sampler thread before each tick (sampler.h's `before`): who
 * holds the GIL now, and who takes this sample.
 *   the main thread holds it   ask it, with a pending call (Py_AddPendingCall), to take
 *                              the sample itself: returns 1 (the sampler thread skips
 *                              its tick and never makes the running thread switch);
 *   anyone else, or nobody     returns 0: the sampler thread takes the GIL and samples
 *                              (a free GIL costs no wait; a held one is asked to be
 *                              dropped at once, gilstate.h's hp_gil_request_drop);
 *   the last request is still  if the main thread still holds the GIL (in a long C call,
 *   unserved                   or preempted), wait for it (returns 1: taking the GIL
 *                              would wait for the same eval-breaker check); if it let
 *                              the GIL go (blocked), give the request up and take the
 *                              GIL (returns 0).
 * Requests are numbered by `next_request` (only the one sampler thread writes it). */
static uintptr_t next_request = 0;

static int before_tick(void *arg)
{
    SamplerObject *s = arg;
    const void *holder = hp_gil_holder(s->interp);
    s->holder = holder;
    if (s->main_ts && holder == s->main_ts && __atomic_load_n(&s->pending, __ATOMIC_ACQUIRE)) {
        /* not served yet: taking the GIL would wait for the same check. Trip the breaker
         * again: on 3.11/3.12 the main thread may have recomputed it to 0 between the
         * request and the last poke (a lost poke would stop the sampling for good) */
        hp_eval_breaker_poke(s->interp);
        return 1;
    }
    if (__atomic_exchange_n(&s->pending, 0, __ATOMIC_ACQ_REL) != 0 || !s->main_ts ||
        holder != s->main_ts) {
        s->self_peek.asked_ns = mono_ns();
        hp_stack_peek_read(holder, holder == s->main_ts, &s->self_peek,
                           &s->peek_cache);     /* where the holder is now */
        hp_gil_request_drop(s->interp, holder); /* take it without a switch-interval wait */
        return 0;
    }
    uintptr_t seq = ++next_request;
    if (seq == 0)
        seq = ++next_request;
    s->peeks[seq & 1].asked_ns = mono_ns();
    hp_stack_peek_read(holder, 1, &s->peeks[seq & 1], &s->peek_cache);
    /* the main thread */ /* published by the store below */
    __atomic_store_n(&s->pending, seq, __ATOMIC_RELEASE);
    if (Py_AddPendingCall(pending_tick, (void *)seq) < 0) {
        uintptr_t want = seq;
        __atomic_compare_exchange_n(&s->pending, &want, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
        s->self_peek = s->peeks[seq & 1];
        hp_gil_request_drop(s->interp, holder);
        return 0; /* the queue is full: sample from here */
    }
    hp_eval_breaker_poke(s->interp);
    return 1;
}

static void atfork_child(void)
{
    if (active) {
        hp_sampler_atfork_child(&active->thread);
        active->running = 0;
        active = NULL;
    }
}

/* ---- the type ------------------------------------------------------------------------ */

static void clear_data(SamplerObject *s)
{
    for (size_t i = 0; i < s->nthreads; i++) {
        hp_sample_tree_free(&s->threads[i].tree);
        Py_CLEAR(s->threads[i].name);
    }
    free(s->threads);
    s->threads = NULL;
    s->nthreads = s->cap_threads = 0;
    hp_ptrmap_clear(&s->index);
    if (s->codes)
        PyList_SetSlice(s->codes, 0, PyList_GET_SIZE(s->codes), NULL);
    s->ticks = 0;
    s->main_ticks = 0;
    s->peeked = s->peek_moved = s->peek_lost = 0;
    s->elapsed_ns = 0;
    s->error[0] = 0;
}

/* Sampler(interval=0.001, cpu=False, max_nodes=1 << 20) */
static int sampler_init(PyObject *self, PyObject *args, PyObject *kw)
{
    SamplerObject *s = (SamplerObject *)self;
    static char *kwlist[] = {"interval", "cpu", "max_nodes", NULL};
    double interval = 0.001;
    int cpu = 0;
    Py_ssize_t max_nodes = 1 << 20;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|dpn:Sampler", kwlist, &interval, &cpu, &max_nodes))
        return -1;
    if (s->running) {
        PyErr_SetString(PyExc_RuntimeError, "the sampler is running");
        return -1;
    }
    if (!(interval >= 1e-5 && interval <= 60.0)) {
        PyErr_SetString(PyExc_ValueError, "interval must be between 10 µs and 60 s");
        return -1;
    }
    if (max_nodes < 2) {
        PyErr_SetString(PyExc_ValueError, "max_nodes must be at least 2");
        return -1;
    }
    if (!s->codes && !(s->codes = PyList_New(0)))
        return -1;
    s->thread.interval = interval;
    s->cpu = cpu;
    s->max_nodes = (size_t)max_nodes;
    return 0;
}

static PyObject *sampler_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    SamplerObject *s = (SamplerObject *)type->tp_alloc(type, 0);
    if (!s)
        return NULL;
    hp_sampler_init(&s->thread);
    s->thread.interval = 0.001;
    s->max_nodes = 1 << 20;
    return (PyObject *)s;
}

/* start(): begin sampling every thread. RuntimeError when this or another sampler runs. */
static PyObject *sampler_start(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    SamplerObject *s = (SamplerObject *)self;
    if (s->running || active) {
        PyErr_SetString(PyExc_RuntimeError,
                        "another sampler is active (one sampler runs at a time)");
        return NULL;
    }
    if (!s->codes && !(s->codes = PyList_New(0)))
        return NULL;
    if (!atfork_registered) {
        if (pthread_atfork(NULL, NULL, atfork_child) != 0) {
            PyErr_SetString(PyExc_RuntimeError, "hotpath: cannot register a fork handler");
            return NULL;
        }
        atfork_registered = 1;
    }
    if (!s->str_name && !(s->str_name = PyUnicode_InternFromString("_name")))
        return NULL;
    if (!s->active_threads) { /* the threads' names (best effort) */
        PyObject *threading = PyImport_ImportModule("threading");
        s->active_threads = threading ? PyObject_GetAttrString(threading, "_active") : NULL;
        Py_XDECREF(threading);
        PyErr_Clear();
    }
    PyThreadState *me = PyThreadState_Get();
    s->interp = PyThreadState_GetInterpreter(me);
    s->main_ts = NULL;
    s->pending = 0;
    memset(&s->peek_cache, 0, sizeof s->peek_cache);
    if (s->interp == PyInterpreterState_Main()) {
        /* the thread that runs pending calls: threading.main_thread() (best effort) */
        unsigned long main_ident = 0;
        PyObject *threading = PyImport_ImportModule("threading");
        PyObject *mt = threading ? PyObject_CallMethod(threading, "main_thread", NULL) : NULL;
        PyObject *ident = mt ? PyObject_GetAttrString(mt, "ident") : NULL;
        if (ident && PyLong_Check(ident))
            main_ident = PyLong_AsUnsignedLong(ident);
        Py_XDECREF(ident);
        Py_XDECREF(mt);
        Py_XDECREF(threading);
        PyErr_Clear();
        for (PyThreadState *ts = PyInterpreterState_ThreadHead(s->interp); ts && main_ident;
             ts = PyThreadState_Next(ts)) {
            if (ts->thread_id == main_ident) {
                s->main_ts = ts;
                break;
            }
        }
    }
    if (s->cpu) {
        /* threads running now: their CPU time so far is not the profile's */
        for (PyThreadState *ts = PyInterpreterState_ThreadHead(s->interp); ts;
             ts = PyThreadState_Next(ts)) {
            sample_thread *t = thread_of(s, ts);
            if (!t)
                return PyErr_NoMemory();
            int64_t c = thread_cpu_ns(t);
            t->cpu_last = c > 0 ? c : 0;
        }
    }
    s->thread.python = 1;
    s->thread.tick_at_once = 0;
    s->thread.tick = tick;
    s->thread.before = before_tick;
    s->thread.fixed_rate = 1;
    s->thread.arg = s;
    s->started_ns = s->last = mono_ns();
    if (hp_sampler_start(&s->thread) < 0) {
        PyErr_SetString(PyExc_RuntimeError, "hotpath: cannot start the sampler thread");
        return NULL;
    }
    s->running = 1;
    active = s;
    Py_INCREF(self); /* the thread's: a running sampler is never collected */
    Py_RETURN_NONE;
}

/* stop(): stop sampling and join the thread (no-op when not running). */
static PyObject *sampler_stop(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    SamplerObject *s = (SamplerObject *)self;
    if (!s->running)
        Py_RETURN_NONE;
    hp_sampler_stop(&s->thread);
    s->running = 0;
    int64_t now = mono_ns();
    s->elapsed_ns += now - s->started_ns;
    if (!s->cpu && now > s->last)
        weigh_last(s, now - s->last); /* the last samples stood until now */
    if (active == s)
        active = NULL;
    Py_DECREF(self); /* the thread's (start) */
    Py_RETURN_NONE;
}

/* clear(): forget every sample (not while running). */
static PyObject *sampler_clear(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    SamplerObject *s = (SamplerObject *)self;
    if (s->running) {
        PyErr_SetString(PyExc_RuntimeError, "stop the sampler before clearing it");
        return NULL;
    }
    clear_data(s);
    Py_RETURN_NONE;
}

/* One row of snapshot()["functions"]: (filename, firstlineno, name, qualname, code).
 * New reference or NULL. */
static PyObject *function_row(PyCodeObject *co)
{
    return Py_BuildValue("(OiOOO)", co->co_filename, co->co_firstlineno, co->co_name,
                         hp_code_qualname(co), (PyObject *)co);
}

/* snapshot(): the samples as the function profiler's snapshot dict (see
 * capture/functions.py), plus per-thread "samples" / "gil_samples", "ticks" and
 * "main_ticks" (the ticks the main thread took itself), "peeked" / "peek_moved" /
 * "peek_lost" (stackpeek.h: samples of the GIL's holder taken as its stack was at the
 * ask; of those, how many had moved on, and how many had no peeked frame left). New
 * reference or NULL. Stops nothing: while running, a consistent copy (GIL held). */
static PyObject *sampler_snapshot(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    SamplerObject *s = (SamplerObject *)self;
    PyObject *funcs = NULL, *threads = NULL, *out = NULL;
    Py_ssize_t nc = s->codes ? PyList_GET_SIZE(s->codes) : 0;
    if (!(funcs = PyList_New(nc + 1)))
        goto done;
    PyObject *ov2 =
        Py_BuildValue("(sissO)", "~", 0, "<hotpath: call tree size cap reached>", "", Py_None);
    if (!ov2)
        goto done;
    PyList_SET_ITEM(funcs, 0, ov2);
    for (Py_ssize_t i = 0; i < nc; i++) {
        PyObject *row = function_row((PyCodeObject *)PyList_GET_ITEM(s->codes, i));
        if (!row)
            goto done;
        PyList_SET_ITEM(funcs, i + 1, row);
    }
    if (!(threads = PyList_New(0)))
        goto done;
    for (size_t i = 0; i < s->nthreads; i++) {
        sample_thread *t = &s->threads[i];
        PyObject *nodes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(t->tree.n * 32));
        if (!nodes)
            goto done;
        hp_sample_tree_pack(&t->tree, (unsigned char *)PyBytes_AS_STRING(nodes));
        PyObject *d = Py_BuildValue(
            "{s:k,s:k,s:O,s:N,s:i,s:K,s:K}", "ident", t->ident, "native_id", t->native_id, "name",
            t->name ? t->name : Py_None, "nodes", nodes, "truncated", t->tree.truncated, "samples",
            (unsigned long long)t->samples, "gil_samples", (unsigned long long)t->gil_samples);
        if (!d || PyList_Append(threads, d) < 0) {
            Py_XDECREF(d);
            goto done;
        }
        Py_DECREF(d);
    }
    int64_t elapsed = s->elapsed_ns + (s->running ? mono_ns() - s->started_ns : 0);
    out = Py_BuildValue(
        "{s:O,s:O,s:d,s:s,s:d,s:K,s:K,s:d,s:s,s:s,s:K,s:K,s:K}", "functions", funcs, "threads",
        threads, "tick_seconds", 1e-9, "clock",
        s->cpu ? "per-thread CPU time (sampled)" : "wall time (sampled)", "enabled_seconds",
        (double)elapsed * 1e-9, "ticks", (unsigned long long)s->ticks, "main_ticks",
        (unsigned long long)s->main_ticks, "interval", s->thread.interval, "error",
        s->error[0] ? s->error : "", "weight", s->cpu ? "cpu" : "wall", "peeked",
        (unsigned long long)s->peeked, "peek_moved", (unsigned long long)s->peek_moved, "peek_lost",
        (unsigned long long)s->peek_lost);
done:
    Py_XDECREF(funcs);
    Py_XDECREF(threads);
    return out;
}

static PyObject *get_running(PyObject *self, void *closure)
{
    return PyBool_FromLong(((SamplerObject *)self)->running);
}

static PyObject *get_interval(PyObject *self, void *closure)
{
    return PyFloat_FromDouble(((SamplerObject *)self)->thread.interval);
}

static PyObject *get_cpu(PyObject *self, void *closure)
{
    return PyBool_FromLong(((SamplerObject *)self)->cpu);
}

/* _atfork_child(): in a fork child, forget the thread (it does not exist there). */
static PyObject *sampler_atfork(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    atfork_child();
    Py_RETURN_NONE;
}

static int sampler_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    SamplerObject *s = (SamplerObject *)self;
    Py_VISIT(s->codes);
    Py_VISIT(s->active_threads);
    for (size_t i = 0; i < s->nthreads; i++)
        Py_VISIT(s->threads[i].name);
    return 0;
}

static int sampler_clear_refs(PyObject *self)
{
    Py_CLEAR(((SamplerObject *)self)->codes);
    Py_CLEAR(((SamplerObject *)self)->active_threads);
    Py_CLEAR(((SamplerObject *)self)->str_name);
    return 0;
}

static void sampler_dealloc(PyObject *self)
{
    SamplerObject *s = (SamplerObject *)self;
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (s->running) {
        hp_sampler_stop(&s->thread);
        s->running = 0;
        if (active == s)
            active = NULL;
    }
    clear_data(s);
    hp_sampler_fini(&s->thread);
    sampler_clear_refs(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef sampler_methods[] = {
    {"start", sampler_start, METH_NOARGS, "Start sampling every thread."},
    {"stop", sampler_stop, METH_NOARGS, "Stop sampling (joins the sampler thread)."},
    {"clear", sampler_clear, METH_NOARGS, "Forget every sample (when stopped)."},
    {"snapshot", sampler_snapshot, METH_NOARGS, "The samples, as a snapshot dict."},
    {"_atfork_child", sampler_atfork, METH_NOARGS, "Forget the thread in a fork child."},
    {NULL}};

static PyGetSetDef sampler_getset[] = {
    {"running", get_running, NULL, "Whether the sampler thread runs.", NULL},
    {"interval", get_interval, NULL, "Seconds between samples.", NULL},
    {"cpu", get_cpu, NULL, "Whether samples weigh per-thread CPU time.", NULL},
    {NULL}};

static PyType_Slot sampler_slots[] = {
    {Py_tp_new, sampler_new},
    {Py_tp_init, sampler_init},
    {Py_tp_dealloc, sampler_dealloc},
    {Py_tp_traverse, sampler_traverse},
    {Py_tp_clear, sampler_clear_refs},
    {Py_tp_methods, sampler_methods},
    {Py_tp_getset, sampler_getset},
    {Py_tp_doc,
     "Sampler(interval=0.001, cpu=False, max_nodes=1 << 20): samples every "
     "thread's Python stack from a background thread."},
    {0, NULL}};

PyType_Spec hp_sample_sampler_spec = {
    .name = "hotpath._core.Sampler",
    .basicsize = sizeof(SamplerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = sampler_slots,
};
