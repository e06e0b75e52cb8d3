#include "config.h"
#include "flags.h"
#include "str.h"

#include <stdbool.h>
#include <string.h>

void flags_usage(FILE *f, const char *synopsis, const struct flag *defs, size_t n)
{
	fprintf(f, "usage: %s\n", synopsis);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  -%-12s %s\n", defs[i].name, defs[i].help);
}

static int set_value(const char *prog, const struct flag *d, const char *v)
{
	switch (d->type) {
	case FLAG_STR:
		*(const char **)d->ptr = v;
		return 0;
	case FLAG_LIST: {
		struct flag_list *l = d->ptr;
		if (l->n >= l->max) {
			fprintf(stderr, "%s: -%s may be given at most %zu times\n", prog, d->name, l->max);
			return -1;
		}
		l->v[l->n++] = v;
		return 0;
	}
	case FLAG_INT:
		if (str_to_i64(v, d->min, d->max, (int64_t *)d->ptr) < 0) {
			fprintf(stderr, "%s: -%s expects an integer from %lld to %lld, got \"%s\"\n", prog, d->name,
				(long long)d->min, (long long)d->max, v);
			return -1;
		}
		return 0;
	case FLAG_BOOL:
		break;
	}
	return -1;
}

int flags_parse(const char *prog, const struct flag *defs, size_t n, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0') {
			fprintf(stderr, "%s: unexpected argument \"%s\": flags start with '-' (see %s -help)\n", prog, a, prog);
			return -1;
		}
		a += a[1] == '-' ? 2 : 1;
		const char *eq = strchr(a, '=');
		size_t len = eq ? (size_t)(eq - a) : strlen(a);
		const struct flag *d = NULL;
		for (size_t k = 0; k < n; k++)
			if (strlen(defs[k].name) == len && strncmp(defs[k].name, a, len) == 0)
				d = &defs[k];
		if (!d) {
			fprintf(stderr, "%s: unknown flag -%.*s (see %s -help)\n", prog, (int)len, a, prog);
			return -1;
		}
		if (d->type == FLAG_BOOL) {
			bool v = true;
			if (eq) {
				if (strcmp(eq + 1, "true") == 0 || strcmp(eq + 1, "1") == 0)
					v = true;
				else if (strcmp(eq + 1, "false") == 0 || strcmp(eq + 1, "0") == 0)
					v = false;
				else {
					fprintf(stderr, "%s: -%s expects true or false, got \"%s\"\n", prog, d->name, eq + 1);
					return -1;
				}
			}
			*(bool *)d->ptr = v;
			continue;
		}
		const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!v) {
			fprintf(stderr, "%s: flag -%s needs a value: %s\n", prog, d->name, d->help);
			return -1;
		}
		if (set_value(prog, d, v) < 0)
			return -1;
	}
	return 0;
}
