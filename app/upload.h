/* upload: what an uploaded file is, by its bytes (libmagic), and the site
 * logo kept under ./var/img.
 *
 * The type comes from libmagic's MIME_TYPE answer, never from the file name
 * or the client's Content-Type.  libmagic is opened and its database loaded
 * once per process, on first use. */
#ifndef JOBSCOPE_UPLOAD_H
#define JOBSCOPE_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct req;

#define UPLOAD_LOGO_MAX (512 * 1024)
#define UPLOAD_LOGO_DIR "./var/img"

/* "image/png" etc. as libmagic sees data (static string until the next call),
 * or NULL when libmagic is unavailable (logged). */
const char *upload_mime_type(const void *data, size_t len);
/* The file extension for a logo of this MIME type: "png", "svg", "jpg", or NULL (refused). */
const char *upload_logo_ext(const char *mime);

/* Store data as ./var/img/logo.<ext> (atomically; any logo of another type
 * goes).  0 or -1 with err. */
int upload_logo_store(const void *data, size_t len, const char *ext, char *err, size_t errlen);
/* Remove the logo; 0 (also when there was none) or -1 with err. */
int upload_logo_remove(char *err, size_t errlen);
/* The current logo file ("./var/img/logo.png"; static buffer) with its stat, or NULL. */
struct stat;
const char *upload_logo_path(struct stat *st);
/* The navbar's logo URL: "/img/logo?v=<mtime>" when there is one, else the built-in. */
const char *upload_logo_url(struct arena *a);

#endif
