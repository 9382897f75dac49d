/* Allocation that cannot fail: out of memory is fatal. */
#ifndef CAIRN_XMALLOC_H
#define CAIRN_XMALLOC_H
#include <stddef.h>
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *ptr, size_t n, size_t size);
char *xstrdup(const char *s);
#endif
