/* memtrace.h — 3.11's line events for the memory line view, from a C trace function.
 *
 * On 3.11 the only source of line events is the trace hook. A Python trace function costs
 * the program allocations no hook can take back: before each call of it CPython copies
 * the frame's locals into a dict (PyFrame_FastToLocals), and every unbound local raises
 * and clears a KeyError there. A C trace function gets none of that; what remains is the
 * frame object CPython creates for every call while any trace function is set, which the
 * hook forgets at once (memforget.h). Frames of code not chosen are muted on their call
 * event (f_trace_lines = False); chosen code's call, line and return events go to a
 * Python callback, called with the tracker paused.
 *
 * Threads: the hook is set on every thread that exists and, through threading.settrace,
 * on every thread started later (its first event runs a bootstrap that swaps itself for
 * the C hook; that first frame's locals dict is forgotten too); threading's previous
 * hook is kept and put back by settrace(None) (newthreads.h). A failed settrace(callback)
 * leaves nothing installed.
 *
 * Chosen code objects are marked in a co_extra slot with the current generation, so a
 * look-up is O(1) and a mark left by an earlier session means nothing. All of it is
 * protected by the GIL. 3.12+ uses sys.monitoring (memlines.py) and none of this.
 */
#ifndef HP_MEMTRACE_H
#define HP_MEMTRACE_H

#include "common/compat.h"

/* settrace(callback or None): callback(frame, event) with event 0 call, 2 line, 3 return
 * (PyTrace_*), for marked code only. None, or NULL with an exception set. */
PyObject *hp_mem_trace_set(PyObject *callback);

/* watch(code): mark `code` for the callback. None, or NULL with an exception set. */
PyObject *hp_mem_trace_watch(PyObject *code);

#endif /* HP_MEMTRACE_H */
