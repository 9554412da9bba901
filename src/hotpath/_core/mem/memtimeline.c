/* memtimeline.c — the timeline thread and its bounded buffer (see memtimeline.h).
 *
 * The thread is common/sampler.h's (python = 0: it never touches Python), ticking at once
 * and then every interval; stop() wakes it at once instead of waiting out the interval.
 * A tick takes the tracker's lock to measure the mappings and read the totals, then again
 * to append the point; RSS is read between, outside it.
 */
#include "memtimeline.h"
#include "memaccount.h"
#include "memmaps.h"
#include "common/sampler.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static struct {
    hp_mem_point *points; /* (L) HP_MEM_TIMELINE_CAP of them, or NULL */
    size_t n;             /* (L) */
} buf;

static struct {
    hp_sampler thread; /* thread.interval is the thread's own once running */
    int fd;            /* /proc/self/statm, or -1 */
    long page;
} tl = {.thread = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER}, .fd = -1};

static uint64_t read_rss(void)
{
    char text[128];
    if (tl.fd < 0)
        return 0;
    ssize_t n = pread(tl.fd, text, sizeof text - 1, 0);
    if (n <= 0)
        return 0;
    text[n] = 0;
    const char *s = text;
    while (*s && *s != ' ') /* skip the first field (size) */
        s++;
    uint64_t pages = 0;
    while (*s == ' ')
        s++;
    while (*s >= '0' && *s <= '9')
        pages = pages * 10 + (uint64_t)(*s++ - '0');
    return pages * (uint64_t)tl.page;
}

/* (L) Append a point; when full, keep every other one. Returns 1 when halved. */
static int add_point(double t, uint64_t rss, uint64_t heap, uint64_t reserved)
{
    int halved = 0;
    if (!buf.points)
        return 0;
    if (buf.n == HP_MEM_TIMELINE_CAP) {
        for (size_t i = 0; i < HP_MEM_TIMELINE_CAP / 2; i++)
            buf.points[i] = buf.points[2 * i];
        buf.n = HP_MEM_TIMELINE_CAP / 2;
        halved = 1;
    }
    buf.points[buf.n++] = (hp_mem_point){t, rss, heap, reserved};
    return halved;
}

static void sample(void *arg, PyThreadState *me)
{
    double t = hp_mem_now();
    hp_mem_lock();
    hp_mem_maps_sync();
    int64_t heap = __atomic_load_n(&hp_mem_totals.live_bytes, __ATOMIC_RELAXED);
    uint64_t reserved = hp_mem_maps_untouched();
    hp_mem_unlock();
    uint64_t rss = read_rss();
    hp_mem_lock();
    int halved = add_point(t, rss, heap > 0 ? (uint64_t)heap : 0, reserved);
    hp_mem_unlock();
    if (halved)
        tl.thread.interval *= 2;
}

static void enter(void *arg)
{
    hp_mem_tls.busy = 1; /* nothing this thread does is the program's */
}

int hp_mem_timeline_start(double interval)
{
    tl.page = sysconf(_SC_PAGESIZE);
    if (tl.fd < 0)
        tl.fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    tl.thread.interval = interval;
    sample(NULL, NULL);
    if (interval <= 0)
        return 0;
    tl.thread.python = 0;
    tl.thread.tick_at_once = 1;
    tl.thread.tick = sample;
    tl.thread.enter = enter;
    return hp_sampler_start(&tl.thread);
}

void hp_mem_timeline_stop(void)
{
    hp_sampler_stop(&tl.thread);
    sample(NULL, NULL);
}

void hp_mem_timeline_atfork_child(void)
{
    hp_sampler_atfork_child(&tl.thread);
}

/* ---- the buffer's lifetime and snapshots ------------------------------------------------ */

int hp_mem_timeline_init(void)
{
    buf.points = hp_mem_raw_calloc(HP_MEM_TIMELINE_CAP, sizeof *buf.points);
    return buf.points ? 0 : -1;
}

void hp_mem_timeline_clear(void)
{
    hp_mem_raw_free(buf.points);
    buf.points = NULL;
    buf.n = 0;
}

size_t hp_mem_timeline_bytes(void)
{
    return buf.points ? HP_MEM_TIMELINE_CAP * sizeof(hp_mem_point) : 0;
}

int hp_mem_timeline_copy(hp_mem_timeline_snap *c)
{
    c->n = buf.n;
    c->points = hp_mem_raw_calloc(c->n ? c->n : 1, sizeof *c->points);
    if (!c->points)
        return -1;
    memcpy(c->points, buf.points, c->n * sizeof *c->points);
    return 0;
}

PyObject *hp_mem_timeline_export(const hp_mem_timeline_snap *c)
{
    PyObject *list = PyList_New((Py_ssize_t)c->n);
    if (!list)
        return NULL;
    for (size_t i = 0; i < c->n; i++) {
        PyObject *p = Py_BuildValue("(dKKK)", c->points[i].t, (unsigned long long)c->points[i].rss,
                                    (unsigned long long)c->points[i].heap,
                                    (unsigned long long)c->points[i].reserved);
        if (!p) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, p);
    }
    return list;
}

void hp_mem_timeline_snap_free(hp_mem_timeline_snap *c)
{
    hp_mem_raw_free(c->points);
    c->points = NULL;
}
