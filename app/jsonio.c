#include "config.h"
#include "jsonio.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void jsonio_init(void)
{
	json_c_set_serialization_double_format("%.15g", JSON_C_OPTION_GLOBAL);
}

void jsonio_put(void *o)
{
	json_object_put(o);
}

static void position(const char *s, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

struct json_object *jsonio_parse(const char *s, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new_ex(JSONIO_MAX_DEPTH);
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	if (len > (size_t)INT32_MAX) {
		json_tokener_free(tok);
		snprintf(err, errlen, "document too large");
		return NULL;
	}
	struct json_object *o = json_tokener_parse_ex(tok, s, (int)len);
	enum json_tokener_error e = json_tokener_get_error(tok);
	size_t off = json_tokener_get_parse_end(tok);
	int line, col;
	if (!o && e == json_tokener_continue) {
		position(s, len, &line, &col);
		snprintf(err, errlen, "line %d, column %d: unexpected end of input", line, col);
		json_tokener_free(tok);
		return NULL;
	}
	if (!o && e != json_tokener_success) {
		position(s, off, &line, &col);
		snprintf(err, errlen, "line %d, column %d: %s", line, col, json_tokener_error_desc(e));
		json_tokener_free(tok);
		return NULL;
	}
	/* a bare "null" parses to NULL with success; treat as a value-less document */
	for (size_t i = off; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
			position(s, i, &line, &col);
			snprintf(err, errlen, "line %d, column %d: unexpected data after the JSON value", line, col);
			json_object_put(o);
			json_tokener_free(tok);
			return NULL;
		}
	}
	json_tokener_free(tok);
	if (!o)
		snprintf(err, errlen, "line 1, column 1: null is not allowed here");
	return o;
}

char *jsonio_read_file(const char *path, size_t max, size_t *lenp, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((size_t)st.st_size > max) {
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
		close(fd);
		return NULL;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *data = xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max + 1) {
				snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
				free(data);
				close(fd);
				return NULL;
			}
			cap *= 2;
			data = xrealloc(data, cap);
		}
		ssize_t n = read(fd, data + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(data);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		/* the size fstat gave: done without a read that only finds the end */
		if (st.st_size > 0 && len == (size_t)st.st_size)
			break;
	}
	close(fd);
	data[len] = '\0';
	if (lenp)
		*lenp = len;
	return data;
}

struct json_object *jsonio_parse_file(const char *path, size_t max, char *err, size_t errlen)
{
	size_t len;
	char *data = jsonio_read_file(path, max, &len, err, errlen);
	if (!data)
		return NULL;
	char perr[200];
	struct json_object *o = jsonio_parse(data, len, perr, sizeof(perr));
	free(data);
	if (!o)
		snprintf(err, errlen, "%s: %s", path, perr);
	return o;
}

const char *jsonio_type_name(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a number";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "?";
}

struct json_object *jsonio_get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (o && json_object_is_type(o, json_type_object))
		json_object_object_get_ex(o, key, &v);
	return v;
}

const char *jsonio_str(struct json_object *o, const char *key)
{
	struct json_object *v = jsonio_get(o, key);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}
