#include "config.h"
#include "upload.h"
#include "file.h"
#include "arena.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static magic_t cookie;
static bool magic_failed;

static void magic_release(void)
{
	if (cookie)
		magic_close(cookie);
	cookie = NULL;
}

const char *upload_mime_type(const void *data, size_t len)
{
	if (!cookie && !magic_failed) {
		cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS);
		if (!cookie || magic_load(cookie, NULL) != 0) {
			log_err("libmagic: cannot load its database: %s", cookie ? magic_error(cookie) : strerror(errno));
			magic_release();
			magic_failed = true;
		} else {
			atexit(magic_release);
		}
	}
	if (!cookie)
		return NULL;
	const char *t = magic_buffer(cookie, data, len);
	if (!t)
		log_warn("libmagic: %s", magic_error(cookie));
	return t;
}

static const struct {
	const char *mime, *ext;
} logo_types[] = {
	{"image/png", "png"},
	{"image/svg+xml", "svg"},
	{"image/jpeg", "jpg"},
};
#define NTYPES (sizeof(logo_types) / sizeof(logo_types[0]))

const char *upload_logo_ext(const char *mime)
{
	for (size_t i = 0; mime && i < NTYPES; i++)
		if (strcmp(mime, logo_types[i].mime) == 0)
			return logo_types[i].ext;
	return NULL;
}

static int mkdir_p(const char *dir)
{
	/* ./var exists when jobscope runs; ./var/img is made here */
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int upload_logo_store(const void *data, size_t len, const char *ext, char *err, size_t errlen)
{
	if (mkdir_p(UPLOAD_LOGO_DIR) < 0) {
		snprintf(err, errlen, "%s: %s", UPLOAD_LOGO_DIR, strerror(errno));
		return -1;
	}
	char path[64];
	snprintf(path, sizeof(path), UPLOAD_LOGO_DIR "/logo.%s", ext);
	if (file_write_atomic(path, data, len, true, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < NTYPES; i++) {
		if (strcmp(logo_types[i].ext, ext) == 0)
			continue;
		char other[64];
		snprintf(other, sizeof(other), UPLOAD_LOGO_DIR "/logo.%s", logo_types[i].ext);
		unlink(other);
	}
	return 0;
}

int upload_logo_remove(char *err, size_t errlen)
{
	for (size_t i = 0; i < NTYPES; i++) {
		char path[64];
		snprintf(path, sizeof(path), UPLOAD_LOGO_DIR "/logo.%s", logo_types[i].ext);
		if (unlink(path) < 0 && errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

const char *upload_logo_path(struct stat *st)
{
	static char path[64];
	for (size_t i = 0; i < NTYPES; i++) {
		snprintf(path, sizeof(path), UPLOAD_LOGO_DIR "/logo.%s", logo_types[i].ext);
		if (lstat(path, st) == 0 && S_ISREG(st->st_mode))
			return path;
	}
	return NULL;
}

const char *upload_logo_url(struct arena *a)
{
	struct stat st;
	if (!upload_logo_path(&st))
		return "/static/img/logo.svg";
	/* a new upload is a new URL, even within the same second */
	return arena_printf(a, "/img/logo?v=%lld.%ld.%lld", (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec,
			    (long long)st.st_ino);
}
