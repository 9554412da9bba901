/* module.c — hotpath._core: module init, types and per-module state only.
 *
 * Multi-phase init; the types are heap types kept in the module state. The co_extra
 * index is process-wide (code objects are shared by every module instance), so it is
 * requested once and kept in funcreg.c.
 */
#include "compat.h"
#include "clock.h"
#include "frames.h"
#include "module.h"
#include "stackpeek.h"

typedef struct {
    PyObject *profiler_type;
    PyObject *floor_type;
    PyObject *linetracer_type; /* lineprof.c */
    PyObject *memtracker_type; /* memtrack.c */
    PyObject *sampler_type;    /* sampleprof.c */
} hp_module_state;

static inline hp_module_state *get_state(PyObject *m)
{
    return (hp_module_state *)PyModule_GetState(m);
}

static PyObject *clock_info(PyObject *m, PyObject *Py_UNUSED(ignored))
{
    return Py_BuildValue("{s:s,s:d}", "name", hp_clock_name(), "tick_seconds",
                         hp_clock_tick_seconds());
}

/* _frames_selfcheck(): None when frames.h reads this interpreter's frames as the public
 * API does, and stackpeek.h's peek reads them as frames.h does; RuntimeError saying
 * where they differ otherwise (see frames.c, stackpeek.c). */
static PyObject *frames_selfcheck(PyObject *m, PyObject *Py_UNUSED(ignored))
{
    char why[160];
    if (hp_frames_selfcheck(why, sizeof why) < 0 || hp_stack_peek_selfcheck(why, sizeof why) < 0)
        return PyErr_Format(PyExc_RuntimeError,
                            "hotpath: internal frame layout check "
                            "failed on Python %s: %s",
                            Py_GetVersion(), why);
    Py_RETURN_NONE;
}

static int add_type(PyObject *m, PyType_Spec *spec, PyObject **slot)
{
    *slot = PyType_FromModuleAndSpec(m, spec, NULL);
    if (!*slot)
        return -1;
    return PyModule_AddObjectRef(m, strrchr(spec->name, '.') + 1, *slot);
}

static int hp_exec(PyObject *m)
{
    hp_clock_init();
    if (hp_func_reg_request_extra_index() < 0)
        return -1;
    hp_module_state *st = get_state(m);
    if (add_type(m, &hp_func_profiler_spec, &st->profiler_type) < 0 ||
        add_type(m, &hp_func_floor_spec, &st->floor_type) < 0 ||
        add_type(m, &hp_line_tracer_spec, &st->linetracer_type) < 0 ||
        add_type(m, &hp_mem_tracker_spec, &st->memtracker_type) < 0 ||
        add_type(m, &hp_sample_sampler_spec, &st->sampler_type) < 0)
        return -1;
    return PyModule_AddIntConstant(m, "HAVE_MONITORING", HP_HAVE_MONITORING);
}

static int hp_traverse(PyObject *m, visitproc visit, void *arg)
{
    Py_VISIT(get_state(m)->profiler_type);
    Py_VISIT(get_state(m)->floor_type);
    Py_VISIT(get_state(m)->linetracer_type);
    Py_VISIT(get_state(m)->memtracker_type);
    Py_VISIT(get_state(m)->sampler_type);
    return 0;
}

static int hp_clear(PyObject *m)
{
    Py_CLEAR(get_state(m)->profiler_type);
    Py_CLEAR(get_state(m)->floor_type);
    Py_CLEAR(get_state(m)->linetracer_type);
    Py_CLEAR(get_state(m)->memtracker_type);
    Py_CLEAR(get_state(m)->sampler_type);
    return 0;
}

static void hp_free(void *m)
{
    hp_clear((PyObject *)m);
}

static PyMethodDef hp_methods[] = {
    {"clock_info", clock_info, METH_NOARGS, "The tick source and seconds per tick."},
    {"_frames_selfcheck", frames_selfcheck, METH_NOARGS,
     "Check the internal frame reads against the public frame API (raises if they differ)."},
    {"_tree_stats", (PyCFunction)(void (*)(void))hp_func_tree_stats, METH_FASTCALL,
     "Flat and caller-callee totals of a columnar call tree (model.calltree.call_stats)."},
    {"_tree_check", (PyCFunction)(void (*)(void))hp_func_tree_check, METH_FASTCALL,
     "0, or the first node whose function or parent is out of range (fileformat)."},
    {"_tree_spans", (PyCFunction)(void (*)(void))hp_func_tree_spans, METH_FASTCALL,
     "Every node's width, max(total, self + children's widths) (report.base.node_spans)."},
    {NULL}};

static PyModuleDef_Slot hp_slots[] = {
    {Py_mod_exec, hp_exec},
#if HP_PY312
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
    {0, NULL}};

static struct PyModuleDef hp_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "hotpath._core",
    .m_doc = "hotpath's capture core: clock, call trees, function profiler.",
    .m_size = sizeof(hp_module_state),
    .m_methods = hp_methods,
    .m_slots = hp_slots,
    .m_traverse = hp_traverse,
    .m_clear = hp_clear,
    .m_free = hp_free,
};

PyMODINIT_FUNC PyInit__core(void)
{
    return PyModuleDef_Init(&hp_module);
}
