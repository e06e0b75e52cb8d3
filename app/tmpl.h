/* tmpl: a small Mustache engine over json-c values.
 *
 * Templates are compiled once into a node array per template and kept in a
 * named set; rendering walks the nodes and never parses again.  Supported:
 * {{x}} (always HTML-escaped), dotted names and {{.}}, {{#s}}…{{/s}},
 * {{^s}}…{{/s}}, {{>partial}}, {{! comment }}, {{=<% %>=}}, and inheritance
 * ({{<parent}}{{$block}}…{{/block}}{{/parent}}), with the spec's standalone
 * line and indentation rules.  {{{x}}} and {{&x}} exist only for the spec
 * tests (TMPL_ALLOW_RAW); production templates get no raw escape hatch.
 *
 * Values: strings escaped; integers as integers; doubles in the shortest form
 * that reads back the same; true/false as words; null, missing names, objects
 * and arrays print nothing.  Falsy: missing, null, false, "", [] (numbers,
 * including 0, and objects are truthy).
 *
 * Memory is process-lifetime (xmalloc) and owned by the set. */
#ifndef JOBSCOPE_TMPL_H
#define JOBSCOPE_TMPL_H

#include <stddef.h>

struct buf;
struct json_object;
struct tmpl_set;                       /* a named collection of compiled templates */

enum { TMPL_ALLOW_RAW = 1 };           /* flag: accept {{{x}}} and {{&x}} (spec tests only) */

enum {
	TMPL_MAX_NESTING = 64,         /* sections/parents/blocks open at once in one template */
	TMPL_MAX_PARTIAL_DEPTH = 32,   /* partials/parents expanded inside each other; deeper ones render empty */
	TMPL_MAX_EXPANSIONS = 1000000, /* partial/parent expansions per render; later ones render empty */
	TMPL_MAX_FILE = 4 << 20        /* bytes per template file for tmpl_set_load */
};

struct tmpl_set *tmpl_set_new(unsigned flags);
/* Compile src under name (a template added again under the same name replaces
 * the old one).  On a syntax error return -1 and write "name:line: reason" into err. */
int tmpl_set_add(struct tmpl_set *s, const char *name, const char *src, size_t len,
		 char *err, size_t errlen);
/* Check that every partial / parent referenced by any template exists;
 * -1 + "name:line: unknown partial 'x'". */
int tmpl_set_check(const struct tmpl_set *s, char *err, size_t errlen);
/* Load every *.html file below dir, recursively (hidden entries skipped); the
 * name is the path relative to dir without ".html" ("layout", "partials/navbar",
 * "errors/404"); then tmpl_set_check.  NULL + "file:line: reason" on error.
 * The set is created without TMPL_ALLOW_RAW. */
struct tmpl_set *tmpl_set_load(const char *dir, char *err, size_t errlen);
int tmpl_set_has(const struct tmpl_set *s, const char *name);
/* Number of templates in the set. */
size_t tmpl_set_count(const struct tmpl_set *s);

/* Markup that C code generated and vouches for (the svg module's plots, which
 * escape every text they contain).  {{x}} writes such a value unescaped; every
 * other value — anything from a request, the database or the archive — is
 * escaped.  Only C can make one: there is no template syntax for raw output. */
extern const char tmpl_markup_tag;
struct json_object *tmpl_markup_new(const char *html, size_t len);
/* Render template name with ctx (may be NULL) as the root context, appending
 * to out.  0 on success, -1 if name is unknown.  Missing partials render as
 * empty (spec behaviour; tmpl_set_check catches them at start-up). */
int tmpl_render(const struct tmpl_set *s, const char *name, struct json_object *ctx,
		struct buf *out);
void tmpl_set_free(struct tmpl_set *s);

#endif
