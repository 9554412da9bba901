/* saferead.c — fault-free reads of our own memory (see saferead.h). */
#ifndef _GNU_SOURCE
#  define _GNU_SOURCE 1 /* process_vm_readv */
#endif
#include "saferead.h"

#include <errno.h>
#include <unistd.h>

#ifdef __linux__
#  include <sys/uio.h>

int hp_safe_read(void *dst, const void *src, size_t n)
{
    struct iovec local = {dst, n};
    struct iovec remote = {(void *)src, n};
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)n ? 0 : -1;
}

int hp_safe_readv(const hp_read_span *spans, int n)
{
    struct iovec local[8], remote[8];
    if (n > 8)
        n = 8;
    for (int i = 0; i < n; i++) {
        local[i] = (struct iovec){spans[i].dst, spans[i].len};
        remote[i] = (struct iovec){(void *)spans[i].src, spans[i].len};
    }
    ssize_t got = process_vm_readv(getpid(), local, (unsigned long)n, remote, (unsigned long)n, 0);
    int whole = 0;
    for (size_t sum = 0; whole < n && got > 0; whole++) {
        sum += spans[whole].len;
        if ((size_t)got < sum)
            break;
    }
    return whole;
}

int hp_safe_read_works(void)
{
    static int works = -1; /* racy first check: every thread computes the same answer */
    if (works < 0) {
        volatile long probe = 0x5afe;
        long copy = 0;
        works = hp_safe_read(&copy, (const void *)&probe, sizeof copy) == 0 && copy == 0x5afe;
    }
    return works;
}
#else
int hp_safe_read(void *dst, const void *src, size_t n)
{
    (void)dst;
    (void)src;
    (void)n;
    return -1;
}

int hp_safe_readv(const hp_read_span *spans, int n)
{
    (void)spans;
    (void)n;
    return 0;
}

int hp_safe_read_works(void)
{
    return 0;
}
#endif
