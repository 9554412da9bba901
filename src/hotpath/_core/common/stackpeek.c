/* stackpeek.c — peeking at a running thread's top frames (see stackpeek.h).
 *
 * One gathered read (saferead.h's hp_safe_readv) takes, in this order: the thread
 * state's frame pointer (3.11/3.12: its C-frame pointer, then the guessed C frame's
 * frame pointer), the memory page holding the last peek's innermost frame, the page
 * above it and the page below it. Frames found in those pages are read from that copy,
 * taken within a fraction of a microsecond of the pointer; a frame elsewhere (another
 * data-stack chunk, a generator's frame, a guess that missed) costs a read of its own.
 */
#include "stackpeek.h"

#include "frames.h"
#include "saferead.h"

#include <stddef.h>
#include <string.h>

#define PAGE ((uintptr_t)4096)
#define HEADER offsetof(_PyInterpreterFrame, localsplus) /* the part read: no locals */

/* The pages copied by the gathered read: [lo, hi) of the process's addresses, held at
 * bytes[x - base] for base = the lowest page asked for (bytes: the cache's buffer). */
typedef struct {
    uintptr_t base, lo, hi;
    unsigned char *bytes;
} window;

static void walk(const window *w, uintptr_t addr, hp_stack_peek *out);

/* Copy the frame header at `addr` into `copy`, from the window when it lies there,
 * else by a read of its own. 0, or -1 when unreadable. */
static int read_frame(const window *w, uintptr_t addr, _PyInterpreterFrame *copy)
{
    /* compared without `addr + HEADER`: a torn `previous` may be anything, even ~0 */
    if (addr >= w->lo && addr < w->hi && w->hi - addr >= HEADER) {
        memcpy(copy, w->bytes + (addr - w->base), HEADER);
        return 0;
    }
    return hp_safe_read(copy, (const void *)addr, HEADER);
}

/* The three page spans of a gathered read around `near` (the last innermost frame), in
 * the order they are worth having: its page, the page above (deeper calls), the page
 * below; into spans[0..3). Sets w->base: bytes[] holds page - 1, page, page + 1. */
static int window_spans(window *w, uintptr_t near, hp_read_span *spans)
{
    uintptr_t page = near & ~(PAGE - 1);
    w->base = page - PAGE;
    spans[0] = (hp_read_span){w->bytes + PAGE, (const void *)page, PAGE};
    spans[1] = (hp_read_span){w->bytes + 2 * PAGE, (const void *)(page + PAGE), PAGE};
    spans[2] = (hp_read_span){w->bytes, (const void *)(page - PAGE), PAGE};
    return 3;
}

/* After the read: `pages` of window_spans' spans (0-3, leading) were copied whole. */
static void window_got(window *w, uintptr_t near, int pages)
{
    if (pages <= 0)
        return;
    uintptr_t page = near & ~(PAGE - 1);
    w->lo = pages >= 3 ? page - PAGE : page;
    w->hi = pages >= 2 ? page + 2 * PAGE : page + PAGE;
}

/* The innermost frame of a thread state that stays mapped (`mapped`), by plain loads:
 * 3.13+ ts->current_frame; 3.11, 3.12 ts->cframe->current_frame (the C frame is on that
 * thread's C stack, which stays mapped too, stale or not). */
static const void *loaded_frame(const PyThreadState *ts)
{
#if HP_PY313
    return __atomic_load_n(&ts->current_frame, __ATOMIC_ACQUIRE);
#else
    const _PyCFrame *cf = __atomic_load_n(&ts->cframe, __ATOMIC_ACQUIRE);
    return cf ? __atomic_load_n(&cf->current_frame, __ATOMIC_ACQUIRE) : NULL;
#endif
}

/* mapped = 1: the pages first, then the frame pointer by a plain load a fraction of a
 * microsecond later (as close as two reads get: each span of a gathered read costs
 * about half a microsecond). */
static void read_mapped(const PyThreadState *ts, hp_stack_peek *out, hp_peek_cache *cache)
{
    window w = {.bytes = cache->pages};
    uintptr_t near = cache->ts == (const void *)ts ? cache->near : 0;
    if (near) {
        hp_read_span spans[3];
        window_got(&w, near, hp_safe_readv(spans, window_spans(&w, near, spans)));
    }
    const void *frame = loaded_frame(ts);
    cache->ts = ts;
    cache->near = (uintptr_t)frame;
    walk(&w, (uintptr_t)frame, out);
}

void hp_stack_peek_read(const PyThreadState *ts, int mapped, hp_stack_peek *out,
                        hp_peek_cache *cache)
{
    out->ts = ts;
    out->n = 0;
    if (!ts || !hp_safe_read_works())
        return;
    if (mapped) {
        read_mapped(ts, out, cache);
        return;
    }
    window w = {.bytes = cache->pages};
    int same = cache->ts == (const void *)ts;
    uintptr_t near = same ? cache->near : 0;

    hp_read_span spans[6];
    int k = 0;
    const void *frame = NULL;
#if HP_PY313
    spans[k++] = (hp_read_span){&frame, (const char *)ts + offsetof(PyThreadState, current_frame),
                                sizeof frame};
    int pointer_spans = 1;
#else
    const char *cframe = NULL;
    const char *guess = same ? cache->cframe : NULL;
    spans[k++] =
        (hp_read_span){&cframe, (const char *)ts + offsetof(PyThreadState, cframe), sizeof cframe};
    if (guess)
        spans[k++] =
            (hp_read_span){&frame, guess + offsetof(_PyCFrame, current_frame), sizeof frame};
    int pointer_spans = k;
#endif
    if (near)
        k += window_spans(&w, near, spans + k);
    int whole = hp_safe_readv(spans, k);
    if (whole < 1)
        return;
    if (near)
        window_got(&w, near, whole - pointer_spans);
#if !HP_PY313
    if (!guess || whole < 2 || cframe != guess) { /* the C frame moved: read it now */
        frame = NULL;
        if (!cframe ||
            hp_safe_read(&frame, cframe + offsetof(_PyCFrame, current_frame), sizeof frame) < 0)
            return;
    }
    cache->cframe = cframe;
#endif
    cache->ts = ts;
    cache->near = (uintptr_t)frame;
    walk(&w, (uintptr_t)frame, out);
}

/* The frames from `addr` outward into `out`, read from the window where they lie there. */
static void walk(const window *w, uintptr_t addr, hp_stack_peek *out)
{
    /* a bounded walk: a torn read may make a cycle */
    for (int hops = 0; addr && out->n < HP_PEEK_FRAMES && hops < 4 * HP_PEEK_FRAMES; hops++) {
        _PyInterpreterFrame copy; /* only the header is read: the locals may not exist */
        if (read_frame(w, addr, &copy) < 0)
            return;
        if (!hp_frame_copy_skipped(&copy)) {
            out->f[out->n].frame = (const void *)addr;
            out->f[out->n].code = hp_frame_copy_code(&copy);
            out->n++;
        }
        addr = (uintptr_t)copy.previous;
    }
}

int hp_stack_peek_match(const hp_stack_peek *peek, const void *const *frames,
                        PyCodeObject *const *codes, int n, int *at)
{
    for (int j = 0; j < peek->n; j++) {
        for (int i = 0; i < n; i++) {
            if (frames[i] == peek->f[j].frame && (const void *)codes[i] == peek->f[j].code) {
                *at = i;
                return j;
            }
        }
    }
    return -1;
}

int hp_stack_peek_selfcheck(char *why, size_t n)
{
    if (!hp_safe_read_works())
        return 0; /* peeks are off here: nothing they read can be wrong */
    PyThreadState *ts = PyThreadState_Get();
    PyCodeObject *codes[HP_PEEK_FRAMES];
    const void *frames[HP_PEEK_FRAMES];
    int walked = hp_stack_codes(ts, codes, frames, HP_PEEK_FRAMES, NULL);
    static hp_peek_cache cache; /* 12 KiB; the GIL serializes callers */
    /* rounds 0, 1: through saferead.h, without and with the window; 2, 3: the same by
     * plain loads of the frame pointer (the calling thread's state stays mapped) */
    for (int round = 0; round < 4; round++) {
        if (round % 2 == 0)
            memset(&cache, 0, sizeof cache);
        hp_stack_peek peek;
        hp_stack_peek_read(ts, round >= 2, &peek, &cache);
        if (peek.n != walked) {
            snprintf(why, n, "the peek (read %d) found %d frames, the walk %d", round, peek.n,
                     walked);
            return -1;
        }
        for (int i = 0; i < walked; i++) {
            if (peek.f[i].frame != frames[i] || peek.f[i].code != (const void *)codes[i]) {
                snprintf(why, n, "the peek (read %d) differs from the walk at frame %d", round, i);
                return -1;
            }
        }
    }
    return 0;
}
