/* memsample.h — sampled mode: which allocations to record, and what each one stands for.
 *
 * Poisson sampling of bytes, as in tcmalloc and Go's heap profiler: each thread counts
 * down the bytes to its next sample point, drawn from an exponential distribution of mean
 * sample_bytes. A block of n bytes is sampled with probability q = 1 − exp(−n /
 * sample_bytes) and then stands for n / q bytes and 1 / q blocks, so every estimate is
 * unbiased. A block not sampled costs a subtraction (hp_mem_sample_skip).
 *
 * State: the calling thread's countdown and xorshift64* generator, in hp_mem_tls (memstate.h;
 * thread-local, so nothing protects them), tagged with the session they were drawn for
 * and reseeded on each thread's first allocation in a new session. Header only: all of it
 * is on the per-allocation path.
 */
#ifndef HP_MEMSAMPLE_H
#define HP_MEMSAMPLE_H

#include "memstate.h"

#include <math.h>

static inline uint64_t hp_mem_sample_rng_next(void)
{
    uint64_t x = hp_mem_tls.rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    hp_mem_tls.rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Bytes to the next sample point: exponential with mean sample_bytes. */
static inline int64_t hp_mem_sample_draw(void)
{
    double u = (double)((hp_mem_sample_rng_next() >> 11) + 1) * 0x1.0p-53; /* (0, 1] */
    return (int64_t)(-log(u) * hp_mem_session.sample_bytes) + 1;
}

/* The calling thread's first allocation in this session: seed and draw. */
static inline void hp_mem_sample_thread_init(void)
{
    hp_mem_tls.session = hp_mem_session.id;
    hp_mem_tls.rng = (hp_mem_session.id * 0x9E3779B97F4A7C15ull) ^
        (uint64_t)(uintptr_t)&hp_mem_tls ^ 0x5DEECE66Dull;
    if (!hp_mem_tls.rng)
        hp_mem_tls.rng = 1;
    hp_mem_tls.countdown = hp_mem_sample_draw();
}

/* The fast path: 1 when a block of `n` bytes is not to be recorded (sampled mode, the
 * common case); always 0 in exact mode. */
static inline int hp_mem_sample_skip(size_t n)
{
    if (hp_mem_session.mode != HP_MEM_SAMPLED)
        return 0;
    if (__builtin_expect(hp_mem_tls.session != hp_mem_session.id, 0))
        hp_mem_sample_thread_init();
    return n == 0 || (hp_mem_tls.countdown -= (int64_t)n) > 0;
}

/* Sampled mode, a block of `n` bytes that hp_mem_sample_skip() picked: draw the next sample
 * point, and set what the block stands for (n / q bytes, 1 / q blocks). */
static inline void hp_mem_sample_weigh(size_t n, uint64_t *bytes, uint32_t *count)
{
    hp_mem_tls.countdown = hp_mem_sample_draw();
    double q = -expm1(-(double)n / hp_mem_session.sample_bytes);
    double c = 1.0 / q;
    *bytes = (uint64_t)llround((double)n * c);
    *count = c < 4e9 ? (uint32_t)llround(c) : UINT32_MAX;
}

#endif /* HP_MEMSAMPLE_H */
