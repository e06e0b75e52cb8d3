/* log: leveled log lines on stderr (the journal under systemd).
 *
 * Under systemd (JOURNAL_STREAM set) lines carry the "<N>" priority prefix that
 * journald understands; otherwise a UTC timestamp, the level and the pid.
 * Control characters in messages are written as \xNN, so untrusted text cannot
 * forge log lines.  log_err() returns -1 for "return log_err(...);". */
#ifndef JOBSCOPE_LOG_H
#define JOBSCOPE_LOG_H

enum log_level { LOG_CRIT, LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG__MAX };

void log_set_level(enum log_level l);
enum log_level log_get_level(void);
/* "debug", "info", "warn", "err", "crit" (cc-backend's -loglevel values); -1 if unknown */
int log_level_parse(const char *s);
/* A request id prepended to every line until cleared with NULL. */
void log_set_request(const char *id);

void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
