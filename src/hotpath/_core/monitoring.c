/* monitoring.c — see monitoring.h. */
#include "monitoring.h"

#if HP_HAVE_MONITORING
int hp_monitoring_register(PyObject *mon, PyObject *events, int tool, const char *event,
                           PyMethodDef *def, PyObject *self, long *bit)
{
    PyObject *ev = PyObject_GetAttrString(events, event);
    *bit = ev ? PyLong_AsLong(ev) : -1;
    PyObject *cb = def ? PyCFunction_NewEx(def, self, NULL) : Py_NewRef(Py_None);
    PyObject *r = (ev && cb && *bit >= 0) ?
        PyObject_CallMethod(mon, "register_callback", "iOO", tool, ev, cb) : NULL;
    Py_XDECREF(ev);
    Py_XDECREF(cb);
    Py_XDECREF(r);
    return r ? 0 : -1;
}
#endif
