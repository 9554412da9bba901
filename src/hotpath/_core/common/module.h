/* module.h — what each subsystem contributes to hotpath._core: the specs of its types
 * and the process-wide set-up module init runs. Declared here and defined in the
 * subsystems (func/, line/, mem/, sample/), so module.c includes none of their headers: common/
 * never includes a subsystem, and a subsystem reaches the module only through this file.
 */
#ifndef HP_MODULE_H
#define HP_MODULE_H

#include "compat.h"

extern PyType_Spec hp_func_profiler_spec;  /* func/funcprof.c */
extern PyType_Spec hp_func_floor_spec;     /* func/floor.c */
extern PyType_Spec hp_line_tracer_spec;    /* line/lineprof.c */
extern PyType_Spec hp_mem_tracker_spec;    /* mem/memtrack.c */
extern PyType_Spec hp_sample_sampler_spec; /* sample/sampleprof.c */

/* func/funcreg.c: the co_extra index, requested once per process at module init (with
 * the free function that sends death notices). 0 / -1 with an exception set. */
int hp_func_reg_request_extra_index(void);

/* func/treestats.c: _core._tree_stats (METH_FASTCALL), flat and edge totals of a
 * columnar call tree for the model. */
PyObject *hp_func_tree_stats(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
/* _core._tree_check (the file reader's structural check) and _core._tree_spans (node
 * widths for layouts), over the same columns. */
PyObject *hp_func_tree_check(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *hp_func_tree_spans(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#endif /* HP_MODULE_H */
