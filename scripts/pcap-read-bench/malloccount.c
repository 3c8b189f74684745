// SPDX-License-Identifier: Apache-2.0
// malloccount.c: an LD_PRELOAD library that counts heap allocations (malloc, calloc, realloc,
// posix_memalign) and prints the counts at exit. Used by scripts/pcap-read-bench.sh to show that the
// pcap read loop allocates nothing per packet (the counts do not grow with the packet count).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
static unsigned long n_malloc, n_calloc, n_realloc, n_posix;
static void *(*real_malloc)(size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix)(void **, size_t, size_t);
static char bootstrap[4096]; static size_t boot_used;
void *malloc(size_t s) { if (!real_malloc) real_malloc = dlsym(RTLD_NEXT, "malloc"); n_malloc++; return real_malloc(s); }
void *calloc(size_t a, size_t b) { if (!real_malloc) { void *p = bootstrap + boot_used; boot_used += (a*b + 15) & ~15UL; return p; } n_calloc++; void *p = malloc(a*b); if (p) __builtin_memset(p, 0, a*b); n_malloc--; return p; }
void free(void *p) { static void (*real_free)(void *); if ((char*)p >= bootstrap && (char*)p < bootstrap + sizeof bootstrap) return; if (!real_free) real_free = dlsym(RTLD_NEXT, "free"); real_free(p); }
void *realloc(void *p, size_t s) { if (!real_realloc) real_realloc = dlsym(RTLD_NEXT, "realloc"); n_realloc++; return real_realloc(p, s); }
int posix_memalign(void **p, size_t a, size_t s) { if (!real_posix) real_posix = dlsym(RTLD_NEXT, "posix_memalign"); n_posix++; return real_posix(p, a, s); }
__attribute__((destructor)) static void report(void) { fprintf(stderr, "allocations: malloc %lu calloc %lu realloc %lu posix_memalign %lu\n", n_malloc, n_calloc, n_realloc, n_posix); }
