/* memforget.c — see memforget.h. */
#include "memforget.h"
#include "memaccount.h"
#include "memblocks.h"

/* sizeof(PyGC_Head) (internal since 3.9: two words in the default build; none in the
 * free-threaded one, whose GC state lives in the object header). */
#ifdef Py_GIL_DISABLED
#  define HP_MEM_GC_HEAD 0
#else
#  define HP_MEM_GC_HEAD (2 * sizeof(uintptr_t))
#endif

#ifdef Py_TPFLAGS_MANAGED_WEAKREF
#  define HP_MEM_PREHEADER_FLAGS (Py_TPFLAGS_MANAGED_DICT | Py_TPFLAGS_MANAGED_WEAKREF)
#else
#  define HP_MEM_PREHEADER_FLAGS Py_TPFLAGS_MANAGED_DICT
#endif

/* Where the allocator's block of `o` starts. */
static uintptr_t block_of(PyObject *o)
{
    size_t pre = 0;
    if (PyObject_IS_GC(o))
        pre += HP_MEM_GC_HEAD;
    if (PyType_HasFeature(Py_TYPE(o), HP_MEM_PREHEADER_FLAGS))
        pre += 2 * sizeof(PyObject *);
    return (uintptr_t)o - pre;
}

static void pop_recent(void)
{
    hp_mem_tls.top = (hp_mem_tls.top + HP_MEM_RECENT - 1) % HP_MEM_RECENT;
    hp_mem_tls.nrecent--;
}

/* (L) Forget the block at `addr` if it is this thread's newest recorded block still live.
 * Newer records whose blocks were freed since are passed over (dropped from the ring). */
static int forget_addr(uintptr_t addr)
{
    if (hp_mem_tls.recent_session != hp_mem_session.id)
        return 0;
    while (hp_mem_tls.nrecent) {
        hp_mem_recent *e = &hp_mem_tls.recent[hp_mem_tls.top];
        if (e->addr != addr) {
            if (hp_mem_blocks_find(e->addr))
                return 0; /* a newer live block: `addr` was not made just now */
            pop_recent(); /* freed since: no longer in the way */
            continue;
        }
        hp_mem_block b;
        int untouched = hp_mem_totals.seq == e->seq;
        hp_mem_recent saved = *e;
        pop_recent();
        if (!hp_mem_blocks_take(addr, &b))
            return 0;
        hp_mem_filter_remove(b.addr);
        hp_mem_account_unalloc(b.stack, b.bytes, b.count);
        hp_mem_totals.samples--;
        if (untouched) {
            /* Nothing was accounted after it: the state before it, exactly. */
            hp_mem_totals.peak_bytes = saved.peak_bytes;
            hp_mem_totals.peak_count = saved.peak_count;
            hp_mem_totals.peak_dirty = saved.peak_dirty;
            hp_mem_totals.seq = saved.seq - 1;
        }
        return 1;
    }
    return 0;
}

int hp_mem_forget_object(PyObject *o)
{
    if (!hp_mem_active() || hp_mem_tls.recent_session != hp_mem_session.id || !hp_mem_tls.nrecent)
        return 0;
    int n = 0;
    hp_mem_tls.busy++;
    hp_mem_lock();
    if (hp_mem_active()) {
        if (PyDict_CheckExact(o))
            n += forget_addr((uintptr_t)((PyDictObject *)o)->ma_keys);
        n += forget_addr(block_of(o));
    }
    hp_mem_unlock();
    hp_mem_tls.busy--;
    return n;
}

int hp_mem_forget_block(const void *p)
{
    if (!p || !hp_mem_active() || hp_mem_tls.recent_session != hp_mem_session.id ||
        !hp_mem_tls.nrecent)
        return 0;
    int n = 0;
    hp_mem_tls.busy++;
    hp_mem_lock();
    if (hp_mem_active())
        n = forget_addr((uintptr_t)p);
    hp_mem_unlock();
    hp_mem_tls.busy--;
    return n;
}
