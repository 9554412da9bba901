/* monitoring.h — sys.monitoring (3.12+) for every hotpath hook: one tool-id allocator,
 * one table of the function profiler's events, and callback registration. Shared by the
 * function profiler (source_monitoring.c), the line tracer (lines_monitoring.c) and the
 * floor hook (floor.c), so a fix to how a tool id is taken or which events are hooked
 * reaches all of them.
 *
 * Tool ids: cProfile insists on id 2 (sys.monitoring.PROFILER_ID) and debuggers /
 * coverage on 0 / 1, so hotpath's hooks prefer ids nobody standard claims and take the
 * first free one of an order: HP_TOOLS_FUNC for the function profiler and the floor,
 * HP_TOOLS_LINES for the line tracer (which can record beside the function profiler).
 */
#ifndef HP_MONITORING_H
#define HP_MONITORING_H

#include "compat.h"

#if HP_HAVE_MONITORING
/* Preference orders (initializers for `static const int x[] = ...`). */
#  define HP_TOOLS_FUNC \
    {                   \
      5, 3, 2           \
    }
#  define HP_TOOLS_LINES \
    {                    \
      4, 3               \
    }

/* What a function-profile event means to its callback. */
typedef enum {
    HP_EV_ENTER,   /* PY_START / PY_RESUME / PY_THROW: a Python frame starts or resumes */
    HP_EV_LEAVE,   /* PY_RETURN / PY_YIELD / PY_UNWIND: it leaves */
    HP_EV_C_CALL,  /* CALL: maybe a C function is entered */
    HP_EV_C_LEAVE, /* C_RETURN / C_RAISE: it leaves */
} hp_event_kind;

typedef struct {
    const char *name; /* the attribute of sys.monitoring.events */
    hp_event_kind kind;
    int builtin; /* 1: only with builtins=True (C functions) */
} hp_monitoring_event;

/* The events the function profiler hooks, and so the floor (its do-nothing twin). */
extern const hp_monitoring_event hp_monitoring_func_events[];
extern const int hp_monitoring_n_func_events;

/* Take the first free tool id of order[0..n) under `name` (sys.monitoring.use_tool_id).
 * Returns the id, or -1 with an exception set: a RuntimeError starting "another profiler
 * is active" (profiler.py matches that prefix) naming each id's holder when all are
 * held. `mon` is sys.monitoring (borrowed). */
int hp_monitoring_take_tool(PyObject *mon, const char *name, const int *order, int n);

/* Free `tool` if it is still held under `name` (someone may have freed it and another
 * tool taken it since). Never fails; an exception in flight is kept. */
void hp_monitoring_release_tool(PyObject *mon, int tool, const char *name);

/* Register `def` bound to `self` as tool's callback for the event called `event` (a name
 * in sys.monitoring.events), or None when `def` is NULL; *bit gets the event's bit.
 * `events` is sys.monitoring.events (borrowed). 0 / -1 with an exception set. */
int hp_monitoring_register(PyObject *mon, PyObject *events, int tool, const char *event,
                           PyMethodDef *def, PyObject *self, long *bit);
#endif

#endif /* HP_MONITORING_H */
