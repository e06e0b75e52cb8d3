/* arena: per-request region allocator with a cleanup list.
 *
 * Everything a request needs lives in one arena; arena_reset() at the start of
 * the next request runs the registered cleanups (PQclear, json_object_put, ...)
 * in reverse order and gives the memory back at once.  Never free() arena memory.
 * With --enable-asan (ARENA_DEBUG) every allocation is its own malloc so that
 * the sanitizers see each object separately, as nginx's NGX_DEBUG_PALLOC. */
#ifndef JOBSCOPE_ARENA_H
#define JOBSCOPE_ARENA_H

#include <stddef.h>

struct arena_block;
struct arena_cleanup;

struct arena {
	struct arena_block *head;      /* current block; older blocks follow */
	struct arena_cleanup *cleanups;
	size_t block_size;
	size_t total;                  /* bytes handed out since the last reset */
};

typedef void (*arena_cleanup_fn)(void *);

void arena_init(struct arena *a, size_t block_size);
void *arena_alloc(struct arena *a, size_t n);     /* 16-byte aligned, never NULL (aborts on OOM) */
void *arena_calloc(struct arena *a, size_t nmemb, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void *arena_memdup(struct arena *a, const void *p, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Register fn(ptr) to run at reset/release; returns ptr so that the call can wrap a constructor. */
void *arena_cleanup_add(struct arena *a, arena_cleanup_fn fn, void *ptr);
void arena_reset(struct arena *a);   /* run cleanups, keep the first block */
void arena_release(struct arena *a); /* run cleanups, free every block */

#endif
