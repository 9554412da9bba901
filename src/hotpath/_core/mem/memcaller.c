/* memcaller.c — finding the interpreter's code for memcaller.h: the object that defines
 * PyMem_RawMalloc (dladdr), and the span of its executable PT_LOAD segments
 * (dl_iterate_phdr). Cold: once per process, with the GIL.
 */
#define _GNU_SOURCE
#include "memcaller.h"

#include <dlfcn.h>
#include <link.h>

hp_mem_caller_range hp_mem_caller;

typedef struct {
    uintptr_t base; /* the object's load address (dladdr's dli_fbase) */
    uintptr_t lo, hi;
} find_state;

static int visit(struct dl_phdr_info *info, size_t size, void *arg)
{
    find_state *st = arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    int mine = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (a <= st->base && st->base < a + ph->p_memsz)
            mine = 1;
        if (ph->p_offset == 0 && a == st->base)
            mine = 1;
        if (!(ph->p_flags & PF_X))
            continue;
        if (a < lo)
            lo = a;
        if (a + ph->p_memsz > hi)
            hi = a + ph->p_memsz;
    }
    if (!mine || hi == 0)
        return 0;
    st->lo = lo;
    st->hi = hi;
    return 1;
}

void hp_mem_caller_init(void)
{
    if (hp_mem_caller.hi)
        return;
    Dl_info info;
    void *(*sym)(size_t) = PyMem_RawMalloc;
    if (!dladdr(*(void **)&sym, &info) || !info.dli_fbase)
        return;
    find_state st = {(uintptr_t)info.dli_fbase, 0, 0};
    dl_iterate_phdr(visit, &st);
    uintptr_t at = (uintptr_t) * (void **)&sym;
    if (st.hi && st.lo <= at && at < st.hi) { /* sanity: the range holds the symbol */
        hp_mem_caller.lo = st.lo;
        hp_mem_caller.hi = st.hi;
    }
}
