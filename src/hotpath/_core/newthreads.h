/* newthreads.h — reaching threads started later, through the threading module.
 *
 * Hooks installed with PyEval_SetProfile/SetTrace (or a thread-naming callback) only
 * reach the threads that exist; threading.setprofile / threading.settrace make every
 * threading.Thread started afterwards call our bootstrap first.
 */
#ifndef HP_NEWTHREADS_H
#define HP_NEWTHREADS_H

#include "compat.h"

/* threading.<setter>(func), setter being "setprofile" or "settrace"; func borrowed,
 * Py_None to remove. 0 / -1 with an exception set. */
int hp_newthreads_set(const char *setter, PyObject *func);

#endif /* HP_NEWTHREADS_H */
