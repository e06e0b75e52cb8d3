#include "config.h"
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level level = LOG_INFO;
static char request_id[40];

static const char *const names[LOG__MAX] = {
	[LOG_CRIT] = "crit", [LOG_ERR] = "err", [LOG_WARN] = "warn",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};
/* syslog priorities for journald's "<N>" prefix */
static const int prio[LOG__MAX] = {
	[LOG_CRIT] = 2, [LOG_ERR] = 3, [LOG_WARN] = 4, [LOG_INFO] = 6, [LOG_DEBUG] = 7,
};

void log_set_level(enum log_level l) { level = l; }
enum log_level log_get_level(void) { return level; }

int log_level_parse(const char *s)
{
	for (int i = 0; i < LOG__MAX; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	if (strcmp(s, "warning") == 0)
		return LOG_WARN;
	if (strcmp(s, "error") == 0)
		return LOG_ERR;
	return -1;
}

void log_set_request(const char *id)
{
	if (!id) {
		request_id[0] = '\0';
		return;
	}
	snprintf(request_id, sizeof(request_id), "%s", id);
}

/* getpid() is a system call on every line otherwise; a forked child (the
 * workers) forgets the parent's */
static atomic_long log_pid;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static void forget_pid(void) { atomic_store(&log_pid, 0); }
static void setup_pid(void) { pthread_atfork(NULL, NULL, forget_pid); }

static long my_pid(void)
{
	pthread_once(&log_once, setup_pid);
	long p = atomic_load(&log_pid);
	if (!p) {
		p = (long)getpid();
		atomic_store(&log_pid, p);
	}
	return p;
}

static void vlog(enum log_level l, const char *fmt, va_list ap)
{
	if (l > level)
		return;
	char msg[2048];
	vsnprintf(msg, sizeof(msg), fmt, ap);

	char line[2048 * 4 + 128];
	size_t n = 0;
	if (getenv("JOURNAL_STREAM")) {
		n = (size_t)snprintf(line, sizeof(line), "<%d>", prio[l]);
	} else {
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s [%ld] ",
				      names[l], my_pid());
	}
	if (request_id[0])
		n += (size_t)snprintf(line + n, sizeof(line) - n, "req=%s ", request_id);
	for (const unsigned char *p = (const unsigned char *)msg; *p && n + 5 < sizeof(line); p++) {
		if (*p < 0x20 || *p == 0x7f)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "\\x%02x", *p);
		else
			line[n++] = (char)*p;
	}
	line[n++] = '\n';
	/* one write per line: lines from several workers do not interleave */
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(l, fmt, ap);
	va_end(ap);
}

#define LOGFN(name, lvl)                        \
	void name(const char *fmt, ...)         \
	{                                       \
		va_list ap;                     \
		va_start(ap, fmt);              \
		vlog(lvl, fmt, ap);             \
		va_end(ap);                     \
	}
LOGFN(log_warn, LOG_WARN)
LOGFN(log_info, LOG_INFO)
LOGFN(log_debug, LOG_DEBUG)

int log_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
	return -1;
}
