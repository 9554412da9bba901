/* newthreads.c — see newthreads.h. */
#include "newthreads.h"

/* threading.get<kind>() (new reference) or threading.set<kind>(func) (Py_None
 * returned, new reference); NULL with an exception set. */
static PyObject *call_threading(hp_newthreads_kind kind, PyObject *set_to)
{
    PyObject *threading = PyImport_ImportModule("threading");
    if (!threading)
        return NULL;
    const char *name = kind == HP_NEWTHREADS_PROFILE ? (set_to ? "setprofile" : "getprofile") :
                                                       (set_to ? "settrace" : "gettrace");
    PyObject *r = set_to ? PyObject_CallMethod(threading, name, "O", set_to) :
                           PyObject_CallMethod(threading, name, NULL);
    Py_DECREF(threading);
    return r;
}

int hp_newthreads_take(hp_newthreads_hook *h, hp_newthreads_kind kind, PyObject *ours)
{
    PyObject *now = call_threading(kind, NULL);
    if (!now)
        return -1;
    PyObject *r = call_threading(kind, ours);
    if (!r) {
        Py_DECREF(now);
        return -1;
    }
    Py_DECREF(r);
    if (h->ours && now == h->ours)
        Py_DECREF(now); /* replacing our own: keep the first previous */
    else
        Py_XSETREF(h->previous, now);
    Py_XSETREF(h->ours, Py_NewRef(ours));
    return 0;
}

int hp_newthreads_give_back(hp_newthreads_hook *h, hp_newthreads_kind kind)
{
    if (!h->ours)
        return 0;
    PyObject *now = call_threading(kind, NULL);
    int rc = now ? 0 : -1;
    if (now == h->ours) {
        PyObject *r = call_threading(kind, h->previous ? h->previous : Py_None);
        rc = r ? 0 : -1;
        Py_XDECREF(r);
    }
    Py_XDECREF(now);
    HP_NEWTHREADS_CLEAR(*h);
    return rc;
}
