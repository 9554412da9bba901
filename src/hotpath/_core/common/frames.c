/* frames.c — checking frames.h's reading of the internal frame layout against the public
 * frame API, on the interpreter actually running.
 *
 * frames.h reads CPython's internal _PyInterpreterFrame (the allocator hooks need the
 * stack without taking a reference or the GIL). A layout that changed under a rebuilt or
 * patched interpreter would make those reads return garbage; this check walks the calling
 * thread's stack both ways and says where they disagree, so callers fail loudly instead.
 */
#include "frames.h"

/* 0 when both walks agree on every frame (code object and instruction offset) and on
 * their number; -1 with `why` (size `n`) filled otherwise. Needs the GIL; never raises
 * (a Python error met on the way is cleared and reported through `why`). */
int hp_frames_selfcheck(char *why, size_t n)
{
    PyThreadState *ts = PyThreadState_Get();
    _PyInterpreterFrame *f = hp_tstate_frame(ts);
    PyFrameObject *pf = PyThreadState_GetFrame(ts); /* new reference or NULL */
    int depth = 0, rc = 0;
    for (;;) {
        while (f && hp_frame_skipped(f))
            f = hp_frame_previous(f);
        if (!f || !pf) {
            if (f || pf) {
                snprintf(why, n, "frame %d: the %s walk ended first", depth,
                         f ? "public" : "internal");
                rc = -1;
            }
            break;
        }
        PyCodeObject *code = PyFrame_GetCode(pf); /* new reference */
        int lasti_bytes = PyFrame_GetLasti(pf);
        int same_code = code == hp_frame_code(f);
        int same_lasti = lasti_bytes == hp_frame_lasti(f) * (int)sizeof(_Py_CODEUNIT);
        Py_DECREF(code);
        if (!same_code || !same_lasti) {
            snprintf(why, n, "frame %d: %s differs (internal lasti %d, public %d bytes)", depth,
                     same_code ? "instruction offset" : "code object", hp_frame_lasti(f),
                     lasti_bytes);
            rc = -1;
            break;
        }
        PyFrameObject *back = PyFrame_GetBack(pf); /* new reference or NULL */
        Py_DECREF(pf);
        pf = back;
        f = hp_frame_previous(f);
        depth++;
    }
    Py_XDECREF(pf);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        snprintf(why, n, "a Python error while walking the public frames");
        rc = -1;
    }
    if (rc == 0 && depth == 0) {
        snprintf(why, n, "no Python frame to compare");
        rc = -1;
    }
    return rc;
}
