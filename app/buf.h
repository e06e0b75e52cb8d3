/* buf: growable byte string with git strbuf's invariants.
 *
 * - data is never NULL: BUF_INIT points at a shared empty string until the
 *   first growth;
 * - data is always NUL-terminated, embedded NULs are allowed, len is the truth;
 * - memory comes from the heap (buf_release frees it) or, when the buf was set
 *   up with buf_init_arena, from an arena (never freed by hand). */
#ifndef JOBSCOPE_BUF_H
#define JOBSCOPE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

struct buf {
	char *data;
	size_t len;
	size_t cap;         /* 0 while data points at the shared empty string */
	struct arena *arena; /* NULL: heap */
};

extern char buf_empty_[1];
#define BUF_INIT { buf_empty_, 0, 0, NULL }

void buf_init(struct buf *b);                       /* heap-backed */
void buf_init_arena(struct buf *b, struct arena *a); /* arena-backed */
void buf_release(struct buf *b);                    /* frees heap memory; back to empty */
void buf_reset(struct buf *b);                      /* len = 0, keeps the memory */
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
void buf_truncate(struct buf *b, size_t len);
/* Take the heap memory out of a heap buf; the buf becomes empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
