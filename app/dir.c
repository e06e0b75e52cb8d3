#include "config.h"
#include "dir.h"
#include "arena.h"
#include "auth.h"
#include "buf.h"
#include "db.h"
#include "jsonio.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <openldap.h> /* ldap_init_fd */
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define DIR_PAGE_SIZE 200     /* entries per page of the sync's paged search (RFC 2696) */
#define DIR_NAME_MAX 1024     /* longer display names are dropped */
#define DIR_ATTR_MAX 64

/* ---- configuration ---- */

static bool attr_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > DIR_ATTR_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '.' || *p == ';'))
			return false;
	return true;
}

/* one URL: ldap://host[:port] or ldaps://host[:port], nothing after the host part */
static bool url_valid(const char *url)
{
	if (strncasecmp(url, "ldap://", 7) != 0 && strncasecmp(url, "ldaps://", 8) != 0)
		return false;
	LDAPURLDesc *lud = NULL;
	bool ok = ldap_url_parse(url, &lud) == LDAP_URL_SUCCESS && lud->lud_host && *lud->lud_host &&
		  (!lud->lud_dn || !*lud->lud_dn) && !lud->lud_attrs && !lud->lud_filter && !lud->lud_exts;
	ldap_free_urldesc(lud);
	return ok;
}

static const char *opt_str(struct json_object *sec, const char *key, const char *def)
{
	const char *s = jsonio_str(sec, key);
	return s && *s ? s : def;
}

static bool opt_bool(struct json_object *sec, const char *key)
{
	struct json_object *v = jsonio_get(sec, key);
	return v && json_object_get_boolean(v);
}

void dir_conf_free(struct dir_conf *c)
{
	if (!c)
		return;
	free(c->url);
	free(c->user_base);
	free(c->search_dn);
	free(c->user_bind);
	free(c->user_filter);
	free(c->username_attr);
	free(c->uid_attr);
	free(c);
}

int dir_conf_load(struct json_object *root, const char *path, struct dir_conf **out, char *err, size_t errlen)
{
	*out = NULL;
	struct json_object *sec = jsonio_get(jsonio_get(root, "auth"), "ldap");
	if (!sec)
		return 0;
	static const char *const required[] = {"url", "user-base", "search-dn", "user-bind", "user-filter"};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!opt_str(sec, required[i], NULL)) {
			snprintf(err, errlen, "%s: auth.ldap.%s: required (auth.ldap needs url, user-base, search-dn, user-bind and user-filter)",
				 path, required[i]);
			return -1;
		}
	}
	const char *url = jsonio_str(sec, "url");
	if (!url_valid(url)) {
		snprintf(err, errlen, "%s: auth.ldap.url: expected ldap://host[:port] (plain) or ldaps://host[:port] (TLS), got \"%s\"",
			 path, url);
		return -1;
	}
	const char *bind = jsonio_str(sec, "user-bind");
	if (!strstr(bind, "{username}")) {
		snprintf(err, errlen, "%s: auth.ldap.user-bind: expected a DN with \"{username}\" in it, such as \"uid={username},ou=people,dc=example,dc=org\"; got \"%s\"",
			 path, bind);
		return -1;
	}
	const char *uid = opt_str(sec, "uid-attr", "uid"), *uname = opt_str(sec, "username-attr", "gecos");
	if (!attr_name_valid(uid) || !attr_name_valid(uname)) {
		snprintf(err, errlen, "%s: auth.ldap.%s: expected an attribute name such as \"uid\", got \"%s\"", path,
			 attr_name_valid(uid) ? "username-attr" : "uid-attr", attr_name_valid(uid) ? uname : uid);
		return -1;
	}
	int64_t interval = 0;
	const char *iv = jsonio_str(sec, "sync-interval");
	if (iv && str_duration(iv, &interval) < 0) {
		snprintf(err, errlen, "%s: auth.ldap.sync-interval: expected a duration such as \"24h\", got \"%s\"", path, iv);
		return -1;
	}
	if (iv && interval <= 0 && strpbrk(iv, "123456789"))
		interval = 1; /* below a second: every second */

	struct dir_conf *c = xcalloc(1, sizeof(*c));
	c->url = xstrdup(url);
	c->user_base = xstrdup(jsonio_str(sec, "user-base"));
	c->search_dn = xstrdup(jsonio_str(sec, "search-dn"));
	c->user_bind = xstrdup(bind);
	const char *f = jsonio_str(sec, "user-filter");
	if (f[0] == '(') {
		c->user_filter = xstrdup(f);
	} else {
		size_t n = strlen(f) + 3;
		c->user_filter = xmalloc(n);
		snprintf(c->user_filter, n, "(%s)", f);
	}
	c->uid_attr = xstrdup(uid);
	c->username_attr = xstrdup(uname);
	c->sync_interval = interval > 0 ? interval : 0;
	c->sync_del_old_users = opt_bool(sec, "sync-del-old-users");
	c->sync_user_on_login = opt_bool(sec, "sync-user-on-login");
	c->update_user_on_login = opt_bool(sec, "update-user-on-login");
	*out = c;
	return 0;
}

/* ---- escaping ---- */

char *dir_dn_escape(const char *s)
{
	struct buf b = BUF_INIT;
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f)
			buf_addf(&b, "\\%02X", ch);
		else if (strchr(",+\"\\<>;=", ch) || (i == 0 && (ch == ' ' || ch == '#')) || (i == n - 1 && ch == ' ')) {
			buf_addch(&b, '\\');
			buf_addch(&b, (char)ch);
		} else
			buf_addch(&b, (char)ch);
	}
	return buf_detach(&b, NULL);
}

/* user-bind with every "{username}" replaced by the escaped name (heap) */
static char *user_dn(const struct dir_conf *c, const char *user)
{
	char *esc = dir_dn_escape(user);
	struct buf b = BUF_INIT;
	const char *p = c->user_bind, *q;
	while ((q = strstr(p, "{username}")) != NULL) {
		buf_add(&b, p, (size_t)(q - p));
		buf_adds(&b, esc);
		p = q + strlen("{username}");
	}
	buf_adds(&b, p);
	free(esc);
	return buf_detach(&b, NULL);
}

/* (&<user-filter>(<uid-attr>=<escaped user>)) (heap), NULL if libldap refuses */
static char *user_filter(const struct dir_conf *c, const char *user)
{
	struct berval in = {strlen(user), (char *)user}, esc = {0, NULL};
	if (ldap_bv2escaped_filter_value(&in, &esc) != 0)
		return NULL;
	struct buf b = BUF_INIT;
	buf_addf(&b, "(&%s(%s=%.*s))", c->user_filter, c->uid_attr, (int)esc.bv_len, esc.bv_val);
	ber_memfree(esc.bv_val);
	return buf_detach(&b, NULL);
}

/* ---- connections ---- */

static void ldap_failure(LDAP *ld, const struct dir_conf *c, int rc, const char *what, char *err, size_t errlen)
{
	char *diag = NULL;
	if (ld)
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	bool has_diag = diag && *diag && strcmp(diag, ldap_err2string(rc)) != 0 &&
			strcmp(diag, "(unknown error code)") != 0;
	if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR)
		snprintf(err, errlen, "LDAP server %s unreachable: %s%s%s%s", c->url, ldap_err2string(rc),
			 has_diag ? " (" : "", has_diag ? diag : "", has_diag ? ")" : "");
	else if (rc == LDAP_TIMEOUT || rc == LDAP_TIMELIMIT_EXCEEDED)
		snprintf(err, errlen, "LDAP server %s did not answer %s within %d s", c->url, what, DIR_OP_TIMEOUT);
	else
		snprintf(err, errlen, "LDAP %s at %s: %s%s%s%s", what, c->url, ldap_err2string(rc),
			 has_diag ? " (" : "", has_diag ? diag : "", has_diag ? ")" : "");
	ldap_memfree(diag);
}

/* A TCP connection to host:port within DIR_CONNECT_TIMEOUT, handed back blocking
 * with send and receive timeouts of DIR_OP_TIMEOUT.  jobscope connects itself
 * because libldap 2.5's own network timeout (LDAP_OPT_NETWORK_TIMEOUT) makes a
 * TLS handshake with a server that does not answer spin on the CPU without end;
 * on a blocking socket with SO_RCVTIMEO the handshake gives up instead.
 * The descriptor, or -1 with the reason in why. */
static int tcp_connect(const char *host, int port, char *why, size_t whylen)
{
	char service[16];
	snprintf(service, sizeof(service), "%d", port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		snprintf(why, whylen, "cannot resolve %s: %s", host, rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	int fd = -1, saved = ECONNREFUSED;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			int n;
			do
				n = poll(&p, 1, DIR_CONNECT_TIMEOUT * 1000);
			while (n < 0 && errno == EINTR);
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			if (n == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
				break;
			saved = n == 0 ? ETIMEDOUT : soerr ? soerr : errno;
		} else {
			saved = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (saved == ETIMEDOUT)
			snprintf(why, whylen, "no connection within %d s", DIR_CONNECT_TIMEOUT);
		else
			snprintf(why, whylen, "%s", strerror(saved));
		return -1;
	}
	struct timeval tv = {DIR_OP_TIMEOUT, 0};
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		snprintf(why, whylen, "socket set-up: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The TLS handshake of libldap 2.5 (GnuTLS) has no working time limit: a server
 * that accepts the connection and stays silent holds a blocking handshake for
 * ever (and with LDAP_OPT_NETWORK_TIMEOUT it spins on the CPU instead).  So a
 * one-shot timer shuts the socket down after DIR_CONNECT_TIMEOUT, which ends the
 * handshake with an error.  Workers and the task runner are single-threaded and
 * use SIGALRM for nothing else. */
static volatile sig_atomic_t watchdog_fd = -1, watchdog_fired;

static void watchdog_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	if (watchdog_fd >= 0) {
		shutdown(watchdog_fd, SHUT_RDWR); /* async-signal-safe */
		watchdog_fired = 1;
	}
	errno = saved;
}

/* ldap_install_tls within DIR_CONNECT_TIMEOUT; *late is set when the timer ended it */
static int tls_handshake(LDAP *ld, int fd, bool *late)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watchdog_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	struct itimerval on = {{0, 0}, {DIR_CONNECT_TIMEOUT, 0}}, off = {{0, 0}, {0, 0}};
	watchdog_fired = 0;
	watchdog_fd = fd;
	setitimer(ITIMER_REAL, &on, NULL);
	int rc = ldap_install_tls(ld);
	setitimer(ITIMER_REAL, &off, NULL);
	watchdog_fd = -1;
	sigaction(SIGALRM, &old, NULL);
	*late = watchdog_fired;
	return rc;
}

static LDAP *dir_connect(const struct dir_conf *c, char *err, size_t errlen)
{
	LDAPURLDesc *lud = NULL;
	if (ldap_url_parse(c->url, &lud) != LDAP_URL_SUCCESS) {
		snprintf(err, errlen, "LDAP URL %s: cannot parse it", c->url);
		return NULL;
	}
	bool tls = strcasecmp(lud->lud_scheme, "ldaps") == 0;
	char why[512];
	int fd = tcp_connect(lud->lud_host, lud->lud_port ? lud->lud_port : tls ? 636 : 389, why, sizeof(why));
	ldap_free_urldesc(lud);
	if (fd < 0) {
		snprintf(err, errlen, "LDAP server %s unreachable: %s (%s)", c->url, ldap_err2string(LDAP_SERVER_DOWN), why);
		return NULL;
	}
	LDAP *ld = NULL;
	int rc = ldap_init_fd(fd, LDAP_PROTO_TCP, c->url, &ld);
	if (rc != LDAP_SUCCESS) {
		close(fd); /* not yet libldap's on these failures */
		snprintf(err, errlen, "LDAP URL %s: %s", c->url, ldap_err2string(rc));
		return NULL;
	}
	int version = LDAP_VERSION3;
	struct timeval op = {DIR_OP_TIMEOUT, 0};
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
	ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op);
	ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	bool late = false;
	if (tls && (rc = tls_handshake(ld, fd, &late)) != LDAP_SUCCESS) {
		char *diag = NULL;
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
		if (diag && strcmp(diag, "(unknown error code)") == 0)
			*diag = '\0';
		if (late)
			snprintf(err, errlen, "LDAP server %s did not complete the TLS handshake within %d s", c->url,
				 DIR_CONNECT_TIMEOUT);
		else
			snprintf(err, errlen, "LDAP server %s: TLS handshake failed: %s%s%s%s (is its certificate for "
				 "this host name and trusted through TLS_CACERT in ldap.conf or LDAPTLS_CACERT?)", c->url,
				 ldap_err2string(rc), diag && *diag ? " (" : "", diag && *diag ? diag : "",
				 diag && *diag ? ")" : "");
		ldap_memfree(diag);
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	return ld;
}

static int dir_bind(LDAP *ld, const char *dn, const char *password)
{
	struct berval cred = {strlen(password), (char *)password};
	return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
}

/* bind as search-dn; DIR_OK or DIR_UNAVAILABLE with err */
static enum dir_status bind_search_account(LDAP *ld, const struct dir_conf *c, char *err, size_t errlen)
{
	const char *pw = getenv("LDAP_ADMIN_PASSWORD");
	if (!pw || !*pw) {
		/* an empty password would be an anonymous bind */
		snprintf(err, errlen, "LDAP_ADMIN_PASSWORD is not set (.env): the password of auth.ldap.search-dn is needed to search %s",
			 c->user_base);
		return DIR_UNAVAILABLE;
	}
	int rc = dir_bind(ld, c->search_dn, pw);
	if (rc != LDAP_SUCCESS) {
		char what[512];
		snprintf(what, sizeof(what), "bind as search-dn \"%s\"", c->search_dn);
		ldap_failure(ld, c, rc, what, err, errlen);
		return DIR_UNAVAILABLE;
	}
	return DIR_OK;
}

/* the first value of attr as a string (heap), NULL when absent, not UTF-8, with a NUL or too long */
static char *first_value(LDAP *ld, LDAPMessage *e, const char *attr, size_t max)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	char *s = NULL;
	if (v && v[0] && v[0]->bv_len <= max && !memchr(v[0]->bv_val, '\0', v[0]->bv_len) &&
	    str_utf8_valid(v[0]->bv_val, v[0]->bv_len))
		s = xstrndup(v[0]->bv_val, v[0]->bv_len);
	ldap_value_free_len(v);
	return s;
}

static bool has_value(LDAP *ld, LDAPMessage *e, const char *attr, const char *want)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	bool yes = false;
	size_t n = strlen(want);
	for (size_t i = 0; v && v[i] && !yes; i++)
		yes = v[i]->bv_len == n && memcmp(v[i]->bv_val, want, n) == 0;
	ldap_value_free_len(v);
	return yes;
}

static bool is_denial(int rc)
{
	return rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INVALID_DN_SYNTAX || rc == LDAP_NO_SUCH_OBJECT ||
	       rc == LDAP_INAPPROPRIATE_AUTH || rc == LDAP_UNWILLING_TO_PERFORM || rc == LDAP_CONSTRAINT_VIOLATION;
}

/* ---- login ---- */

/* sync-user-on-login: exactly one entry under user-filter whose uid-attr is user */
static enum dir_status find_user(LDAP *ld, const struct dir_conf *c, const char *user, char **name,
				 char *err, size_t errlen)
{
	enum dir_status st = bind_search_account(ld, c, err, errlen);
	if (st != DIR_OK)
		return st;
	char *filter = user_filter(c, user);
	if (!filter) {
		snprintf(err, errlen, "cannot escape the name for a search filter");
		return DIR_DENIED;
	}
	char *attrs[] = {c->uid_attr, c->username_attr, NULL};
	struct timeval tv = {DIR_OP_TIMEOUT, 0};
	LDAPMessage *res = NULL;
	int rc = ldap_search_ext_s(ld, c->user_base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &tv, 2, &res);
	free(filter);
	int n = res ? ldap_count_entries(ld, res) : 0;
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
		ldap_failure(ld, c, rc, "search for the user", err, errlen);
		ldap_msgfree(res);
		return DIR_UNAVAILABLE; /* user-base missing, filter refused, timeout: nobody can log in */
	}
	if (n != 1 || rc == LDAP_SIZELIMIT_EXCEEDED) {
		snprintf(err, errlen, "%s entries under %s match; sync-user-on-login needs exactly one",
			 n == 0 ? "no" : "several", c->user_base);
		ldap_msgfree(res);
		return DIR_DENIED;
	}
	LDAPMessage *e = ldap_first_entry(ld, res);
	if (!has_value(ld, e, c->uid_attr, user)) {
		/* uid matching is case-insensitive: "ALICE" must not become a second account */
		snprintf(err, errlen, "the directory entry's %s is spelt differently", c->uid_attr);
		ldap_msgfree(res);
		return DIR_DENIED;
	}
	*name = first_value(ld, e, c->username_attr, DIR_NAME_MAX);
	ldap_msgfree(res);
	return DIR_OK;
}

/* update-user-on-login: username-attr of the entry just bound as (the user's own rights) */
static char *read_own_name(LDAP *ld, const struct dir_conf *c, const char *dn)
{
	char *attrs[] = {c->username_attr, NULL};
	struct timeval tv = {DIR_OP_TIMEOUT, 0};
	LDAPMessage *res = NULL;
	char *name = NULL;
	int rc = ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL, &tv, 1, &res);
	LDAPMessage *e = rc == LDAP_SUCCESS && res ? ldap_first_entry(ld, res) : NULL;
	if (e)
		name = first_value(ld, e, c->username_attr, DIR_NAME_MAX);
	else
		log_debug("LDAP: cannot read %s of %s: %s", c->username_attr, dn, ldap_err2string(rc));
	ldap_msgfree(res);
	return name;
}

enum dir_status dir_login(const struct dir_conf *c, const char *user, const char *password,
			  enum dir_login_mode mode, char **name, char *err, size_t errlen)
{
	*name = NULL;
	if (!password || !*password) {
		/* a simple bind without a password is an anonymous bind that "succeeds" */
		snprintf(err, errlen, "empty password (not sent to the directory)");
		return DIR_DENIED;
	}
	if (!*user || !str_utf8_valid(user, strlen(user))) {
		snprintf(err, errlen, "the name is not valid UTF-8");
		return DIR_DENIED;
	}
	LDAP *ld = dir_connect(c, err, errlen);
	if (!ld)
		return DIR_UNAVAILABLE;
	enum dir_status st = DIR_OK;
	if (mode == DIR_FIND_FIRST)
		st = find_user(ld, c, user, name, err, errlen);
	char *dn = NULL;
	if (st == DIR_OK) {
		dn = user_dn(c, user);
		int rc = dir_bind(ld, dn, password);
		if (rc != LDAP_SUCCESS) {
			char what[512];
			snprintf(what, sizeof(what), "bind as \"%.400s\"", dn);
			ldap_failure(ld, c, rc, what, err, errlen);
			st = is_denial(rc) ? DIR_DENIED : DIR_UNAVAILABLE;
		}
	}
	if (st == DIR_OK && mode == DIR_READ_NAME)
		*name = read_own_name(ld, c, dn);
	if (st != DIR_OK) {
		free(*name);
		*name = NULL;
	}
	free(dn);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return st;
}

/* ---- sync ---- */

/* Read every user: users maps uid -> name (or null).  0, or -1 with err. */
static int read_users(LDAP *ld, const struct dir_conf *c, struct json_object *users, struct dir_sync_report *rep,
		      char *err, size_t errlen)
{
	char *attrs[] = {c->uid_attr, c->username_attr, NULL};
	struct berval *cookie = NULL;
	int status = 0;
	do {
		LDAPControl *page = NULL;
		int rc = ldap_create_page_control(ld, DIR_PAGE_SIZE, cookie, 0, &page);
		if (rc != LDAP_SUCCESS) {
			ldap_failure(ld, c, rc, "paged search set-up", err, errlen);
			status = -1;
			break;
		}
		LDAPControl *sctrls[] = {page, NULL};
		struct timeval tv = {DIR_OP_TIMEOUT, 0};
		LDAPMessage *res = NULL;
		rc = ldap_search_ext_s(ld, c->user_base, LDAP_SCOPE_SUBTREE, c->user_filter, attrs, 0, sctrls, NULL,
				       &tv, LDAP_NO_LIMIT, &res);
		ldap_control_free(page);
		if (rc != LDAP_SUCCESS) {
			/* a partial answer (size or time limit) must not make users vanish */
			char what[600];
			snprintf(what, sizeof(what), "search of %s with %s", c->user_base, c->user_filter);
			ldap_failure(ld, c, rc, what, err, errlen);
			ldap_msgfree(res);
			status = -1;
			break;
		}
		for (LDAPMessage *e = ldap_first_entry(ld, res); e; e = ldap_next_entry(ld, e)) {
			char *uid = first_value(ld, e, c->uid_attr, 1024);
			if (!uid || !auth_username_valid(uid)) {
				char *dn = ldap_get_dn(ld, e);
				log_warn("LDAP sync: %s: no usable %s (1 to 100 characters of UTF-8, no control characters); skipped",
					 dn ? dn : "(entry)", c->uid_attr);
				ldap_memfree(dn);
				free(uid);
				rep->skipped++;
				continue;
			}
			if (!json_object_object_get_ex(users, uid, NULL)) {
				char *name = first_value(ld, e, c->username_attr, DIR_NAME_MAX);
				json_object_object_add(users, uid, name ? json_object_new_string(name) : NULL);
				free(name);
			}
			free(uid);
		}
		LDAPControl **rctrls = NULL;
		int code = 0;
		rc = ldap_parse_result(ld, res, &code, NULL, NULL, NULL, &rctrls, 1);
		ber_bvfree(cookie);
		cookie = NULL;
		if (rc == LDAP_SUCCESS) {
			LDAPControl *pr = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, NULL);
			ber_int_t estimate;
			struct berval next = {0, NULL};
			if (pr && ldap_parse_pageresponse_control(ld, pr, &estimate, &next) == LDAP_SUCCESS) {
				if (next.bv_len > 0)
					cookie = ber_bvdup(&next);
				ber_memfree(next.bv_val);
			}
		}
		ldap_controls_free(rctrls);
	} while (cookie);
	ber_bvfree(cookie);
	return status;
}

static const char sql_add[] =
	"INSERT INTO hpc_user (username, auth_source, roles, name) "
	"SELECT e->>0, 1, '{user}', e->>1 FROM jsonb_array_elements($1::jsonb) e "
	"ON CONFLICT (username) DO NOTHING RETURNING username, coalesce(name, '')";
static const char sql_conflicts[] =
	"SELECT count(*) FROM hpc_user u JOIN jsonb_array_elements($1::jsonb) e ON u.username = e->>0 "
	"WHERE u.auth_source <> 1";
static const char sql_delete[] =
	"DELETE FROM hpc_user WHERE auth_source = 1 AND username NOT IN "
	"(SELECT e->>0 FROM jsonb_array_elements($1::jsonb) e) RETURNING username";
static const char sql_stale[] =
	"SELECT count(*) FROM hpc_user WHERE auth_source = 1 AND username NOT IN "
	"(SELECT e->>0 FROM jsonb_array_elements($1::jsonb) e)";

static int write_users(const struct dir_conf *c, const char *list, struct dir_sync_report *rep, FILE *out,
		       char *err, size_t errlen)
{
	struct arena a;
	arena_init(&a, 4096);
	const char *p[] = {list};
	int status = -1;
	if (db_begin() < 0)
		goto out;
	PGresult *r = db_query_once(&a, sql_add, 1, p);
	if (!r)
		goto fail;
	rep->added = PQntuples(r);
	for (int i = 0; out && i < PQntuples(r); i++) {
		const char *nm = PQgetvalue(r, i, 1);
		fprintf(out, "added LDAP user %s%s%s%s\n", PQgetvalue(r, i, 0), *nm ? " (" : "", nm, *nm ? ")" : "");
	}
	if (!(r = db_query_once(&a, sql_conflicts, 1, p)))
		goto fail;
	rep->conflicts = atol(PQgetvalue(r, 0, 0));
	if (c->sync_del_old_users) {
		if (!(r = db_query_once(&a, sql_delete, 1, p)))
			goto fail;
		rep->deleted = PQntuples(r);
		for (int i = 0; i < PQntuples(r); i++) {
			if (out)
				fprintf(out, "deleted LDAP user %s (no longer in the directory)\n", PQgetvalue(r, i, 0));
			log_info("LDAP sync: deleted user \"%s\" (no longer in the directory)", PQgetvalue(r, i, 0));
		}
	} else {
		if (!(r = db_query_once(&a, sql_stale, 1, p)))
			goto fail;
		rep->stale_kept = atol(PQgetvalue(r, 0, 0));
	}
	if (db_commit() < 0)
		goto out;
	status = 0;
	goto out;
fail:
	db_rollback();
out:
	if (status < 0)
		snprintf(err, errlen, "LDAP sync: database: %s", db_last_error());
	arena_release(&a);
	return status;
}

int dir_sync(const struct dir_conf *c, struct dir_sync_report *rep, FILE *out, char *err, size_t errlen)
{
	memset(rep, 0, sizeof(*rep));
	LDAP *ld = dir_connect(c, err, errlen);
	if (!ld)
		return -1;
	struct json_object *users = json_object_new_object();
	int status = -1;
	if (bind_search_account(ld, c, err, errlen) == DIR_OK && read_users(ld, c, users, rep, err, errlen) == 0)
		status = 0;
	ldap_unbind_ext_s(ld, NULL, NULL);
	if (status == 0) {
		struct json_object *list = json_object_new_array();
		json_object_object_foreach(users, uid, name) {
			struct json_object *pair = json_object_new_array();
			json_object_array_add(pair, json_object_new_string(uid));
			json_object_array_add(pair, json_object_get(name));
			json_object_array_add(list, pair);
		}
		rep->found = (long)json_object_array_length(list);
		status = write_users(c, json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
				     rep, out, err, errlen);
		json_object_put(list);
	}
	json_object_put(users);
	return status;
}

void dir_sync_summary(const struct dir_sync_report *rep, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%ld users in the directory: %ld added, %ld deleted", rep->found, rep->added,
			 rep->deleted);
	if (n < 0 || (size_t)n >= len)
		return;
	if (rep->stale_kept)
		n += snprintf(buf + n, len - (size_t)n, ", %ld no longer in the directory kept (sync-del-old-users is off)",
			      rep->stale_kept);
	if (n >= 0 && (size_t)n < len && rep->conflicts)
		n += snprintf(buf + n, len - (size_t)n, ", %ld left alone because a local account has the name",
			      rep->conflicts);
	if (n >= 0 && (size_t)n < len && rep->skipped)
		snprintf(buf + n, len - (size_t)n, ", %ld entries without a usable name skipped", rep->skipped);
}

void dir_sync_logged(const struct dir_conf *c)
{
	struct dir_sync_report rep;
	char err[1024], sum[512];
	if (dir_sync(c, &rep, NULL, err, sizeof(err)) < 0) {
		log_warn("LDAP sync failed, next try in %lld s: %s", (long long)c->sync_interval, err);
		return;
	}
	dir_sync_summary(&rep, sum, sizeof(sum));
	log_info("LDAP sync: %s", sum);
}
