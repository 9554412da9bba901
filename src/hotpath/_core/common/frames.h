/* frames.h — reading a thread's Python frames: the version shims over CPython's internal
 * frame layout, in one place.
 *
 * _PyInterpreterFrame is only declared with Py_BUILD_CORE (internal/pycore_frame.h), so
 * this header is included only by the files that read frames or the raw thread state
 * (memhooks.c: stack capture; memstacks.c: its GIL check), never by compat.h.
 *
 * What differs by version (finding the innermost frame and the thread state without a
 * GIL check are public-header shims: hp_tstate_frame / hp_tstate_unchecked in compat.h):
 *   header           3.11-3.13: internal/pycore_frame.h
 *                    3.14+: internal/pycore_interpframe.h (the struct moved to
 *                    pycore_interpframe_structs.h; f_executable became a tagged stack ref)
 *   code object      3.11, 3.12: frame->f_code        3.13+: _PyFrame_GetCode()
 *   skipped frames   incomplete ones (_PyFrame_IsIncomplete: not started yet) on every
 *                    version; from 3.12 also the entry frames owned by the C stack (3.14+:
 *                    _PyFrame_IsIncomplete covers those: owner >= FRAME_OWNED_BY_INTERPRETER)
 * The public PyUnstable_InterpreterFrame_GetCode returns a strong reference, which an
 * allocator hook running without the GIL must not take; so these read the layout, and
 * hp_frames_selfcheck (module.c's _frames_selfcheck, run by the tests and before the
 * memory tracker starts) compares them with the public frame API on the running
 * interpreter, so a changed layout fails loudly instead of reading garbage.
 * Nothing here checks the GIL: a thread may read its own frames without it (no other
 * thread changes them).
 */
#ifndef HP_FRAMES_H
#define HP_FRAMES_H

#include "compat.h"

#define Py_BUILD_CORE 1
#if HP_PY314
#  include <internal/pycore_interpframe.h>
#else
#  include <internal/pycore_frame.h>
#endif
#undef Py_BUILD_CORE

/* The frame that called `f`, or NULL. */
static inline _PyInterpreterFrame *hp_frame_previous(_PyInterpreterFrame *f)
{
    return f->previous;
}

/* The code object `f` runs (borrowed). */
static inline PyCodeObject *hp_frame_code(_PyInterpreterFrame *f)
{
#if HP_PY313
    return _PyFrame_GetCode(f);
#else
    return f->f_code;
#endif
}

/* 1 when `f` is not a Python function's frame to report (not started, or a C-stack shim). */
static inline int hp_frame_skipped(_PyInterpreterFrame *f)
{
#if HP_PY312 && !HP_PY314
    if (f->owner == FRAME_OWNED_BY_CSTACK)
        return 1;
#endif
    return _PyFrame_IsIncomplete(f);
}

/* The index (in code units) of the instruction `f` is executing. */
static inline int hp_frame_lasti(_PyInterpreterFrame *f)
{
    return _PyInterpreterFrame_LASTI(f);
}

/* The code objects (borrowed) of the frames on `ts`'s stack, innermost first, skipping
 * those hp_frame_skipped skips: at most `max` into `out` (and, when `frames` is not NULL,
 * each frame's address into it); returns how many. *cut (if not NULL) is 1 when outer
 * frames did not fit. Reads frames only: the caller holds the GIL (another thread's
 * stack) or is `ts`'s thread. Never allocates, never fails. */
static inline int hp_stack_codes(PyThreadState *ts, PyCodeObject **out, const void **frames,
                                 int max, int *cut)
{
    int n = 0;
    _PyInterpreterFrame *f = hp_tstate_frame(ts);
    for (; f; f = hp_frame_previous(f)) {
        if (hp_frame_skipped(f))
            continue;
        if (n == max)
            break;
        if (frames)
            frames[n] = f;
        out[n++] = hp_frame_code(f);
    }
    if (cut)
        *cut = f != NULL;
    return n;
}

/* The same two answers for a *copy* of a frame that another thread may be running
 * (stackpeek.c): the code object's address, read from the copy's bits only (never
 * dereferenced, so never a PyCode_Check through a pointer that may be dead), and whether
 * the copy is a C-stack or interpreter shim by its owner alone (a frame not started yet
 * would need its code object read; the peek keeps those). */
static inline const void *hp_frame_copy_code(_PyInterpreterFrame *f)
{
#if HP_PY314
    return PyStackRef_AsPyObjectBorrow(f->f_executable);
#elif HP_PY313
    return f->f_executable;
#else
    return f->f_code;
#endif
}

static inline int hp_frame_copy_skipped(const _PyInterpreterFrame *f)
{
#if HP_PY314
    return f->owner >= FRAME_OWNED_BY_INTERPRETER;
#elif HP_PY312
    return f->owner == FRAME_OWNED_BY_CSTACK;
#else
    (void)f;
    return 0;
#endif
}

/* See frames.c: 0 when frames.h's reads agree with the public frame API on the calling
 * thread's stack; -1 with `why` filled when they do not. Needs the GIL. */
int hp_frames_selfcheck(char *why, size_t n);

#endif /* HP_FRAMES_H */
