/* memstate.c — the shared state's storage, and the tracker's own memory.
 *
 * The tracker allocates with libc's malloc while its thread's `busy` flag is set, so
 * neither the Python-domain hooks nor the preload shim's hooks (which forward when busy)
 * count the tracker's tables as the program's memory.
 */
#include "memstate.h"

#include <stdlib.h>

__thread mt_tls_slot mt_tls HP_TLS_INITIAL_EXEC;
mt_session_state mt_session;
mt_totals_state mt_totals;
int mt_lock_word;

void *mt_raw_calloc(size_t n, size_t size)
{
    int b = mt_tls.busy;
    mt_tls.busy = 1;
    void *p = calloc(n, size);
    mt_tls.busy = b;
    return p;
}

void *mt_raw_realloc(void *p, size_t n)
{
    int b = mt_tls.busy;
    mt_tls.busy = 1;
    void *q = realloc(p, n);
    mt_tls.busy = b;
    return q;
}

void mt_raw_free(void *p)
{
    int b = mt_tls.busy;
    mt_tls.busy = 1;
    free(p);
    mt_tls.busy = b;
}
