/* newthreads.h — reaching threads started later, through the threading module.
 *
 * Hooks installed with PyEval_SetProfile/SetTrace (or a thread-naming callback) only
 * reach the threads that exist; threading.setprofile / threading.settrace make every
 * threading.Thread started afterwards call our bootstrap first. The program may have set
 * one of those hooks itself: taking it over keeps the previous hook, and giving it back
 * puts that one back — unless someone replaced ours meanwhile, whose hook then stays.
 * Every hotpath hook that uses threading's hooks goes through this pair (the function
 * profiler, the 3.11 line tracer, the 3.11 memory line tracer).
 */
#ifndef HP_NEWTHREADS_H
#define HP_NEWTHREADS_H

#include "compat.h"

typedef enum {
    HP_NEWTHREADS_PROFILE,
    HP_NEWTHREADS_TRACE
} hp_newthreads_kind;

/* One taken-over threading hook. Zero-initialised = not held. Protected by the GIL. */
typedef struct {
    PyObject *ours;     /* the hook we installed (strong), NULL when not held */
    PyObject *previous; /* the hook it replaced (strong; Py_None when there was none) */
} hp_newthreads_hook;

/* Install `ours` (borrowed) as threading's profile / trace hook, keeping the previous
 * one in h (taking over again while held keeps the first previous). 0 / -1 with an
 * exception set, and then nothing changed. */
int hp_newthreads_take(hp_newthreads_hook *h, hp_newthreads_kind kind, PyObject *ours);

/* Put the previous hook back if ours is still installed; h is emptied either way.
 * Nothing to do when not held. 0 / -1 with an exception set. */
int hp_newthreads_give_back(hp_newthreads_hook *h, hp_newthreads_kind kind);

/* For tp_traverse / tp_clear of the owner. */
#define HP_NEWTHREADS_VISIT(h) \
  do {                         \
    Py_VISIT((h).ours);        \
    Py_VISIT((h).previous);    \
  } while (0)
#define HP_NEWTHREADS_CLEAR(h) \
  do {                         \
    Py_CLEAR((h).ours);        \
    Py_CLEAR((h).previous);    \
  } while (0)

#endif /* HP_NEWTHREADS_H */
