/* stackpeek.h — the top frames of a thread that is running Python code, read from another
 * thread without the GIL, and put back into the stack the thread shows later.
 *
 * Why: a sample of the thread that holds the GIL is taken when that thread reaches its
 * next eval-breaker check (a pending call, or dropping the GIL on request), not when the
 * sampler asked. Those checks sit at function entries and loop back-edges, so the time
 * between the ask and the check lands on the next function called: a caller's
 * straight-line work is charged to its callees (measured: a loop's own 80 ms sampled as
 * 8 ms). So the sampler thread peeks at the holder's innermost frames at the moment it
 * asks — each frame's address and code object's address, through saferead.h (the frames
 * change under the read) — and when the sample is taken, hp_stack_peek_match finds where
 * the peeked frames meet the stack walked then: the sample is the stack as it was at the
 * ask. Frames pushed since are dropped; frames popped since are put back from the peek.
 *
 * Nothing read by the peek is dereferenced as a Python object: frame addresses are only
 * compared with the frames walked under the GIL, and a popped frame's code address is
 * used only when the caller already holds that code object, or, under the GIL, after a
 * safe read of its header says it is still a live code object (sampleprof.c's
 * peeked_row); so a torn or stale read can misplace one sample, never touch freed
 * memory.
 */
#ifndef HP_STACKPEEK_H
#define HP_STACKPEEK_H

#include "compat.h"

/* Frames peeked: the ones that can return between the ask and the eval-breaker check
 * (returns do not check it; the next call or loop does) are few. */
#define HP_PEEK_FRAMES 6

typedef struct {
    const void *frame; /* the _PyInterpreterFrame's address */
    const void *code;  /* its code object's address (not a reference) */
} hp_peek_frame;

typedef struct {
    int64_t asked_ns; /* the caller's: when the sample was asked for (set by the caller) */
    const void *ts;   /* the thread state peeked at (compared only), or NULL: no peek */
    int n;            /* frames in `f`, innermost first */
    hp_peek_frame f[HP_PEEK_FRAMES];
} hp_stack_peek;

/* Where the last peek found things, so that the next one can read the frame pointer and
 * the frames around where they were in one kernel copy: separate reads are a microsecond
 * apart each (a system call), and a tiny function can return and its caller push another
 * frame at the same address in that time, so a pointer read and then the frame read a
 * microsecond later would name the wrong function. One per sampler; only the sampler
 * thread touches it. */
typedef struct {
    const void *ts;                /* the thread state last peeked at (compared only) */
    const void *cframe;            /* 3.11, 3.12: its C frame then (on its C stack) */
    uintptr_t near;                /* its innermost frame's address then; 0: none */
    unsigned char pages[3 * 4096]; /* the copy the next peek reads into (stackpeek.c) */
} hp_peek_cache;

/* Peek at `ts`'s innermost frames (skipping C-stack shims), without the GIL, from another
 * thread. `mapped` = 1 promises that `ts` and its thread's C stack stay mapped while the
 * peek runs (the main thread's: they live until the interpreter ends), so its frame
 * pointer is read by plain loads, just after the frames' pages; otherwise everything
 * goes through saferead.h (a thread state may be freed under the read). Fills `out` (out->n may be 0: no Python frame, or nothing readable). `cache`
 * (zeroed at first) carries guesses from one peek to the next and the copy's buffer. Never faults;
 * one system call when the guesses hold (the stack stayed within a few pages), a few
 * more when not. */
void hp_stack_peek_read(const PyThreadState *ts, int mapped, hp_stack_peek *out,
                        hp_peek_cache *cache);

/* Where `peek` meets a stack walked later under the GIL (`frames`/`codes`, `n` of them,
 * innermost first, as hp_stack_codes gives): the smallest j such that peek frame j is
 * walked frame i (same address, same code). Returns j and sets *at to i; -1 when no
 * peeked frame is on the stack any more. */
int hp_stack_peek_match(const hp_stack_peek *peek, const void *const *frames,
                        PyCodeObject *const *codes, int n, int *at);

/* 0 when a peek at the calling thread's own stack (without and with the cache's guesses)
 * names the same frames and code objects as frames.h's walk; -1 with `why` filled when
 * not (a layout the peek misreads). Needs the GIL; module.c's _frames_selfcheck runs it. */
int hp_stack_peek_selfcheck(char *why, size_t n);

#endif /* HP_STACKPEEK_H */
