#include "config.h"
#include "router.h"
#include "req.h"
#include "auth.h"

#include <stdio.h>
#include <string.h>

/* Match one pattern; captured segments are copied into scratch (path length + 1). */
static int match(const char *pat, const char *path, const char **args, size_t nargs, char *scratch)
{
	size_t na = 0;
	while (*pat && *path) {
		if (*pat == '{') {
			const char *pe = strchr(pat, '}');
			if (!pe)
				return 0;
			size_t seg = strcspn(path, "/");
			if (seg == 0 || na >= nargs)
				return 0;
			memcpy(scratch, path, seg);
			scratch[seg] = '\0';
			args[na++] = scratch;
			scratch += seg + 1;
			path += seg;
			pat = pe + 1;
			continue;
		}
		if (*pat != *path)
			return 0;
		pat++;
		path++;
	}
	return *pat == '\0' && *path == '\0';
}

const struct route *router_match(const struct route *table, size_t n, unsigned method,
				 const char *path, const char **args, size_t nargs,
				 char *scratch, unsigned *allowed)
{
	*allowed = 0;
	unsigned want = method == M_HEAD ? (M_HEAD | M_GET) : method;
	for (size_t i = 0; i < n; i++) {
		if (!match(table[i].pattern, path, args, nargs, scratch))
			continue;
		unsigned ms = table[i].methods;
		if (ms & M_GET)
			ms |= M_HEAD; /* HEAD is GET without the body */
		*allowed |= ms;
		if (ms & want)
			return &table[i];
	}
	return NULL;
}

int router_json_path(const char *path)
{
	static const char *const prefixes[] = {"/api/", "/userapi/", "/config/", "/frontend/"};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

void router_print(FILE *f, const struct route *table, size_t n)
{
	static const char *const fmts[] = {"html", "json", "text"};
	static const char *const auths[] = {"public", "page", "api", "userapi", "metricstore", "config", "frontend"};
	for (size_t i = 0; i < n; i++) {
		const struct route *rt = &table[i];
		const char *sep = "";
		for (unsigned bit = 1; bit < M_OTHER; bit <<= 1)
			if (rt->methods & bit) {
				fprintf(f, "%s%s", sep, method_name((enum method)bit));
				sep = ",";
			}
		fprintf(f, "\t%s\t%s\t%s\t", rt->pattern, fmts[rt->fmt], auths[rt->auth]);
		sep = "";
		for (unsigned bit = 1; bit <= ROLE_ADMIN; bit <<= 1)
			if (rt->roles & bit) {
				fprintf(f, "%s%s", sep, role_name(bit));
				sep = ",";
			}
		fprintf(f, "%s\t%s\n", *sep ? "" : "-",
			rt->flags & ROUTE_CSRF ? "csrf" : rt->flags & ROUTE_CSRF_PRE ? "csrf-pre" : "-");
	}
}
