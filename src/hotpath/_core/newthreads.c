/* newthreads.c — see newthreads.h. */
#include "newthreads.h"

int hp_newthreads_set(const char *setter, PyObject *func)
{
    PyObject *threading = PyImport_ImportModule("threading");
    if (!threading)
        return -1;
    PyObject *r = PyObject_CallMethod(threading, setter, "O", func);
    Py_DECREF(threading);
    Py_XDECREF(r);
    return r ? 0 : -1;
}
