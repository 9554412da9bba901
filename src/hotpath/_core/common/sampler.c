/* sampler.c — the background sampler thread (see sampler.h).
 *
 * The thread sleeps on a condition variable with a deadline, so stop() wakes it at once
 * instead of waiting out the interval.
 */
#include "sampler.h"

#include <time.h>

void hp_sampler_init(hp_sampler *s)
{
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
}

void hp_sampler_fini(hp_sampler *s)
{
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}

static double mono_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* (mu held) Wait out one interval, or until stop() signals. */
static void wait_interval(hp_sampler *s)
{
    struct timespec dl;
    double sec = s->interval;
    if (s->fixed_rate) {
        double now = mono_seconds();
        if (s->due == 0.0 || now - s->due > sec)
            s->due = now; /* first tick, or late by more than an interval: no catch-up */
        s->due += sec;
        sec = s->due - now;
        if (sec <= 0.0)
            return;
    }
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += (time_t)sec;
    dl.tv_nsec += (long)((sec - (double)(time_t)sec) * 1e9);
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&s->cv, &s->mu, &dl);
}

/* Whether to go on: waits first unless this is the first tick of a tick_at_once sampler. */
static int next(hp_sampler *s, int first)
{
    pthread_mutex_lock(&s->mu);
    if (!s->stop && !(first && s->tick_at_once))
        wait_interval(s);
    int stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return !stop;
}

static void *sampler_main(void *arg)
{
    hp_sampler *s = arg;
    if (s->enter)
        s->enter(s->arg);
    if (!s->python) {
        for (int first = 1; next(s, first); first = 0)
            s->tick(s->arg, NULL);
        return NULL;
    }
    /* The thread state is made when a tick first needs the GIL, not before the first
     * `before`: making it takes the GIL, which a program in a long C call (a compile, a
     * sort) holds for as long as the call lasts, and `before` may do its work without it */
    PyGILState_STATE g = PyGILState_UNLOCKED;
    PyThreadState *me = NULL;
    for (int first = 1; next(s, first); first = 0) {
        if (s->before && s->before(s->arg))
            continue;
        if (!me) {
            g = PyGILState_Ensure();
            me = PyThreadState_Get();
            __atomic_store_n(&s->me, me, __ATOMIC_RELEASE);
        } else {
            PyEval_RestoreThread(me);
        }
        s->tick(s->arg, me);
        me = PyEval_SaveThread();
    }
    if (me) {
        PyEval_RestoreThread(me);
        PyGILState_Release(g);
    }
    return NULL;
}

int hp_sampler_start(hp_sampler *s)
{
    s->stop = 0;
    s->due = 0.0;
    s->me = NULL;
    if (pthread_create(&s->thread, NULL, sampler_main, s) != 0)
        return -1;
    s->started = 1;
    return 0;
}

void hp_sampler_stop(hp_sampler *s)
{
    if (!s->started)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    Py_BEGIN_ALLOW_THREADS
    pthread_join(s->thread, NULL);
    Py_END_ALLOW_THREADS
    s->started = 0;
}

void hp_sampler_atfork_child(hp_sampler *s)
{
    s->started = 0;
    hp_sampler_init(s);
}
