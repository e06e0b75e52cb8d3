/* flags: Go's command-line flag syntax, as cc-backend's flags are used:
 * -name, --name, -name=value, -name value; booleans take =true/=false.
 * One table per program; a bad flag or value prints one line and fails. */
#ifndef JOBSCOPE_FLAGS_H
#define JOBSCOPE_FLAGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum flag_type { FLAG_BOOL, FLAG_STR, FLAG_INT, FLAG_LIST };

/* FLAG_LIST: repeatable string flag collected here */
struct flag_list {
	const char **v;
	size_t n, max;
};

struct flag {
	const char *name;
	enum flag_type type;
	void *ptr;          /* bool *, const char **, int64_t * or struct flag_list * */
	int64_t min, max;   /* FLAG_INT: the allowed range */
	const char *help;
};

/* 0, or -1 after printing "<prog>: <what was expected>" on stderr. */
int flags_parse(const char *prog, const struct flag *defs, size_t n, int argc, char **argv);
void flags_usage(FILE *f, const char *synopsis, const struct flag *defs, size_t n);

#endif
