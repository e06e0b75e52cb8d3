#include "config.h"
#include "arena.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

struct arena_cleanup {
	struct arena_cleanup *next;
	arena_cleanup_fn fn;
	void *ptr;
};

#define ALIGN_UP(n) (((n) + 15u) & ~(size_t)15u)

void arena_init(struct arena *a, size_t block_size)
{
	memset(a, 0, sizeof(*a));
	a->block_size = block_size ? block_size : 64 * 1024;
}

static struct arena_block *block_new(size_t size)
{
	struct arena_block *b = xmalloc(sizeof(*b) + size);
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

void *arena_alloc(struct arena *a, size_t n)
{
	if (n == 0)
		n = 1;
	a->total += n;
#ifdef ARENA_DEBUG
	/* one malloc per object: ASan sees overflows and use after reset */
	struct arena_block *b = block_new(n);
	b->used = n;
	b->next = a->head;
	a->head = b;
	return b->data;
#else
	size_t need = ALIGN_UP(n);
	struct arena_block *b = a->head;
	if (b && b->size - b->used >= need) {
		void *p = b->data + b->used;
		b->used += need;
		return p;
	}
	if (need > a->block_size / 4) {
		/* large object: its own block, kept behind the current one */
		struct arena_block *big = block_new(need);
		big->used = need;
		if (b) {
			big->next = b->next;
			b->next = big;
		} else {
			a->head = big;
		}
		return big->data;
	}
	b = block_new(a->block_size);
	b->next = a->head;
	a->head = b;
	b->used = need;
	return b->data;
#endif
}

void *arena_calloc(struct arena *a, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		xdie("arena_calloc: %zu * %zu overflows", nmemb, size);
	void *p = arena_alloc(a, nmemb * size);
	memset(p, 0, nmemb * size);
	return p;
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
	void *q = arena_alloc(a, n);
	if (n)
		memcpy(q, p, n);
	return q;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *q = arena_alloc(a, n + 1);
	memcpy(q, s, n);
	q[n] = '\0';
	return q;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		xdie("arena_printf: bad format");
	char *s = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void *arena_cleanup_add(struct arena *a, arena_cleanup_fn fn, void *ptr)
{
	if (!ptr)
		return NULL;
	struct arena_cleanup *c = arena_alloc(a, sizeof(*c));
	c->fn = fn;
	c->ptr = ptr;
	c->next = a->cleanups;
	a->cleanups = c;
	return ptr;
}

static void run_cleanups(struct arena *a)
{
	/* the list is newest first: objects die in reverse order of creation */
	struct arena_cleanup *c = a->cleanups;
	a->cleanups = NULL;
	for (; c; c = c->next)
		c->fn(c->ptr);
}

void arena_reset(struct arena *a)
{
	run_cleanups(a);
	struct arena_block *keep = NULL, *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
#ifndef ARENA_DEBUG
		/* keep the oldest block (the list's tail) when it is an ordinary
		 * one, so that ordinary requests never call malloc */
		if (!next && b->size == a->block_size) {
			keep = b;
			break;
		}
#endif
		free(b);
		b = next;
	}
	if (keep) {
		keep->used = 0;
		keep->next = NULL;
	}
	a->head = keep;
	a->total = 0;
}

void arena_release(struct arena *a)
{
	run_cleanups(a);
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->total = 0;
}
