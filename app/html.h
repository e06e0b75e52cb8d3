/* html: escaping for text placed outside templates (templates escape by themselves). */
#ifndef JOBSCOPE_HTML_H
#define JOBSCOPE_HTML_H

#include <stddef.h>

struct buf;

/* Append s escaped for HTML text and attribute values: & < > " ' */
void html_escape(struct buf *out, const char *s, size_t len);
/* Append s percent-encoded for a URL query value (RFC 3986 unreserved kept). */
void html_url_encode(struct buf *out, const char *s, size_t len);
/* Append JSON text so that it is safe inside a <script> element: '<' as \u003c etc. */
void html_json_for_script(struct buf *out, const char *json, size_t len);

#endif
