/* lineprof.c — the LineTracer type: arming and disarming, the Python methods, snapshots.
 *
 * A LineTracer owns a line store (linestore.h) and, in the automatic mode, a sampler
 * (linesampler.h); arm() installs the version's event source (hp_line_source_*) and
 * disarm() removes it. See lineprof.h for the model.
 *
 * Invariants:
 * - At most one tracer is armed (`active_tracer`): one tool id, one trace slot. One that
 *   is armed but paused (by a decorator whose calls have all returned) gives way to
 *   another; one that records does not.
 * - `recording` implies `enabled`; `enabled_ticks` sums the recorded intervals, and
 *   `enabled_at` is the start of the current one.
 * - Failures on the per-event path (out of memory) set `error` and stop recording
 *   (hp_line_tracer_fail); the next disable() raises them.
 *
 * All fields are protected by the GIL; the sampler thread's `stop` flag by its mutex.
 *
 * The automatic mode's sampler (linesampler.c) knows nothing of the tracer: it calls
 * back through the two functions below (sampler_recording, sampler_choose), registered
 * in LineTracer_init.
 */
#include "lineprof.h"
#include "common/module.h"

static hp_line_tracer *active_tracer = NULL; /* the one armed tracer; GIL */

int hp_line_tracer_activate(hp_line_tracer *tr, hp_line_code *lc)
{
    if (lc->active)
        return 0;
    lc->active = 1;
    if (tr->enabled && hp_line_source_activate(tr, lc) < 0) {
        lc->active = 0;
        return -1;
    }
    return 0;
}

/* ---- the automatic mode's side (hp_line_sampler_owner) ---------------------------------- */

static int sampler_recording(void *owner, int64_t *since)
{
    hp_line_tracer *tr = owner;
    *since = tr->enabled_at;
    return tr->recording;
}

/* Choose `code` for line timing unless it already is: add it to the store and activate
 * it, recording when and why. 1 when chosen now. */
static int sampler_choose(void *owner, PyObject *code, uint64_t samples, double seconds)
{
    hp_line_tracer *tr = owner;
    void *extra = NULL;
    if (hp_code_get_extra(code, hp_line_store_extra_index, &extra) < 0)
        PyErr_Clear();
    hp_line_code *lc = extra;
    if (lc && lc->session == tr->store.session && lc->active)
        return 0;
    int created;
    lc = hp_line_store_add(&tr->store, code, &created);
    if (!lc || lc->active)
        return 0;
    lc->auto_chosen = 1;
    lc->chosen_at = (double)(hp_clock_now() - tr->enabled_at) * hp_clock_tick_seconds();
    lc->chosen_samples = samples;
    lc->chosen_seconds = seconds;
    return hp_line_tracer_activate(tr, lc) == 0;
}

/* ---- the type --------------------------------------------------------------------------- */

static int LineTracer_init(hp_line_tracer *tr, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, ":LineTracer", kwlist))
        return -1;
    if (tr->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "cannot re-initialize an enabled LineTracer");
        return -1;
    }
    if (hp_line_store_request_slot() < 0)
        return -1;
    if (!tr->store.session) {
        hp_line_store_init(&tr->store);
        hp_line_sampler_init(&tr->sampler,
                             (hp_line_sampler_owner){.owner = tr,
                                                     .recording = sampler_recording,
                                                     .choose = sampler_choose});
    }
    return 0;
}

static int disarm(hp_line_tracer *tr);

static void LineTracer_dealloc(hp_line_tracer *tr)
{
    PyTypeObject *tp = Py_TYPE(tr);
    PyObject_GC_UnTrack(tr);
    if (tr->enabled && !hp_is_finalizing()) {
        /* Never pass `tr` itself to the unraisable hook: reporting it would resurrect
         * an object being freed. At shutdown the hooks go with the interpreter. */
        hp_saved_exc saved;
        hp_exc_save(&saved);
        if (disarm(tr) < 0)
            PyErr_WriteUnraisable(NULL);
        hp_exc_restore(&saved);
    }
    hp_line_store_free_threads(&tr->store);
    hp_line_store_free_codes(&tr->store);
    Py_CLEAR(tr->sampler.exclude);
    Py_CLEAR(tr->sampler.counts);
    HP_NEWTHREADS_CLEAR(tr->threads_hook);
    if (tr->store.session)
        hp_line_sampler_fini(&tr->sampler);
    tp->tp_free(tr);
    Py_DECREF(tp);
}

static int LineTracer_traverse(hp_line_tracer *tr, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(tr));
    Py_VISIT(tr->sampler.exclude);
    Py_VISIT(tr->sampler.counts);
    for (uint32_t i = 0; i < tr->store.n_codes; i++)
        Py_VISIT(tr->store.codes[i]->code);
    HP_NEWTHREADS_VISIT(tr->threads_hook);
    return 0;
}

static int LineTracer_clear_refs(hp_line_tracer *tr)
{
    Py_CLEAR(tr->sampler.exclude);
    HP_NEWTHREADS_CLEAR(tr->threads_hook);
    if (!tr->sampler.thread.started)
        Py_CLEAR(tr->sampler.counts);
    return 0;
}

/* add_code(code) -> bool: time this code object's lines; True when it was new. */
static PyObject *LineTracer_add_code(hp_line_tracer *tr, PyObject *code)
{
    if (!PyCode_Check(code)) {
        PyErr_Format(PyExc_TypeError, "add_code() needs a code object, not %.200s",
                     Py_TYPE(code)->tp_name);
        return NULL;
    }
    int created;
    hp_line_code *lc = hp_line_store_add(&tr->store, code, &created);
    if (!lc)
        return NULL;
    int was_active = lc->active;
    if (hp_line_tracer_activate(tr, lc) < 0)
        return NULL;
    return PyBool_FromLong(created || !was_active);
}

/* Recording on / off; the time recorded adds up in enabled_ticks. */
static void rec_on(hp_line_tracer *tr)
{
    if (!tr->recording && !tr->error) {
        tr->recording = 1;
        tr->enabled_at = hp_clock_now();
    }
}

static void rec_off(hp_line_tracer *tr)
{
    if (tr->recording) {
        tr->recording = 0;
        tr->enabled_ticks += hp_clock_now() - tr->enabled_at;
    }
}

/* Remove the event source (and the sampler); frames still running lose their open
 * line, as with line_profiler's disable(). 0 / -1 with an exception set.
 * The source's registrations (sys.monitoring callbacks, the trace function) may hold
 * the last references to `tr`: removing them could free it mid-way (a tracer armed by
 * a decorator, then dropped, is disarmed when another arms). So `tr` is held until the
 * end, unless it is already being freed (called from dealloc: refcount 0). */
static int disarm(hp_line_tracer *tr)
{
    if (!tr->enabled)
        return 0;
    int hold = Py_REFCNT(tr) > 0;
    if (hold)
        Py_INCREF(tr);
    hp_line_sampler_stop(&tr->sampler);
    rec_off(tr);
    int rc = hp_line_source_stop(tr);
    tr->enabled = 0;
    if (active_tracer == tr)
        active_tracer = NULL;
    hp_line_store_free_threads(&tr->store);
    if (hold)
        Py_DECREF(tr); /* may free it now: enabled is 0, so dealloc does not disarm */
    return rc;
}

/* Install the event source. A tracer that is only paused (armed by a decorator whose
 * calls have all returned) gives way; one that records does not. 0 / -1. */
static int arm(hp_line_tracer *tr)
{
    if (tr->enabled)
        return 0;
    if (active_tracer && active_tracer != tr) {
        hp_line_tracer *other = active_tracer;
        if (other->explicit || other->by_count) {
            PyErr_SetString(PyExc_RuntimeError,
                            "another hotpath line profiler is enabled; disable it first");
            return -1;
        }
        if (disarm(other) < 0)
            return -1;
    }
    /* reclaim the co_extra slots another tracer may have taken meanwhile */
    if (hp_line_store_reclaim(&tr->store) < 0)
        return -1;
    hp_clock_init();
    tr->enabled = 1; /* before the source starts: new threads check it */
    if (hp_line_source_start(tr) < 0) {
        tr->enabled = 0;
        return -1;
    }
    active_tracer = tr;
    if (tr->auto_mode && hp_line_sampler_start(&tr->sampler) < 0) {
        hp_saved_exc saved;
        hp_exc_save(&saved);
        disarm(tr);
        PyErr_Clear();
        hp_exc_restore(&saved);
        return -1;
    }
    return 0;
}

static PyObject *LineTracer_enable(hp_line_tracer *tr, PyObject *Py_UNUSED(ignored))
{
    if (arm(tr) < 0)
        return NULL;
    tr->explicit = 1;
    rec_on(tr);
    Py_RETURN_NONE;
}

static PyObject *LineTracer_disable(hp_line_tracer *tr, PyObject *Py_UNUSED(ignored))
{
    tr->explicit = 0;
    tr->by_count = 0;
    if (disarm(tr) < 0)
        return NULL;
    if (tr->error) {
        tr->error = 0;
        return PyErr_NoMemory();
    }
    Py_RETURN_NONE;
}

/* The decorator's entry: record while at least one decorated call runs. Never raises
 * for a conflict with another recording tracer (the call then runs unrecorded, with a
 * warning), so decorating cannot break the program. */
static PyObject *LineTracer_enable_by_count(hp_line_tracer *tr, PyObject *Py_UNUSED(ignored))
{
    if (tr->by_count++ == 0 && !tr->explicit) {
        if (arm(tr) < 0) {
            if (!PyErr_ExceptionMatches(PyExc_RuntimeError))
                return NULL;
            PyObject *exc = hp_exc_take();
            int rc = PyErr_WarnFormat(PyExc_RuntimeWarning, 1,
                                      "hotpath: line profiling skipped: %S", exc);
            Py_XDECREF(exc);
            if (rc < 0)
                return NULL;
            Py_RETURN_NONE;
        }
        rec_on(tr);
    }
    Py_RETURN_NONE;
}

/* The decorator's exit. On 3.12+ the tool stays installed, paused (events reach only the
 * chosen code objects, which run through the decorator anyway); on 3.11 the trace hook,
 * which slows every line of the program, comes off. */
static PyObject *LineTracer_disable_by_count(hp_line_tracer *tr, PyObject *Py_UNUSED(ignored))
{
    if (tr->by_count == 0 || --tr->by_count > 0 || tr->explicit)
        Py_RETURN_NONE;
    rec_off(tr);
#if !HP_HAVE_MONITORING
    if (disarm(tr) < 0)
        return NULL;
#endif
    Py_RETURN_NONE;
}

/* auto(interval=0.001, min_seconds=0.01, min_samples=5, fraction=0.05, max_functions=10,
 *      exclude=()) */
static PyObject *LineTracer_auto(hp_line_tracer *tr, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"interval",      "min_seconds", "min_samples", "fraction",
                             "max_functions", "exclude",     NULL};
    hp_line_sampler *s = &tr->sampler;
    double interval = s->thread.interval, fraction = s->fraction, min_seconds = s->min_seconds;
    unsigned long long min_samples = s->min_samples;
    unsigned int max_chosen = s->max_chosen;
    PyObject *exclude = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|ddKdIO!:auto", kwlist, &interval, &min_seconds,
                                     &min_samples, &fraction, &max_chosen, &PyTuple_Type, &exclude))
        return NULL;
    if (tr->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "configure the automatic mode before enable()");
        return NULL;
    }
    if (!(interval >= 1e-5 && interval <= 10.0)) {
        PyErr_SetString(PyExc_ValueError, "interval must be between 1e-5 and 10 seconds");
        return NULL;
    }
    if (exclude) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(exclude); i++) {
            if (!PyUnicode_Check(PyTuple_GET_ITEM(exclude, i))) {
                PyErr_SetString(PyExc_TypeError, "exclude must be a tuple of str");
                return NULL;
            }
        }
        Py_XSETREF(s->exclude, Py_NewRef(exclude));
    }
    s->thread.interval = interval;
    s->min_samples = min_samples ? min_samples : 1;
    s->fraction = fraction;
    s->min_seconds = min_seconds;
    s->max_chosen = max_chosen;
    tr->auto_mode = 1;
    Py_RETURN_NONE;
}

static PyObject *LineTracer_clear_data(hp_line_tracer *tr, PyObject *Py_UNUSED(ignored))
{
    hp_line_store_clear(&tr->store);
    tr->enabled_ticks = 0;
    if (tr->enabled)
        tr->enabled_at = hp_clock_now();
    Py_RETURN_NONE;
}

/* snapshot() -> dict: tick_seconds, clock, enabled_seconds, samples, and codes: a list
 * of (code, [(lineno, hits, ticks), ...] for lines hit, auto) where auto is None or
 * (chosen_at_seconds, samples_when_chosen, sampled_own_seconds_when_chosen). */
static PyObject *LineTracer_snapshot(hp_line_tracer *tr, PyObject *Py_UNUSED(ignored))
{
    PyObject *codes = PyList_New(0);
    if (!codes)
        return NULL;
    for (uint32_t i = 0; i < tr->store.n_codes; i++) {
        hp_line_code *lc = tr->store.codes[i];
        PyObject *lines = PyList_New(0);
        if (!lines)
            goto fail;
        for (int j = 0; j < lc->n; j++) {
            if (!lc->lines[j].hits)
                continue;
            PyObject *row =
                Py_BuildValue("(iKL)", lc->first + j, (unsigned long long)lc->lines[j].hits,
                              (long long)lc->lines[j].ticks);
            if (!row || PyList_Append(lines, row) < 0) {
                Py_XDECREF(row);
                Py_DECREF(lines);
                goto fail;
            }
            Py_DECREF(row);
        }
        PyObject *autoinfo = lc->auto_chosen ?
            Py_BuildValue("(dKd)", lc->chosen_at, (unsigned long long)lc->chosen_samples,
                          lc->chosen_seconds) :
            Py_NewRef(Py_None);
        PyObject *item = autoinfo ? Py_BuildValue("(ONN)", lc->code, lines, autoinfo) : NULL;
        if (!autoinfo)
            Py_DECREF(lines);
        if (!item || PyList_Append(codes, item) < 0) {
            Py_XDECREF(item);
            goto fail;
        }
        Py_DECREF(item);
    }
    int64_t ticks = tr->enabled_ticks + (tr->enabled ? hp_clock_now() - tr->enabled_at : 0);
    double tick_seconds = hp_clock_tick_seconds();
    return Py_BuildValue("{s:N,s:d,s:s,s:d,s:K,s:i}", "codes", codes, "tick_seconds", tick_seconds,
                         "clock", hp_clock_name(), "enabled_seconds", (double)ticks * tick_seconds,
                         "samples", (unsigned long long)tr->sampler.total, "tool_id",
#if HP_HAVE_MONITORING
                         tr->enabled ? tr->tool_id : -1
#else
                         -1
#endif
    );
fail:
    Py_DECREF(codes);
    return NULL;
}

static PyObject *LineTracer_get_enabled(hp_line_tracer *tr, void *closure)
{
    return PyBool_FromLong(tr->recording);
}

static PyObject *LineTracer_get_codes(hp_line_tracer *tr, void *closure)
{
    PyObject *list = PyList_New(0);
    for (uint32_t i = 0; list && i < tr->store.n_codes; i++) {
        if (tr->store.codes[i]->active && PyList_Append(list, tr->store.codes[i]->code) < 0)
            Py_CLEAR(list);
    }
    return list;
}

static PyMethodDef LineTracer_methods[] = {
    {"add_code", (PyCFunction)LineTracer_add_code, METH_O,
     "add_code(code) -> bool: time the lines of this code object (True when new)."},
    {"enable", (PyCFunction)LineTracer_enable, METH_NOARGS, "Start timing lines."},
    {"disable", (PyCFunction)LineTracer_disable, METH_NOARGS, "Stop timing lines."},
    {"enable_by_count", (PyCFunction)LineTracer_enable_by_count, METH_NOARGS,
     "Record while at least one decorated call runs (nests)."},
    {"disable_by_count", (PyCFunction)LineTracer_disable_by_count, METH_NOARGS,
     "Undo one enable_by_count()."},
    {"auto", (PyCFunction)(void (*)(void))LineTracer_auto, METH_VARARGS | METH_KEYWORDS,
     "auto(interval=0.001, min_seconds=0.01, min_samples=5, fraction=0.05, max_functions=10,\n"
     "     exclude=()):\n"
     "choose functions automatically while enabled, by sampling their own time."},
    {"clear", (PyCFunction)LineTracer_clear_data, METH_NOARGS, "Zero every line's counters."},
    {"snapshot", (PyCFunction)LineTracer_snapshot, METH_NOARGS,
     "The timings recorded so far, as plain Python data."},
    {NULL}};

static PyGetSetDef LineTracer_getset[] = {
    {"enabled", (getter)LineTracer_get_enabled, NULL, "whether lines are being timed", NULL},
    {"codes", (getter)LineTracer_get_codes, NULL, "the code objects being timed", NULL},
    {NULL}};

static PyType_Slot LineTracer_slots[] = {
    {Py_tp_doc,
     "LineTracer()\n\nThe C capture behind hotpath.LineProfiler: per-line hits "
     "and ticks of chosen code objects."},
    {Py_tp_init, LineTracer_init},
    {Py_tp_dealloc, LineTracer_dealloc},
    {Py_tp_traverse, LineTracer_traverse},
    {Py_tp_clear, LineTracer_clear_refs},
    {Py_tp_methods, LineTracer_methods},
    {Py_tp_getset, LineTracer_getset},
    {0, NULL}};

PyType_Spec hp_line_tracer_spec = {
    .name = "hotpath._core.LineTracer",
    .basicsize = sizeof(hp_line_tracer),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = LineTracer_slots,
};
