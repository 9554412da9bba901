/* linesampler.c — the automatic mode's sampler thread (see linesampler.h).
 *
 * The thread is common/sampler.c's: it has a thread state of its own and holds the GIL
 * only while it takes a sample; it reads each thread's stack with frames.h's
 * hp_stack_codes, the walk the sampling mode (sample/sampleprof.c) uses. A sample leaves
 * that thread state's exception as it found it. Choosing a function goes through the owner's `choose` (the LineTracer's:
 * hp_line_store_add and activation, as add_code() does).
 *
 * A sample taken while the thread is importing a module (importlib's bootstrap frames
 * are on its stack) is not counted: a module's import-time work (re.compile, reading
 * files) runs once and must not use up the choice of what the program keeps running.
 */
#include "linesampler.h"
#include "common/clock.h"
#include "common/frames.h"

#include <string.h>
#include <time.h>

void hp_line_sampler_init(hp_line_sampler *s, hp_line_sampler_owner owner)
{
    hp_sampler_init(&s->thread);
    s->owner = owner;
    s->thread.interval = 0.001;
    s->min_samples = 5;
    s->min_seconds = 0.01;
    s->fraction = 0.05;
    s->max_chosen = 10;
}

void hp_line_sampler_fini(hp_line_sampler *s)
{
    hp_sampler_fini(&s->thread);
}

/* Whether the sampler may choose `co`: a function (not module or class body) from a
 * real file outside the excluded prefixes. */
static int eligible(hp_line_sampler *s, PyCodeObject *co)
{
    if (!(co->co_flags & CO_NEWLOCALS))
        return 0;
    PyObject *fn = co->co_filename;
    if (!PyUnicode_Check(fn) || PyUnicode_GET_LENGTH(fn) == 0 || PyUnicode_READ_CHAR(fn, 0) == '<')
        return 0;
    if (s->exclude) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(s->exclude); i++) {
            Py_ssize_t m =
                PyUnicode_Tailmatch(fn, PyTuple_GET_ITEM(s->exclude, i), 0, PY_SSIZE_T_MAX, -1);
            if (m != 0) {
                PyErr_Clear();
                return 0;
            }
        }
    }
    return 1;
}

/* Whether the ASCII `prefix` starts the str `s`. */
static int starts_with(PyObject *s, const char *prefix)
{
    Py_ssize_t n = (Py_ssize_t)strlen(prefix);
    if (!PyUnicode_Check(s) || PyUnicode_GET_LENGTH(s) < n ||
        PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND)
        return 0;
    return memcmp(PyUnicode_DATA(s), prefix, (size_t)n) == 0;
}

/* Whether the `n` code objects of a stack (innermost first, hp_stack_codes) show an
 * import in progress: every import of a module not yet loaded runs importlib._bootstrap's
 * Python code (frozen: "<frozen importlib._bootstrap>", "..._bootstrap_external>"), which
 * calls the module's body. An import further out than HP_LINE_SAMPLE_DEPTH frames is not
 * seen. Reads code objects only (GIL held); no allocation. */
static int importing(PyCodeObject *const *codes, int n)
{
    for (int i = 0; i < n; i++) {
        PyObject *fn = codes[i]->co_filename;
        if (PyUnicode_Check(fn) && PyUnicode_GET_LENGTH(fn) > 0 &&
            PyUnicode_READ_CHAR(fn, 0) == '<' && starts_with(fn, "<frozen importlib._bootstrap"))
            return 1;
    }
    return 0;
}

/* One sample of every other thread's innermost frame; chooses functions past the
 * threshold. Runs with the GIL held, in the sampler thread. Never raises. */
static void take_sample(void *arg, PyThreadState *me)
{
    hp_line_sampler *s = arg;
    int64_t since;
    if (!s->owner.recording(s->owner.owner, &since))
        return;
    /* each sample stands for the wall time since the previous one: taking the GIL can
     * wait a switch interval (5 ms), so the rate is not the requested one */
    int64_t now = hp_clock_now();
    double dt = (double)(now - (s->last ? s->last : since)) * hp_clock_tick_seconds();
    s->last = now;
    hp_saved_exc saved;
    hp_exc_save(&saved);
    PyInterpreterState *interp = PyThreadState_GetInterpreter(me);
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (ts == me)
            continue;
        int n = hp_stack_codes(ts, s->stack, NULL, HP_LINE_SAMPLE_DEPTH, NULL);
        if (n == 0 || importing(s->stack, n))
            continue; /* no Python code running, or import-time work */
        PyCodeObject *co = (PyCodeObject *)Py_NewRef(s->stack[0]);
        s->total++;
        s->total_seconds += dt;
        unsigned long long hits = 1;
        double secs = dt;
        PyObject *old = PyDict_GetItemWithError(s->counts, (PyObject *)co);
        if (old && PyTuple_Check(old) && PyTuple_GET_SIZE(old) == 2) {
            hits += PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(old, 0));
            secs += PyFloat_AsDouble(PyTuple_GET_ITEM(old, 1));
        }
        PyObject *v = Py_BuildValue("(Kd)", hits, secs);
        if (!v || PyDict_SetItem(s->counts, (PyObject *)co, v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(co);
            PyErr_Clear();
            continue;
        }
        Py_DECREF(v);
        /* The share is counted in samples, not in the seconds they stand for: one
         * sample that waited long for the GIL (a loaded machine) must not make a
         * function look hot; the seconds only set the minimum own time. */
        if (s->chosen < s->max_chosen && hits >= s->min_samples && secs >= s->min_seconds &&
            (double)hits >= s->fraction * (double)s->total && eligible(s, co)) {
            if (s->owner.choose(s->owner.owner, (PyObject *)co, hits, secs))
                s->chosen++;
            PyErr_Clear();
        }
        Py_DECREF(co);
    }
    hp_exc_restore(&saved);
}

int hp_line_sampler_start(hp_line_sampler *s)
{
    if (!s->counts && !(s->counts = PyDict_New()))
        return -1;
    s->last = 0;
    s->thread.python = 1;
    s->thread.tick = take_sample;
    s->thread.arg = s;
    if (hp_sampler_start(&s->thread) < 0) {
        PyErr_SetString(PyExc_RuntimeError, "hotpath: cannot start the sampler thread");
        return -1;
    }
    return 0;
}

void hp_line_sampler_stop(hp_line_sampler *s)
{
    hp_sampler_stop(&s->thread);
}
