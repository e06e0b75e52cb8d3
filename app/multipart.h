/* multipart: a small multipart/form-data parser (RFC 7578) with caps.
 *
 * Used by the logo upload of the settings page and by the /config/ and
 * /frontend/ helpers, which cc-backend's frontend posts as FormData.  The
 * whole body is in memory already (req.c read it under main.max-body-size);
 * the parts point into it.  Caps: MULTIPART_MAX_PARTS parts, a part's header
 * block at most MULTIPART_MAX_HEADER bytes, a boundary of 1..70 characters,
 * field names and file names at most 255 bytes of UTF-8.  Anything else is
 * refused with a sentence, never guessed at. */
#ifndef JOBSCOPE_MULTIPART_H
#define JOBSCOPE_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct req;

#define MULTIPART_MAX_PARTS 32
#define MULTIPART_MAX_HEADER 1024
#define MULTIPART_MAX_NAME 255

struct multipart_part {
	const char *name;          /* the form field's name */
	const char *filename;      /* NULL when the part is no file */
	const char *content_type;  /* as the client said ("" if none); never trusted for files */
	const char *data;          /* into the body; not NUL-terminated */
	size_t len;
};

struct multipart {
	struct multipart_part *parts;
	size_t n;
};

/* Does the request say multipart/form-data? */
bool multipart_is(const struct req *r);
/* Parse body as multipart/form-data with the boundary of content_type.
 * 0, or -1 with err, e.g. "part 3: its header block is larger than 1024 bytes". */
int multipart_parse(struct arena *a, const char *content_type, const char *body, size_t len,
		    struct multipart *out, char *err, size_t errlen);
/* The first part named name, or NULL. */
const struct multipart_part *multipart_get(const struct multipart *m, const char *name);
/* The first text field (no file name) named name of r's multipart body, as an
 * arena string; NULL when absent, when the body does not parse, or when the
 * value is not UTF-8 or holds a NUL. */
const char *multipart_field(struct req *r, const char *name);
/* A form field as Go's Request.FormValue finds it (cc-backend's handlers read
 * their fields so): the urlencoded body, else a multipart text field, else the
 * query string.  NULL when absent. */
const char *multipart_form_value(struct req *r, const char *name);
/* A text part's value as an arena string (NULL: NUL byte or invalid UTF-8). */
const char *multipart_text(struct arena *a, const struct multipart_part *p);

#endif
