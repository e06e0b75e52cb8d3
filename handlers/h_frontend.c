/* /frontend/...: session helpers of COMPAT a.2 for any logged-in user — a JWT
 * for oneself (admins: for anyone), the per-user UI settings, and the admin's
 * log viewer over journalctl. */
#include "config.h"
#include "handlers.h"
#include "../app/api.h"
#include "../app/app.h"
#include "../app/arena.h"
#include "../app/auth.h"
#include "../app/buf.h"
#include "../app/conf.h"
#include "../app/jsonio.h"
#include "../app/log.h"
#include "../app/multipart.h"
#include "../app/req.h"
#include "../app/resp.h"
#include "../app/str.h"
#include "../app/usercfg.h"
#include "../app/usermgmt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int text_answer(struct resp *w, int status, const char *s)
{
	buf_reset(&w->body);
	buf_adds(&w->body, s);
	w->status = status;
	w->content_type = "text/plain; charset=utf-8";
	return status;
}

/* GET /frontend/jwt/?username=u */
int h_frontend_jwt(struct req *r, struct resp *w)
{
	const char *name = multipart_form_value(r, "username");
	if (!name)
		name = "";
	if (!(r->user->roles & ROLE_ADMIN) && strcmp(name, r->user->username) != 0)
		return api_error(w, 403, "only admins are allowed to sign JWTs not for themselves");
	enum usermgmt_status st;
	const char *msg = NULL;
	const char *t = usermgmt_jwt(r->a, name, &st, &msg);
	if (!t)
		return api_error(w, st == UM_NOT_FOUND ? 404 : 500, "%s", msg);
	log_info("user \"%s\" got a JWT for user \"%s\"", r->user->username, name);
	resp_header(w, "Cache-Control", "no-store");
	return text_answer(w, 200, t);
}

/* POST /frontend/configuration/ key=..&value=<JSON text> */
int h_frontend_configuration(struct req *r, struct resp *w)
{
	int bad = api_bad_form(r, w);
	if (bad)
		return bad;
	const char *key = multipart_form_value(r, "key"), *value = multipart_form_value(r, "value");
	if (!key || !*key)
		return api_error(w, 400, "missing key");
	if (!value)
		return api_error(w, 400, "missing value");
	char err[256];
	switch (usercfg_set(r->a, r->user->username, key, value, err, sizeof(err))) {
	case USERCFG_OK:
		return text_answer(w, 200, "success");
	case USERCFG_INVALID:
	case USERCFG_FULL:
		return api_error(w, 422, "%s", err);
	case USERCFG_DB:
		break;
	}
	return api_error(w, 500, "saving the setting failed: %s", err);
}

/* ---------------------------------------------------------------- logs */

#define LOGS_TIMEOUT_MS 10000
#define LOGS_MAX_OUTPUT (16u << 20)
#define LOGS_TEXT_MAX 100

/* COMPAT a.2: since and search must match ^[a-zA-Z0-9 :\-\.]+$ */
static bool log_text_ok(const char *s)
{
	if (!*s || strlen(s) > LOGS_TEXT_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == ' ' || *p == ':' || *p == '-' || *p == '.'))
			return false;
	return true;
}

static bool unit_ok(const char *s)
{
	if (!*s || strlen(s) > 256 || *s == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("@._:-\\", *p)))
			return false;
	return true;
}

enum run_result { RUN_OK, RUN_MISSING, RUN_FAILED };

/* Run argv (no shell) with stdin from /dev/null; its stdout into out, the
 * start of its stderr into errtext.  Killed after LOGS_TIMEOUT_MS or when
 * the output passes LOGS_MAX_OUTPUT. */
static enum run_result run_capture(char *const argv[], struct buf *out, char *errtext, size_t errlen)
{
	int po[2], pe[2];
	errtext[0] = '\0';
	if (pipe2(po, O_CLOEXEC) < 0)
		goto sysfail;
	if (pipe2(pe, O_CLOEXEC) < 0) {
		close(po[0]);
		close(po[1]);
		goto sysfail;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		goto sysfail;
	}
	if (pid == 0) {
		/* the child: only async-signal-safe calls until exec */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
			_exit(126);
		closefrom(3); /* the FastCGI socket and the database connection stay here */
		execvp(argv[0], argv);
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(po[1]);
	close(pe[1]);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
	size_t errgot = 0;
	bool killed = false, open_o = true, open_e = true;
	char chunk[65536];
	while (open_o || open_e) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = LOGS_TIMEOUT_MS - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0) {
			snprintf(errtext, errlen, "journalctl did not finish within %d s", LOGS_TIMEOUT_MS / 1000);
			killed = true;
			break;
		}
		fds[0].fd = open_o ? po[0] : -1;
		fds[1].fd = open_e ? pe[0] : -1;
		int n = poll(fds, 2, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (open_o && fds[0].revents) {
			ssize_t k = read(po[0], chunk, sizeof(chunk));
			if (k > 0) {
				buf_add(out, chunk, (size_t)k);
				if (out->len > LOGS_MAX_OUTPUT) {
					snprintf(errtext, errlen, "journalctl wrote more than %u MB", LOGS_MAX_OUTPUT >> 20);
					killed = true;
					break;
				}
			} else if (k == 0 || errno != EINTR) {
				open_o = false;
			}
		}
		if (open_e && fds[1].revents) {
			ssize_t k = read(pe[0], chunk, sizeof(chunk));
			if (k > 0) {
				size_t room = errgot + 1 < errlen ? errlen - 1 - errgot : 0;
				size_t take = (size_t)k < room ? (size_t)k : room;
				memcpy(errtext + errgot, chunk, take);
				errgot += take;
				errtext[errgot] = '\0';
			} else if (k == 0 || errno != EINTR) {
				open_e = false;
			}
		}
	}
	close(po[0]);
	close(pe[0]);
	if (killed)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (killed)
		return RUN_FAILED;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return RUN_MISSING;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (!errtext[0])
			snprintf(errtext, errlen, "journalctl exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return RUN_FAILED;
	}
	return RUN_OK;
sysfail:
	snprintf(errtext, errlen, "cannot start journalctl: %s", strerror(errno));
	return RUN_FAILED;
}

/* the first line of a message, without trailing white space */
static const char *first_line(struct arena *a, const char *s)
{
	size_t n = strcspn(s, "\n");
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\r'))
		n--;
	return arena_strndup(a, s, n);
}

/* GET /frontend/logs/?since=&lines=&level=&search= (admin) */
int h_frontend_logs(struct req *r, struct resp *w)
{
	if (!(r->user->roles & ROLE_ADMIN))
		return api_error(w, 403, "only admins are allowed to view logs");
	const char *since = req_param(r, "since"), *search = req_param(r, "search");
	const char *lines_s = req_param(r, "lines"), *level_s = req_param(r, "level");
	if (!since || !*since)
		since = "1 hour ago";
	if (!log_text_ok(since))
		return api_error(w, 400, "invalid 'since' parameter: expected letters, digits, spaces, ':', '-' or '.'");
	if (search && *search && !log_text_ok(search))
		return api_error(w, 400, "invalid 'search' parameter: expected letters, digits, spaces, ':', '-' or '.'");
	int64_t lines = 200, level = -1;
	if (lines_s && *lines_s && str_to_i64(lines_s, 1, 1000, &lines) < 0)
		return api_error(w, 400, "invalid 'lines' parameter: expected an integer from 1 to 1000");
	if (level_s && *level_s && str_to_i64(level_s, 0, 7, &level) < 0)
		return api_error(w, 400, "invalid 'level' parameter: expected an integer from 0 to 7");
	const char *unit = jsonio_str(jsonio_get(the_app->conf->root, "main"), "systemd-unit");
	if (!unit || !*unit)
		unit = "jobscope.service";
	if (!unit_ok(unit))
		return api_error(w, 500, "main.systemd-unit is not a unit name");

	char *argv[10];
	size_t n = 0;
	argv[n++] = arena_strdup(r->a, "journalctl");
	argv[n++] = arena_strdup(r->a, "--output=json");
	argv[n++] = arena_strdup(r->a, "--no-pager");
	argv[n++] = arena_printf(r->a, "--unit=%s", unit);
	argv[n++] = arena_printf(r->a, "--since=%s", since);
	argv[n++] = arena_printf(r->a, "--lines=%lld", (long long)lines);
	if (level >= 0)
		argv[n++] = arena_printf(r->a, "--priority=%lld", (long long)level);
	if (search && *search)
		argv[n++] = arena_printf(r->a, "--grep=%s", search);
	argv[n] = NULL;

	struct buf out;
	buf_init_arena(&out, r->a);
	char errtext[512];
	switch (run_capture(argv, &out, errtext, sizeof(errtext))) {
	case RUN_MISSING:
		return api_error(w, 503, "journalctl is not available on this host; the log viewer needs systemd's journal");
	case RUN_FAILED:
		return api_error(w, 500, "reading the journal failed: %s", first_line(r->a, errtext));
	case RUN_OK:
		break;
	}
	struct json_object *list = arena_cleanup_add(r->a, jsonio_put, json_object_new_array());
	buf_addch(&out, '\0');
	for (char *line = out.data; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (*line == '{') {
			char err[64];
			struct json_object *e = jsonio_parse(line, strlen(line), err, sizeof(err));
			if (e) {
				const char *msg = jsonio_str(e, "MESSAGE"), *ts = jsonio_str(e, "__REALTIME_TIMESTAMP");
				const char *prio = jsonio_str(e, "PRIORITY"), *u = jsonio_str(e, "_SYSTEMD_UNIT");
				if (!u)
					u = jsonio_str(e, "UNIT");
				int64_t pv = 6;
				if (prio)
					str_to_i64(prio, 0, 7, &pv);
				struct json_object *o = json_object_new_object();
				json_object_object_add(o, "timestamp", json_object_new_string(ts ? ts : ""));
				json_object_object_add(o, "priority", json_object_new_int((int)pv));
				/* binary messages come as byte arrays: they are left out */
				json_object_object_add(o, "message", json_object_new_string(msg ? msg : ""));
				json_object_object_add(o, "unit", json_object_new_string(u ? u : unit));
				json_object_array_add(list, o);
				json_object_put(e);
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return api_json(w, 200, list);
}
