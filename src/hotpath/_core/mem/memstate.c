/* memstate.c — the shared state's storage, and the tracker's own memory.
 *
 * The tracker allocates with libc's malloc while its thread's `busy` flag is set, so
 * neither the Python-domain hooks nor the preload shim's hooks (which forward when busy)
 * count the tracker's tables as the program's memory.
 */
#include "memstate.h"

#include <stdlib.h>

__thread hp_mem_tls_slot hp_mem_tls HP_TLS_INITIAL_EXEC;
hp_mem_session_state hp_mem_session;
hp_mem_totals_state hp_mem_totals;
int hp_mem_lock_word;

void *hp_mem_raw_calloc(size_t n, size_t size)
{
    int b = hp_mem_tls.busy;
    hp_mem_tls.busy = 1;
    void *p = calloc(n, size);
    hp_mem_tls.busy = b;
    return p;
}

void *hp_mem_raw_realloc(void *p, size_t n)
{
    int b = hp_mem_tls.busy;
    hp_mem_tls.busy = 1;
    void *q = realloc(p, n);
    hp_mem_tls.busy = b;
    return q;
}

void hp_mem_raw_free(void *p)
{
    int b = hp_mem_tls.busy;
    hp_mem_tls.busy = 1;
    free(p);
    hp_mem_tls.busy = b;
}
