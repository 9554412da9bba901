/* memforget.c — see memforget.h. */
#include "memforget.h"
#include "memaccount.h"
#include "memblocks.h"

/* sizeof(PyGC_Head) (internal since 3.9: two words in the default build; none in the
 * free-threaded one, whose GC state lives in the object header). */
#ifdef Py_GIL_DISABLED
#  define MT_GC_HEAD 0
#else
#  define MT_GC_HEAD (2 * sizeof(uintptr_t))
#endif

#ifdef Py_TPFLAGS_MANAGED_WEAKREF
#  define MT_PREHEADER_FLAGS (Py_TPFLAGS_MANAGED_DICT | Py_TPFLAGS_MANAGED_WEAKREF)
#else
#  define MT_PREHEADER_FLAGS Py_TPFLAGS_MANAGED_DICT
#endif

/* Where the allocator's block of `o` starts. */
static uintptr_t block_of(PyObject *o)
{
    size_t pre = 0;
    if (PyObject_IS_GC(o))
        pre += MT_GC_HEAD;
    if (PyType_HasFeature(Py_TYPE(o), MT_PREHEADER_FLAGS))
        pre += 2 * sizeof(PyObject *);
    return (uintptr_t)o - pre;
}

static void pop_recent(void)
{
    mt_tls.top = (mt_tls.top + MT_RECENT - 1) % MT_RECENT;
    mt_tls.nrecent--;
}

/* (L) Forget the block at `addr` if it is this thread's newest recorded block still live.
 * Newer records whose blocks were freed since are passed over (dropped from the ring). */
static int forget_addr(uintptr_t addr)
{
    if (mt_tls.recent_session != mt_session.id)
        return 0;
    while (mt_tls.nrecent) {
        mt_recent *e = &mt_tls.recent[mt_tls.top];
        if (e->addr != addr) {
            if (mt_blocks_find(e->addr))
                return 0;          /* a newer live block: `addr` was not made just now */
            pop_recent();          /* freed since: no longer in the way */
            continue;
        }
        mt_block b;
        int untouched = mt_totals.seq == e->seq;
        mt_recent saved = *e;
        pop_recent();
        if (!mt_blocks_take(addr, &b))
            return 0;
        mt_filter_remove(b.addr);
        mt_account_unalloc(b.stack, b.bytes, b.count);
        mt_totals.samples--;
        if (untouched) {
            /* Nothing was accounted after it: the state before it, exactly. */
            mt_totals.peak_bytes = saved.peak_bytes;
            mt_totals.peak_count = saved.peak_count;
            mt_totals.peak_dirty = saved.peak_dirty;
            mt_totals.seq = saved.seq - 1;
        }
        return 1;
    }
    return 0;
}

int mt_forget_object(PyObject *o)
{
    if (!mt_active() || mt_tls.recent_session != mt_session.id || !mt_tls.nrecent)
        return 0;
    int n = 0;
    mt_tls.busy++;
    mt_lock();
    if (mt_active()) {
        if (PyDict_CheckExact(o))
            n += forget_addr((uintptr_t)((PyDictObject *)o)->ma_keys);
        n += forget_addr(block_of(o));
    }
    mt_unlock();
    mt_tls.busy--;
    return n;
}

int mt_forget_block(const void *p)
{
    if (!p || !mt_active() || mt_tls.recent_session != mt_session.id || !mt_tls.nrecent)
        return 0;
    int n = 0;
    mt_tls.busy++;
    mt_lock();
    if (mt_active())
        n = forget_addr((uintptr_t)p);
    mt_unlock();
    mt_tls.busy--;
    return n;
}
