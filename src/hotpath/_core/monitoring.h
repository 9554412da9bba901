/* monitoring.h — registering C callbacks with sys.monitoring (3.12+), shared by the
 * function profiler, the line tracer and the floor hook. */
#ifndef HP_MONITORING_H
#define HP_MONITORING_H

#include "compat.h"

#if HP_HAVE_MONITORING
/* Register `def` bound to `self` as tool's callback for the event called `event` (a name
 * in sys.monitoring.events), or None when `def` is NULL; *bit gets the event's bit.
 * `events` is sys.monitoring.events (borrowed). 0 / -1 with an exception set. */
int hp_monitoring_register(PyObject *mon, PyObject *events, int tool, const char *event,
                           PyMethodDef *def, PyObject *self, long *bit);
#endif

#endif /* HP_MONITORING_H */
