#include "config.h"
#include "session.h"
#include "app.h"
#include "arena.h"
#include "auth.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "jsonio.h"
#include "log.h"
#include "multipart.h"
#include "req.h"
#include "resp.h"
#include "str.h"

#include <stdlib.h>
#include <string.h>

#define SESSION_ID_BYTES 32

/* "\\x<hex>" bytea literal of sha256(id) */
static const char *id_hash(struct arena *a, const char *id)
{
	unsigned char h[SHA256_LEN];
	crypto_sha256(id, strlen(id), h);
	char *out = arena_alloc(a, 2 + 2 * SHA256_LEN + 1);
	out[0] = '\\';
	out[1] = 'x';
	hex_encode(h, SHA256_LEN, out + 2);
	return out;
}

static bool plausible_id(const char *v)
{
	size_t n = strlen(v);
	if (n != b64_encoded_len(SESSION_ID_BYTES, true))
		return false;
	for (const char *p = v; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

static const char sql_load[] =
	"SELECT u.username, coalesce(u.name, ''), coalesce(u.email, ''), "
	"array_to_string(u.roles, ','), coalesce(array_to_json(u.projects)::text, '[]'), u.auth_source, "
	/* the user's settings ride along: one round trip fewer per page (usercfg_load) */
	"(SELECT coalesce(jsonb_agg(jsonb_build_array(c.confkey, c.value) ORDER BY c.confkey), '[]')::text "
	" FROM configuration c WHERE c.username = u.username) "
	"FROM session s JOIN hpc_user u ON u.username = s.username "
	"WHERE s.id_hash = $1 AND s.expires > now()";

int session_load(struct req *r)
{
	const char *id = req_cookie(r, SESSION_COOKIE);
	if (!id || !plausible_id(id))
		return 0;
	const char *p[] = {id_hash(r->a, id)};
	PGresult *res = db_query(r->a, sql_load, 1, p);
	if (!res)
		return -1;
	if (PQntuples(res) != 1)
		return 0;
	struct user *u = arena_calloc(r->a, 1, sizeof(*u));
	u->username = PQgetvalue(res, 0, 0);
	u->name = PQgetvalue(res, 0, 1);
	u->email = PQgetvalue(res, 0, 2);
	if (roles_parse_list(PQgetvalue(res, 0, 3), &u->roles) < 0)
		return 0; /* a user without roles has no session (cc-backend invalidates it) */
	char err[128];
	const char *pj = PQgetvalue(res, 0, 4);
	struct json_object *arr = jsonio_parse(pj, strlen(pj), err, sizeof(err));
	size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	u->projects = arena_calloc(r->a, n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		u->projects[i] = arena_strdup(r->a, json_object_get_string(json_object_array_get_idx(arr, i)));
	if (arr)
		json_object_put(arr);
	u->auth_source = atoi(PQgetvalue(res, 0, 5));
	r->usercfg_text = PQgetvalue(res, 0, 6);
	r->user = u;
	r->session_id = id;
	return 0;
}

static const char sql_create[] =
	"INSERT INTO session (id_hash, username, created, expires, last_seen, remote_addr, user_agent) "
	"VALUES ($1, $2, now(), now() + make_interval(secs => $3::bigint), now(), $4, $5)";
static const char sql_delete[] = "DELETE FROM session WHERE id_hash = $1";

int session_create(struct req *r, struct resp *w, const char *username)
{
	unsigned char raw[SESSION_ID_BYTES];
	if (crypto_random(raw, sizeof(raw)) < 0)
		return log_err("session: the system random generator failed");
	const char *id = b64_encode(r->a, raw, sizeof(raw), true);
	/* a fresh id at every login: an old session cookie dies here (fixation) */
	const char *old = req_cookie(r, SESSION_COOKIE);
	if (old && plausible_id(old)) {
		const char *po[] = {id_hash(r->a, old)};
		db_query(r->a, sql_delete, 1, po);
	}
	int64_t age = the_app->conf->session_max_age;
	const char *ua = req_header(r, "User-Agent");
	char agebuf[24];
	snprintf(agebuf, sizeof(agebuf), "%lld", (long long)age);
	char uabuf[256];
	snprintf(uabuf, sizeof(uabuf), "%s", ua ? ua : "");
	if (!str_utf8_valid(uabuf, strlen(uabuf)))
		uabuf[0] = '\0';
	const char *p[] = {id_hash(r->a, id), username, agebuf, r->remote_addr, uabuf};
	if (!db_query(r->a, sql_create, 5, p))
		return -1;
	resp_cookie(w, SESSION_COOKIE, id, age, r->https ? COOKIE_SECURE : 0);
	r->session_id = id;
	return 0;
}

static const char sql_end_user[] = "DELETE FROM session WHERE username = $1";

long session_end_user(struct arena *a, const char *username)
{
	const char *p[] = {username};
	PGresult *res = db_query(a, sql_end_user, 1, p);
	return res ? atol(PQcmdTuples(res)) : -1;
}

void session_destroy(struct req *r, struct resp *w)
{
	const char *id = req_cookie(r, SESSION_COOKIE);
	if (id && plausible_id(id)) {
		const char *p[] = {id_hash(r->a, id)};
		db_query(r->a, sql_delete, 1, p);
	}
	resp_cookie(w, SESSION_COOKIE, "", -1, r->https ? COOKIE_SECURE : 0);
	r->user = NULL;
	r->session_id = NULL;
}

static const char *token_for(struct req *r, const char *purpose, const char *secret)
{
	const struct conf *c = the_app->conf;
	size_t pl = strlen(purpose), sl = strlen(secret);
	char *msg = arena_alloc(r->a, pl + 1 + sl);
	memcpy(msg, purpose, pl);
	msg[pl] = '\0';
	memcpy(msg + pl + 1, secret, sl);
	unsigned char mac[SHA256_LEN];
	crypto_hmac_sha256(c->session_key, c->session_key_len, msg, pl + 1 + sl, mac);
	return b64_encode(r->a, mac, sizeof(mac), true);
}

const char *csrf_token(struct req *r, struct resp *w)
{
	if (r->session_id)
		return token_for(r, "session", r->session_id);
	const char *pre = r->csrf_pre ? r->csrf_pre : req_cookie(r, CSRF_COOKIE);
	if (!pre || !plausible_id(pre)) {
		unsigned char raw[SESSION_ID_BYTES];
		if (crypto_random(raw, sizeof(raw)) < 0)
			return "";
		pre = b64_encode(r->a, raw, sizeof(raw), true);
		resp_cookie(w, CSRF_COOKIE, pre, 0, r->https ? COOKIE_SECURE : 0);
		r->csrf_pre = pre; /* later forms in this request use the same secret */
	}
	return token_for(r, "pre-login", pre);
}

bool csrf_valid(struct req *r)
{
	const char *got = req_form(r, "csrf_token");
	if (!got && multipart_is(r))
		got = multipart_field(r, "csrf_token");
	if (!got)
		got = req_header(r, "X-CSRF-Token");
	if (!got || !*got)
		return false;
	const char *want;
	if (r->session_id) {
		want = token_for(r, "session", r->session_id);
	} else {
		const char *pre = req_cookie(r, CSRF_COOKIE);
		if (!pre || !plausible_id(pre))
			return false;
		want = token_for(r, "pre-login", pre);
	}
	return str_ct_eq(got, strlen(got), want, strlen(want));
}

long session_sweep(void)
{
	PGresult *res = db_query_once(NULL, "DELETE FROM session WHERE expires <= now()", 0, NULL);
	if (!res)
		return -1;
	long n = atol(PQcmdTuples(res));
	PQclear(res);
	return n;
}
