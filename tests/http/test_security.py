"""Security suite (issue: directory login, roles everywhere, settings page, security tests).

Driven by the route table: `jobscope -routes` prints app/routes.c, and every route found
there must be classified below (SAMPLES: a request that WOULD change state if it got
through; OPEN / PUBLIC: routes that any session, or anybody, may call).  A new route
fails test_every_route_is_classified until it is added here, and is then swept by:
  - no credentials                       -> 401 login page (pages) or 401 JSON (/config, /frontend, API)
  - a session on the token-only API       -> 401 JSON (a cookie is not an API credential)
  - every wrong role (sessions, tokens)   -> 403 (pages, /config, /frontend) or 401 JSON (API groups)
  - forged JWTs on every API route        -> 401 JSON
  - every CSRF form without / with a wrong / with another session's token -> 403
  - a body over the limit, through nginx and straight to the app -> 413
each checked for "no change of state" with Site.state() (tables and files).  Then XSS payloads
in every user-controlled field that reaches a page, SQL metacharacters in every filter
parameter (names read from app/jobquery.c and the API handler, so new ones are covered too),
JWTs with validate-user, and the share of the data each role sees.

Already covered elsewhere (not repeated here):
  cookie flags (HttpOnly, SameSite=Lax, Secure over TLS / X-Forwarded-Proto, HSTS)
                                  -> test_login.py test_session_cookie_flags, test_csrf_cookie_flags,
                                     test_secure_cookies_over_tls, test_nginx_overwrites_x_forwarded_proto
                                     (here: every Set-Cookie of the sweeps is checked as well)
  login CSRF details, cross-site POSTs -> test_csrf.py
  LDAP filter and DN injection in the username against slapd (*, )(uid=*, \\, ...), no state change
                                  -> test_ldap.py test_injection_usernames_fail_and_change_nothing,
                                     test_bind_dn_is_escaped; NUL in the username -> test_errors.py
                                     test_malformed_form_400
  SQL metacharacters in the login username -> test_login.py test_sql_metacharacters_in_username
  JWT attacks on /jwt-login and the portal cookie (alg none, wrong key, expired, nbf, no sub)
                                  -> test_crosslogin.py test_token_login_refused, test_cookie_refused
  logo upload: HTML called .png refused (415), type from bytes not name, SVG with script served
  sandboxed with nosniff, oversized logo 413 -> test_config.py test_logo_*
  oversized URI, headers, cookies, bodies   -> test_errors.py
  users/projects/user/tags pages by role, private tags of others hidden on the tags page,
  hostile user and project names escaped  -> test_monitoring_pages.py
  foreign job view is a 404 (plain user)   -> test_job_pages.py test_unknown_or_foreign_job_is_404
  API role gates of each group, /userapi visibility -> test_api.py test_role_gates, test_userapi_visibility
  sessions end when the user is deleted (CLI) -> test_cli.py test_del_user_ends_sessions (the web and
                                     REST ways: test_sessions_end_when_a_role_goes_or_the_user here)
  home page counts by role         -> test_pages.py test_home_logged_in, test_home_counts_of_an_admin
  tag write scopes in the API      -> test_api.py test_tag_job_running, test_start_job_tag_scope_not_writable_*

Everything made here is called sec*, jobs have jobIds 796000..796999 on clusters heron and secx.
"""

import json
import os
import re
import shutil
import time
import urllib.parse

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from apihelpers import Second, Tokens, archived_job, err_of, import_jobs
from conftest import MAX_BODY, SRCDIR, USERS, run_jobscope
from jshelpers import cookie_attrs, csrf_from, png_bytes, show

NOW = int(time.time())
PW = "sec-Secret-9"
# login name: (roles, projects)
ACCOUNTS = {
    "secuser": ("user", []),
    "secmgr": ("manager", ["secp1"]),
    "secsup": ("support", []),
    "secvictim": ("user", []),
}
XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "'\";--"]


def xss_escaped(p):
    return p.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#39;")


def q(s):
    return "'" + s.replace("'", "''") + "'"


# ----------------------------------------------------------------- the route table

def route_table():
    """[(method, pattern, fmt, auth, roles set, csrf)] from `jobscope -routes`"""
    p = run_jobscope(["-routes"], cwd=SRCDIR)
    assert p.returncode == 0, p.stderr
    out = []
    for line in p.stdout.splitlines():
        methods, pattern, fmt, auth, roles, csrf = line.split("\t")
        for m in methods.split(","):
            out.append((m, pattern, fmt, auth, set() if roles == "-" else set(roles.split(",")), csrf))
    assert len(out) > 50, p.stdout
    return out


ROUTES = route_table()


def route_id(rt):
    return "%s %s" % (rt[0], rt[1])



# A request per route that would change something (or reveal something) if it got through.
# Values are functions of the context (ids of the victim job and user); "form" is sent
# url-encoded, "json" as application/json, "files" as multipart.
def _stop(c):
    return {"json": {"jobId": c["job_id"], "cluster": "heron", "startTime": c["start"], "stopTime": NOW,
                     "jobState": "completed"}}


SAMPLES = {
    ("GET", "/"): lambda c: {},
    ("GET", "/login"): lambda c: {},
    ("POST", "/login"): lambda c: {"form": {"username": USERS["user"][0], "password": USERS["user"][1]}},
    ("POST", "/logout"): lambda c: {"form": {}},
    ("GET", "/jwt-login"): lambda c: {"path": "/jwt-login?login-token=a.b.c"},
    ("POST", "/jwt-login"): lambda c: {"form": {"login-token": "a.b.c"}},
    ("GET", "/config"): lambda c: {"direct": True},  # nginx itself redirects /config to /config/
    ("GET", "/config/"): lambda c: {},
    ("POST", "/config/form/settings"): lambda c: {"form": {"plots_per_row": "6", "jobs_per_page": "100"}},
    ("POST", "/config/form/token"): lambda c: {"form": {}},
    ("POST", "/config/form/user/add"): lambda c: {"form": {"username": "secnew", "password": PW, "role": "admin"}},
    ("POST", "/config/form/user/delete"): lambda c: {"form": {"username": "secvictim"}},
    ("POST", "/config/form/user/edit"): lambda c: {"form": {"username": "secvictim", "op": "add-role", "value": "admin"}},
    ("POST", "/config/form/user/jwt"): lambda c: {"form": {"username": "secvictim"}},
    ("POST", "/config/form/notice"): lambda c: {"form": {"new-content": "sec: pwned"}},
    ("POST", "/config/form/logo"): lambda c: {"files": {"logo": ("logo.png", png_bytes(), "image/png")}},
    ("POST", "/config/form/logo/delete"): lambda c: {"form": {}},
    ("GET", "/img/logo"): lambda c: {},
    ("GET", "/config/roles/"): lambda c: {},
    ("POST", "/config/users/"): lambda c: {"form": {"username": "secnew", "password": PW, "role": "admin"}},
    ("PUT", "/config/users/"): lambda c: {"form": {"username": "secnew", "password": PW, "role": "admin"}},
    ("GET", "/config/users/"): lambda c: {},
    ("DELETE", "/config/users/"): lambda c: {"form": {"username": "secvictim"}},
    ("POST", "/config/user/{id}"): lambda c: {"path": "/config/user/secvictim", "form": {"add-role": "admin"}},
    ("POST", "/config/notice/"): lambda c: {"form": {"new-content": "sec: pwned"}},
    ("GET", "/config/taggers/"): lambda c: {},
    ("POST", "/config/taggers/run/"): lambda c: {"form": {"name": "AppTagger"}},
    ("GET", "/frontend/jwt/"): lambda c: {"path": "/frontend/jwt/?username=secvictim"},
    ("POST", "/frontend/configuration/"): lambda c: {"form": {"key": "plotConfiguration_plotsPerRow", "value": "6"}},
    ("GET", "/frontend/logs/"): lambda c: {},
    ("GET", "/monitoring/jobs/"): lambda c: {"path": "/monitoring/jobs/?cluster=heron&jobId=%d" % c["job_id"]},
    ("GET", "/monitoring/job/{id}"): lambda c: {"path": "/monitoring/job/%d" % c["db_id"]},
    ("GET", "/monitoring/users/"): lambda c: {},
    ("GET", "/monitoring/projects/"): lambda c: {},
    ("GET", "/monitoring/user/{id}"): lambda c: {"path": "/monitoring/user/secvictim"},
    ("GET", "/monitoring/tags/"): lambda c: {},
    ("GET", "/search"): lambda c: {"path": "/search?searchId=secvictim"},
    ("GET", "/imprint"): lambda c: {},
    ("GET", "/privacy"): lambda c: {},
    ("GET", "/healthz"): lambda c: {},
    ("GET", "/ping"): lambda c: {},
    ("POST", "/api/jobs/start_job/"): lambda c: {"json": {
        "jobId": c["job_id"] + 500, "cluster": "heron", "user": "secvictim", "project": "secp1", "startTime": NOW,
        "numNodes": 1, "resources": [{"hostname": "h0001"}]}},
    ("PUT", "/api/jobs/start_job/"): lambda c: SAMPLES[("POST", "/api/jobs/start_job/")](c),
    ("POST", "/api/jobs/stop_job/"): _stop,
    ("PUT", "/api/jobs/stop_job/"): _stop,
    ("GET", "/api/jobs/"): lambda c: {},
    ("GET", "/api/jobs/used_nodes"): lambda c: {"path": "/api/jobs/used_nodes?ts=%d" % NOW},
    ("POST", "/api/jobs/tag_job/{id}"): lambda c: {"path": "/api/jobs/tag_job/%d" % c["db_id"],
                                                    "json": [{"type": "sec", "name": "added", "scope": "global"}]},
    ("PATCH", "/api/jobs/tag_job/{id}"): lambda c: SAMPLES[("POST", "/api/jobs/tag_job/{id}")](c),
    ("DELETE", "/api/jobs/tag_job/{id}"): lambda c: {"path": "/api/jobs/tag_job/%d" % c["db_id"],
                                                      "json": [{"type": "sec", "name": "victim", "scope": "global"}]},
    ("PATCH", "/api/jobs/edit_meta/{id}"): lambda c: {"path": "/api/jobs/edit_meta/%d" % c["db_id"],
                                                       "json": {"key": "jobName", "value": "pwned"}},
    ("PATCH", "/api/jobs/edit_meta/"): lambda c: {"json": {"jobId": c["job_id"], "cluster": "heron", "startTime": c["start"],
                                                           "payload": {"key": "jobName", "value": "pwned"}}},
    ("GET", "/api/jobs/metrics/{id}"): lambda c: {"path": "/api/jobs/metrics/%d" % c["db_id"]},
    ("DELETE", "/api/jobs/delete_job/"): lambda c: {"json": {"jobId": c["job_id"], "cluster": "heron", "startTime": c["start"]}},
    ("DELETE", "/api/jobs/delete_job/{id}"): lambda c: {"path": "/api/jobs/delete_job/%d" % c["db_id"]},
    ("DELETE", "/api/jobs/delete_job_before/{ts}"): lambda c: {"path": "/api/jobs/delete_job_before/%d" % (NOW + 86400)},
    ("GET", "/api/jobs/{id}"): lambda c: {"path": "/api/jobs/%d" % c["db_id"]},
    ("POST", "/api/jobs/{id}"): lambda c: {"path": "/api/jobs/%d" % c["db_id"], "json": ["cpu_load"]},
    ("DELETE", "/api/tags/"): lambda c: {"json": [{"type": "sec", "name": "victim", "scope": "global"}]},
    ("GET", "/api/clusters/"): lambda c: {},
    ("GET", "/api/users/"): lambda c: {},
    ("POST", "/api/user/{id}"): lambda c: {"path": "/api/user/secvictim", "form": {"add-role": "admin"}},
    ("POST", "/api/nodestate/"): lambda c: {"json": {"cluster": "heron", "nodes": [{"hostname": "secnode", "states": ["idle"]}]}},
    ("PUT", "/api/nodestate/"): lambda c: SAMPLES[("POST", "/api/nodestate/")](c),
    ("POST", "/api/healthcheck"): lambda c: SAMPLES[("POST", "/api/nodestate/")](c),
    ("POST", "/api/healthcheck/"): lambda c: SAMPLES[("POST", "/api/nodestate/")](c),
    ("GET", "/userapi/jobs/"): lambda c: {},
    ("GET", "/userapi/jobs/metrics/{id}"): lambda c: {"path": "/userapi/jobs/metrics/%d" % c["db_id"]},
    ("GET", "/userapi/jobs/{id}"): lambda c: {"path": "/userapi/jobs/%d" % c["db_id"]},
    ("POST", "/userapi/jobs/{id}"): lambda c: {"path": "/userapi/jobs/%d" % c["db_id"], "json": ["cpu_load"]},
}

# Session routes without a role gate: every logged-in user may call them (what they show
# is filtered by role).  A new one must be added here on purpose.
OPEN = {"/", "/logout", "/config", "/config/", "/config/form/settings", "/frontend/jwt/", "/frontend/configuration/",
        "/monitoring/jobs/", "/monitoring/job/{id}", "/monitoring/user/{id}", "/monitoring/tags/", "/search"}
# Routes without any login.
PUBLIC = {"/login", "/jwt-login", "/img/logo", "/imprint", "/privacy", "/healthz", "/ping"}

SESSION_ROLES = {"secuser": {"user"}, "secmgr": {"manager"}, "secsup": {"support"}, "admin": {"admin", "api"}}
TOKEN_ROLES = [[], ["api"], ["user"], ["manager"], ["support"], ["admin"], ["user", "api"], ["manager", "api"],
               ["support", "api"], ["admin", "api"], ["user", "manager", "support"], ["api", "api"]]


def api_gate_passes(auth, roles):
    """COMPAT a.1: who passes which token group, quirks included"""
    rs = set(roles)
    if rs == {"api"}:
        return True
    if "api" not in rs:
        return False
    return {
        "api": bool(rs & {"admin"}),
        "metricstore": bool(rs & {"user", "manager", "admin"}),
        "userapi": bool(rs & {"user", "manager", "support", "admin"}),
    }[auth]


# ----------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def tok(js):
    return Tokens(os.path.join(js.T, ".env"))


def cleanup(js):
    js.sql("DELETE FROM job WHERE job_id BETWEEN 796000 AND 796999")
    js.sql("DELETE FROM tag WHERE tag_type LIKE 'sec%%' OR tag_type IN (%s) OR tag_name IN (%s)"
           % (", ".join(q(p) for p in XSS), ", ".join(q(p) for p in XSS)))
    js.sql("DELETE FROM hpc_user WHERE username LIKE 'sec%%' OR username IN (%s)" % ", ".join(q(p) for p in XSS))
    js.sql("DELETE FROM node WHERE hostname = 'secnode'")
    shutil.rmtree(os.path.join(js.var, "job-archive", "heron", "796"), ignore_errors=True)


@pytest.fixture(scope="module")
def site(js):
    """accounts of every role, a victim job with a tag, sessions for each account"""
    cleanup(js)
    for name, (roles, projects) in ACCOUNTS.items():
        p = run_jobscope(["-config", js.config, "-add-user", "%s:%s:%s" % (name, roles, PW)], cwd=js.T)
        assert p.returncode == 0, p.stdout + p.stderr
        if projects:
            js.sql("UPDATE hpc_user SET projects = ARRAY[%s]::text[] WHERE username = %s"
                   % (", ".join(q(x) for x in projects), q(name)))
    start = NOW - 600
    js.sql("INSERT INTO job (job_id, cluster, subcluster, hpc_user, project, job_state, start_time, resources, num_nodes, "
           "meta_data) VALUES (796001, 'heron', 'main', 'secvictim', 'secp9', 'running', %d, "
           "'[{\"hostname\": \"h0001\"}]', 1, '{\"jobName\": \"victim\"}')" % start)
    db_id = int(js.sql("SELECT id FROM job WHERE job_id = 796001"))
    js.sql("INSERT INTO tag (tag_type, tag_name, tag_scope) VALUES ('sec', 'victim', 'global')")
    js.sql("INSERT INTO jobtag (job_id, tag_id) SELECT %d, id FROM tag WHERE tag_type = 'sec'" % db_id)
    clients = {name: js.login_as(name, PW) for name in ACCOUNTS}
    clients["admin"] = js.login("admin")
    ctx = {"job_id": 796001, "db_id": db_id, "start": start, "clients": clients}
    yield ctx
    cleanup(js)


def send(js, rt, ctx, client=None, headers=None, csrf=None, query=None):
    """The route's sample request; csrf: a token to add to the form (or the header for JSON bodies);
    query: more query string."""
    spec = SAMPLES[(rt[0], rt[1])](ctx)
    path = spec.get("path", rt[1])
    if query:
        path += ("&" if "?" in path else "?") + query
    h = dict(headers or {})
    kw = {}
    if spec.get("direct"):
        assert rt[0] == "GET" and csrf is None, rt
        return js.direct(rt[0], path, client, headers=h)
    if "json" in spec:
        h["Content-Type"] = "application/json"
        kw["data"] = json.dumps(spec["json"])
        if csrf is not None:
            h["X-CSRF-Token"] = csrf
    elif "files" in spec:
        files = dict(spec["files"])
        if csrf is not None:
            files["csrf_token"] = (None, csrf)
        kw["files"] = files
    elif "form" in spec:
        form = dict(spec["form"])
        if csrf is not None:
            form["csrf_token"] = csrf
        kw["data"] = form
    return js.request(rt[0], path, client, headers=h, **kw)


def assert_cookie_flags(r):
    """every cookie jobscope sets is HttpOnly and SameSite=Lax (Secure: test_login.py, over TLS)"""
    raw = r.raw.headers.getlist("Set-Cookie") if hasattr(r, "raw") else []
    for v in raw:
        _, _, attrs = cookie_attrs(v)
        assert attrs.get("httponly") is True and str(attrs.get("samesite")).lower() == "lax", (v, show(r))


def assert_login_page(r):
    assert r.status_code == 401, show(r)
    assert r.headers["Content-Type"].startswith("text/html"), show(r)
    assert 'action="/login"' in r.text, show(r)


def assert_json_error(r, status, error=None):
    assert r.status_code == status, show(r)
    assert r.headers["Content-Type"].startswith("application/json"), show(r)
    d = r.json()
    assert set(d) == {"status", "error"}, d
    if error is not None:
        assert d["error"] == error, show(r)
    return d


# ----------------------------------------------------------------- the route table is classified

def test_every_route_is_classified():
    keys = {(rt[0], rt[1]) for rt in ROUTES}
    assert keys - set(SAMPLES) == set(), "routes without a sample request here: %s" % sorted(keys - set(SAMPLES))
    assert set(SAMPLES) - keys == set(), "samples of routes that are gone: %s" % sorted(set(SAMPLES) - keys)
    for m, pattern, fmt, auth, roles, csrf in ROUTES:
        if auth == "public":
            assert pattern in PUBLIC, "%s %s needs no login: add it to PUBLIC if that is meant" % (m, pattern)
        elif auth in ("page", "frontend") and not roles:
            assert pattern in OPEN, "%s %s is open to every session: add it to OPEN if that is meant" % (m, pattern)
        # every unsafe session route checks a CSRF token; the token groups take no cookies at all
        if auth in ("page", "config", "frontend") and m not in ("GET", "HEAD"):
            assert csrf == "csrf", "%s %s changes state without a CSRF check" % (m, pattern)
        if auth == "public" and m not in ("GET", "HEAD"):
            assert csrf == "csrf-pre", "%s %s (public) changes state without a CSRF check" % (m, pattern)
        if auth in ("config", "frontend") or pattern.startswith(("/api/", "/userapi/")):
            assert fmt == "json", (m, pattern)
    assert set(PUBLIC) <= {rt[1] for rt in ROUTES} and set(OPEN) <= {rt[1] for rt in ROUTES}


def test_routes_flag_in_help(js):
    p = run_jobscope(["-help"], cwd=js.T)
    assert "-routes" in p.stdout


# ----------------------------------------------------------------- unauthenticated

@pytest.mark.parametrize("rt", ROUTES, ids=route_id)
def test_unauthenticated(js, site, rt):
    m, pattern, fmt, auth, roles, csrf = rt
    before = js.state()
    r = send(js, rt, site)
    assert r.status_code < 500, show(r)
    assert_cookie_flags(r)
    if auth == "public":
        if m != "GET":
            assert r.status_code == 403, show(r)  # no pre-login token
        assert "session" not in r.cookies or r.cookies.get("session") == "", show(r)
    elif auth == "page":
        assert_login_page(r)
    else:
        assert_json_error(r, 401, "no user for secured check")
        assert r.json()["status"] == "Unauthorized"
    assert js.state() == before, route_id(rt)


@pytest.mark.parametrize("rt", [rt for rt in ROUTES if rt[3] in ("api", "userapi", "metricstore")], ids=route_id)
def test_session_is_no_api_credential(js, site, rt):
    """an admin's session cookie (and its CSRF token) does not open the token-only groups"""
    before = js.state()
    c = site["clients"]["admin"]
    r = send(js, rt, site, c, csrf=csrf_from(js.get("/config/", c).text))
    assert_json_error(r, 401, "no user for secured check")
    assert js.state() == before


# ----------------------------------------------------------------- wrong roles

def wrong_sessions(rt):
    m, pattern, fmt, auth, roles, csrf = rt
    need = set(roles) | ({"admin"} if auth == "config" else set())
    if auth not in ("page", "config", "frontend") or not need:
        return []
    return [who for who, has in SESSION_ROLES.items() if not has & need]


SESSION_GATED = [(rt, who) for rt in ROUTES for who in wrong_sessions(rt)]


def test_every_gated_route_has_a_wrong_session():
    for rt in ROUTES:
        if rt[3] == "config" or (rt[3] in ("page", "frontend") and rt[4]):
            assert wrong_sessions(rt), route_id(rt)


@pytest.mark.parametrize("rt,who", SESSION_GATED, ids=["%s as %s" % (route_id(rt), who) for rt, who in SESSION_GATED])
def test_wrong_role_session(js, site, rt, who):
    c = site["clients"][who]
    token = csrf_from(js.get("/config/", c).text)  # a valid token: the role gate must refuse, not CSRF
    before = js.state()
    r = send(js, rt, site, c, csrf=token)
    assert r.status_code == 403, show(r)
    if rt[2] == "json":
        assert_json_error(r, 403)
    else:
        assert r.headers["Content-Type"].startswith("text/html"), show(r)
        assert "Your roles do not allow this page." in r.text, show(r)
    assert js.state() == before


TOKEN_GATED = [(rt, roles) for rt in ROUTES if rt[3] in ("api", "userapi", "metricstore")
               for roles in TOKEN_ROLES if not api_gate_passes(rt[3], roles)]


@pytest.mark.parametrize("rt,roles", TOKEN_GATED, ids=["%s as %s" % (route_id(rt), "+".join(roles) or "none")
                                                       for rt, roles in TOKEN_GATED])
def test_wrong_role_token(js, site, tok, rt, roles):
    before = js.state()
    r = send(js, rt, site, headers={"X-Auth-Token": tok.mint("secvictim", roles)})
    d = assert_json_error(r, 401, "unauthorized")
    assert d["status"] == "Unauthorized"
    assert js.state() == before


def forged_tokens(tok):
    return {
        "alg none": Tokens.unsigned("admin", ["admin", "api"]),
        "HS256 with the public key": tok.hs256_with_public_key("admin", ["api"]),
        "expired": tok.mint("admin", ["admin", "api"], exp_in=-10),
        "not yet valid": tok.mint("admin", ["admin", "api"], nbf=int(time.time()) + 3600),
        "foreign key": tok.mint("admin", ["admin", "api"], key=Ed25519PrivateKey.generate()),
        "no sub": tok.mint(None, ["api"]),
        "tampered roles": tok.tampered("secvictim", ["user"], {"roles": ["api"]}),
        "tampered sub": tok.tampered("secvictim", ["api"], {"sub": "admin"}),
        "tampered exp": tok.tampered("admin", ["api"], {"exp": int(time.time()) + 86400 * 365}),
        "two parts": ".".join(tok.mint("admin", ["api"]).split(".")[:2]),
        "not a jwt": "secret",
    }


@pytest.mark.parametrize("rt", [rt for rt in ROUTES if rt[3] in ("api", "userapi", "metricstore")], ids=route_id)
def test_forged_tokens(js, site, tok, rt):
    before = js.state()
    for what, t in forged_tokens(tok).items():
        for header in ({"X-Auth-Token": t}, {"Authorization": "Bearer " + t}):
            r = send(js, rt, site, headers=header)
            d = assert_json_error(r, 401)
            assert d["status"] == "Unauthorized" and d["error"], (what, show(r))
    assert js.state() == before


@pytest.fixture(scope="module")
def strict_api(js, tok):
    """jobscope with auth.jwts.validate-user: the database says who a token's user is"""
    s = Second(js, {}, jwts={"validate-user": True})
    yield s
    s.stop()


def test_validate_user_tokens(js, site, tok, strict_api):
    before = js.state()
    for t in (tok.mint("sec-nobody", ["api"]),                 # unknown user
              tok.mint("secvictim", ["admin", "api"]),         # the token's roles do not count, the database's do
              tok.mint("secvictim", ["api"])):
        for path in ("/api/jobs/", "/userapi/jobs/"):
            r = strict_api.request("GET", path, t, "127.0.0.1")
            assert r.status == 401, r
            assert json.loads(r.text) == {"status": "Unauthorized", "error": "unauthorized"}, r
    r = strict_api.request("DELETE", "/api/jobs/delete_job/%d" % site["db_id"], tok.mint("secvictim", ["admin", "api"]),
                           "127.0.0.1")
    assert r.status == 401, r
    # the admin of the database (admin, api) passes
    r = strict_api.request("GET", "/api/jobs/?items-per-page=1", tok.mint("admin", ["user"]), "127.0.0.1")
    assert r.status == 200, r
    assert js.state() == before


# ----------------------------------------------------------------- CSRF on every form

CSRF_ROUTES = [rt for rt in ROUTES if rt[5] != "-" and rt[0] not in ("GET", "HEAD")]


@pytest.mark.parametrize("bad", ["none", "empty", "wrong", "other session", "in the query"])
@pytest.mark.parametrize("rt", CSRF_ROUTES, ids=route_id)
def test_csrf(js, site, rt, bad):
    if rt[5] == "csrf-pre":
        c = requests.Session()
        good = js.login_form(c)[1]
        other = js.login_form(requests.Session())[1]
    else:
        c = site["clients"]["admin"]
        good = csrf_from(js.get("/config/", c).text)
        other = csrf_from(js.get("/config/", site["clients"]["secsup"]).text)
    token = {"none": None, "empty": "", "wrong": "A" * 43, "other session": other, "in the query": None}[bad]
    assert token != good
    before = js.state()
    query = "csrf_token=" + urllib.parse.quote(good) if bad == "in the query" else None
    r = send(js, rt, site, c, csrf=token, query=query)
    assert r.status_code == 403, show(r)
    if rt[2] == "json":
        assert "security token" in assert_json_error(r, 403)["error"]
    else:
        assert "security token" in r.text, show(r)
    assert "session" not in {k for k, v in r.cookies.items() if v}, show(r)
    assert js.state() == before


# ----------------------------------------------------------------- oversized bodies

UNSAFE = [rt for rt in ROUTES if rt[0] not in ("GET", "HEAD")]


@pytest.mark.parametrize("rt", UNSAFE, ids=route_id)
def test_oversized_body(js, site, rt):
    c = site["clients"]["admin"]
    token = csrf_from(js.get("/config/", c).text)
    spec = SAMPLES[(rt[0], rt[1])](site)
    path = spec.get("path", rt[1])
    before = js.state()
    big = b"x" * (MAX_BODY + 1)
    # through nginx (its own limit or the app's)
    r = js.request(rt[0], path, c, data=big, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                      "X-CSRF-Token": token, "X-Auth-Token": "x"})
    assert r.status_code == 413, show(r)
    # straight to the app: its main.max-body-size, before anything is read
    r = js.fcgi(rt[0], path, body=big, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                "Cookie": "session=" + c.cookies["session"], "X-CSRF-Token": token})
    assert r.status == 413, r
    assert js.state() == before


def test_too_many_form_fields(js, site):
    c = site["clients"]["admin"]
    token = csrf_from(js.get("/config/", c).text)
    before = js.state()
    body = "&".join("f%d=1" % i for i in range(300)) + "&new-content=sec+pwned&csrf_token=" + token
    for path in ("/config/form/notice", "/config/notice/"):
        r = js.post(path, c, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 400, show(r)
    assert js.state() == before


# ----------------------------------------------------------------- XSS

@pytest.fixture(scope="module")
def hostile(js, site):
    """archived jobs whose name, script, Slurm info, admin note, tags, host, partition, user (login,
    name, email) and project are the payloads"""
    users = []
    for i, p in enumerate(XSS):
        name = "sec" + p if "/" not in p else "sec-xss-%d" % i  # a '/' in a login name has no user page
        js.sql("INSERT INTO hpc_user (username, name, email, roles) VALUES (%s, %s, %s, '{user}')"
               % (q(name), q("Name " + p), q("mail" + p + "@example.org")))
        users.append(name)
    jobs = []
    for i, p in enumerate(XSS):
        meta, data = archived_job(796100 + i, NOW - 7200, hosts=("host" + p,), user=users[i], project="secproj" + p)
        meta["metaData"] = {"jobName": "job " + p, "jobScript": "#!/bin/sh\necho '" + p + "'\n",
                            "slurmInfo": "slurm " + p, "message": "note " + p}
        meta["partition"] = "part" + p
        meta["subCluster"] = "main"
        meta["tags"] = [{"type": "sectype" + p, "name": "sectag" + p, "scope": "global"}]
        jobs.append((meta, data))
    ids = import_jobs(js, jobs)
    yield {"users": users, "ids": [ids[796100 + i] for i in range(len(XSS))]}


def assert_no_raw(r, where):
    for p in XSS:
        assert p not in r.text, "raw %r in %s%s" % (p, where, show(r))


def test_xss_in_job_fields(js, site, hostile):
    a = site["clients"]["admin"]
    pages = ["/monitoring/jobs/?cluster=heron&jobId=796100&jobId=796101&jobId=796102",
             "/monitoring/users/", "/monitoring/projects/", "/monitoring/tags/", "/config/"]
    pages += ["/monitoring/job/%d" % i for i in hostile["ids"]]
    pages += ["/monitoring/user/" + urllib.parse.quote(u, safe="") for u in hostile["users"]]
    for path in pages:
        r = js.get(path, a)
        assert r.status_code == 200, show(r)
        assert_no_raw(r, path)
    joblist = js.get(pages[0], a).text
    for i, p in enumerate(XSS):
        e = xss_escaped(p)
        view = js.get("/monitoring/job/%d" % hostile["ids"][i], a).text
        for shown in ("job " + e, "echo &#39;" + e + "&#39;", "sectype" + e + ": sectag" + e, "slurm " + e,
                      "note " + e, "host" + e, "part" + e):
            assert shown in view, "%r not escaped in the job view:\n%s" % (shown, view[:4000])
        for shown in ("job " + e, "sectype" + e + ": sectag" + e, "secproj" + e):
            assert shown in joblist, (shown, joblist[:4000])
    users = js.get("/monitoring/users/", a).text
    config = js.get("/config/", a).text
    for i, p in enumerate(XSS):
        e = xss_escaped(p)
        assert "Name " + e in users, e
        assert "Name " + e in config and "mail" + e + "@example.org" in config, e
        up = js.get("/monitoring/user/" + urllib.parse.quote(hostile["users"][i], safe=""), a).text
        assert "Name " + e in up and "mail" + e + "@example.org" in up, e


def test_xss_in_the_notice(js, site):
    a = site["clients"]["admin"]
    token = csrf_from(js.get("/config/", a).text)
    try:
        for p in XSS:
            r = js.post("/config/form/notice", a, data={"new-content": "notice " + p, "csrf_token": token})
            assert r.status_code == 303, show(r)
            for c, path in ((site["clients"]["secuser"], "/"), (a, "/"), (a, "/config/")):
                r = js.get(path, c)
                assert_no_raw(r, path)
                assert "notice " + xss_escaped(p) in r.text, show(r)
    finally:
        r = js.post("/config/form/notice", a, data={"new-content": "", "csrf_token": token})
        assert r.status_code == 303, show(r)


def source_params(path, start=None):
    """the query parameter names a source file reads: strcmp(k, "x") and req_param(r, "x")"""
    with open(os.path.join(SRCDIR, path)) as f:
        text = f.read()
    if start:
        text = text[text.index(start):]
        nxt = re.search(r"\n(int|static) ", text[1:])
        text = text[:nxt.start() + 1] if nxt else text
    return sorted(set(re.findall(r'strcmp\(k, "([^"]+)"\)', text) + re.findall(r'req_param\(r, "([^"]+)"\)', text)))


JOBLIST_PARAMS = sorted(set(source_params("app/jobquery.c") + source_params("app/joblist.c") +
                            source_params("handlers/h_jobs.c")))
API_PARAMS = source_params("handlers/h_api_jobs.c", "int h_api_jobs_list")


def test_params_found():
    for p in ("cluster", "user", "project", "jobName", "node", "stat", "tag", "sort", "itemsPerPage"):
        assert p in JOBLIST_PARAMS, JOBLIST_PARAMS
    assert {"state", "cluster", "project", "start-time", "page", "items-per-page"} <= set(API_PARAMS), API_PARAMS


@pytest.mark.parametrize("param", JOBLIST_PARAMS)
def test_xss_in_job_list_filters(js, site, param):
    """every filter value is shown back in the filter form (or named in the 400 page): escaped"""
    for c in (site["clients"]["admin"], site["clients"]["secuser"]):
        for p in XSS:
            for path in ("/monitoring/jobs/", "/monitoring/user/secuser"):
                r = js.get(path, c, params={param: p})
                assert r.status_code in (200, 400), show(r)
                assert_no_raw(r, "%s?%s=" % (path, param))
            if param in ("user", "project", "jobName", "node"):
                assert xss_escaped(p) in js.get("/monitoring/jobs/", c, params={param: p}).text, (param, p)


def test_xss_in_the_search_box(js, site):
    a = site["clients"]["admin"]
    for p in XSS:
        for term in (p, "jobName:" + p, "projectId:" + p, "username:" + p, "name:" + p, "jobId:" + p):
            r = js.get("/search", a, params={"searchId": term})
            assert r.status_code in (302, 400), show(r)
            assert_no_raw(r, "/search")
            if r.status_code == 302:
                loc = r.headers["Location"]
                assert loc.startswith("/") and not loc.startswith("//"), loc
                assert not re.search(r"[<>\"' \r\n]", loc), loc
                r2 = js.get(loc, a)
                assert r2.status_code in (200, 400, 404), show(r2)
                assert_no_raw(r2, loc)


# ----------------------------------------------------------------- SQL metacharacters

SQL_VALUES = ["'", '"', ";", "--", "\\", "%", "_", "' OR '1'='1", "$1", "\x00", "1' OR 1=1--", "%' OR '%'='",
              "'; DELETE FROM job; --", "\\'", "secx%", "sec_"]
# parameters that choose how, not which: a value they ignore lists the whole set
MODIFIERS = {"sort", "order", "itemsPerPage", "page", "projectMatch", "userMatch", "nodeMatch", "jobIdMatch",
             "format", "with-metadata", "items-per-page", "after", "before"}


@pytest.fixture(scope="module")
def secx(js, site):
    """four jobs on cluster secx, without any metacharacter in them"""
    rows = [(796201, "secuser", "secp1"), (796202, "secother", "secp1"), (796203, "secother", "secp2"),
            (796204, "secmgr", "secp3")]
    js.sql("INSERT INTO job (job_id, cluster, subcluster, hpc_user, project, job_state, start_time, duration, "
           "resources, num_nodes, meta_data) VALUES " +
           ", ".join("(%d, 'secx', 'main', %s, %s, 'completed', %d, 600, '[{\"hostname\": \"secnode\"}]', 1, "
                     "'{\"jobName\": \"secjob\"}')" % (j, q(u), q(p), NOW - 3600 - k)
                     for k, (j, u, p) in enumerate(rows)))
    js.sql("INSERT INTO tag (tag_type, tag_name, tag_scope) VALUES ('secscope', 'mine', 'secuser'), "
           "('secscope', 'theirs', 'secother'), ('secscope', 'adm', 'admin'), ('secscope', 'glob', 'global')")
    js.sql("INSERT INTO jobtag (job_id, tag_id) SELECT j.id, t.id FROM job j, tag t "
           "WHERE j.job_id = 796201 AND t.tag_type = 'secscope'")
    return {jid: int(js.sql("SELECT id FROM job WHERE job_id = %d" % jid)) for jid, _, _ in rows}


def job_count(r):
    m = re.search(r"(\d+) jobs match\.", r.text)
    assert m, show(r)
    return int(m.group(1))


def job_ids(r):
    return sorted(int(x) for x in re.findall(r'href="/monitoring/job/\d+">(\d+)</a>', r.text))


@pytest.mark.parametrize("param", JOBLIST_PARAMS)
def test_sql_metacharacters_in_job_list(js, site, secx, param):
    a = site["clients"]["admin"]
    before = js.state()
    for v in SQL_VALUES:
        params = [(param, v)] + ([("cluster", "secx")] if param != "cluster" else [])
        r = js.get("/monitoring/jobs/", a, params=params)
        assert r.status_code in (200, 400), "%s=%r%s" % (param, v, show(r))
        if r.status_code == 200:
            n = job_count(r)
            ok = {0, 4} if param in MODIFIERS else {0}
            assert n in ok, "%s=%r lists %d jobs" % (param, v, n)
        # the same filters on the users and projects tables (3 users, 3 projects on secx)
        for path, kind in (("/monitoring/users/", "users"), ("/monitoring/projects/", "projects")):
            r = js.get(path, a, params=params + [("name", v)] if kind == "users" and param == "cluster" else params)
            assert r.status_code in (200, 400), "%s %s=%r%s" % (path, param, v, show(r))
            if r.status_code == 200:
                m = re.search(r"(\d+) %s with jobs match\." % kind, r.text)
                assert m, show(r)
                assert int(m.group(1)) in ({0, 3} if param in MODIFIERS else {0}), (path, param, v, m.group(0))
    assert js.state() == before


@pytest.mark.parametrize("param", API_PARAMS)
def test_sql_metacharacters_in_api_jobs(js, site, secx, tok, param):
    t = tok.mint("secapi", ["api"])
    before = js.state()
    for v in SQL_VALUES:
        params = [(param, v)] + ([("cluster", "secx")] if param != "cluster" else [])
        r = js.get("/api/jobs/", params=params, headers={"X-Auth-Token": t})
        assert r.status_code in (200, 400), "%s=%r%s" % (param, v, show(r))
        if r.status_code == 200:
            n = len(r.json()["jobs"])
            assert n in ({0, 4} if param in MODIFIERS else {0}), "%s=%r lists %d jobs" % (param, v, n)
        else:
            err_of(r)
    assert js.state() == before


# ----------------------------------------------------------------- each role's share

# user: own jobs; manager: own + managed projects (secp1); support, admin: all
SHARE = {"secuser": [796201], "secmgr": [796201, 796202, 796204], "secsup": [796201, 796202, 796203, 796204],
         "admin": [796201, 796202, 796203, 796204]}


def test_job_list_share_by_role(js, site, secx):
    for who, ids in SHARE.items():
        c = site["clients"][who]
        r = js.get("/monitoring/jobs/?cluster=secx", c)
        assert (job_count(r), job_ids(r)) == (len(ids), ids), (who, show(r))
        # no filter widens it
        r = js.get("/monitoring/jobs/?cluster=secx&user=secother&userMatch=eq", c)
        assert job_ids(r) == [i for i in ids if i in (796202, 796203)], who
        # the job view: a job the role may not see is a 404, not a 403
        for jid, dbid in secx.items():
            r = js.get("/monitoring/job/%d" % dbid, c)
            assert r.status_code == (200 if jid in ids else 404), (who, jid, show(r))


def test_concurrent_jobs_by_role(js, site, secx):
    """the job view lists the other jobs on its node that the viewer may see, no others"""
    for who, ids in SHARE.items():
        r = js.get("/monitoring/job/%d" % secx[796201], site["clients"][who])
        assert r.status_code == 200, show(r)
        m = re.search(r"Concurrent jobs on the same node:(.*?)</p>", r.text, re.S)
        got = sorted(int(x) for x in re.findall(r">(\d+)</a>", m.group(1))) if m else []
        assert got == [i for i in ids if i != 796201], (who, got)


def test_tags_on_jobs_by_scope(js, site, secx):
    """global: everyone; admin scope: admin and support; private: its owner only"""
    want = {"secuser": {"glob", "mine"}, "secmgr": {"glob"}, "secsup": {"glob", "adm"}, "admin": {"glob", "adm"}}
    for who, names in want.items():
        c = site["clients"][who]
        for path in ("/monitoring/job/%d" % secx[796201], "/monitoring/jobs/?cluster=secx&jobId=796201"):
            r = js.get(path, c)
            assert r.status_code == 200, show(r)
            got = set(re.findall(r">secscope: (\w+)", r.text))
            assert got == names, (who, path, got)
        # filtering by a tag the viewer may not read finds nothing (no probe of who tagged what)
        for tag in ("glob", "mine", "theirs", "adm"):
            tid = js.sql("SELECT id FROM tag WHERE tag_type = 'secscope' AND tag_name = '%s'" % tag)
            r = js.get("/monitoring/jobs/?cluster=secx&tag=" + tid, c)
            assert job_ids(r) == ([796201] if tag in names else []), (who, tag, show(r))
    # the user API with the same rules
    t = Tokens(os.path.join(js.T, ".env")).mint("secuser", ["user", "api"])
    r = js.get("/userapi/jobs/%d" % secx[796201], headers={"X-Auth-Token": t})
    assert r.status_code == 200, show(r)
    assert {x["name"] for x in r.json()["Meta"]["tags"] if x["type"] == "secscope"} == {"glob", "mine"}


NAV = ["/", "/monitoring/jobs/", "/monitoring/user/{me}", "/monitoring/users/", "/monitoring/projects/",
       "/monitoring/tags/", "/config/"]


def test_navigation_by_role(js, site):
    """the navbar offers each role exactly what it may open"""
    want = {"secuser": set(NAV) - {"/monitoring/users/", "/monitoring/projects/"},
            "secmgr": set(NAV), "secsup": set(NAV), "admin": set(NAV)}
    for who, links in want.items():
        c = site["clients"][who]
        r = js.get("/monitoring/tags/", c)
        nav = re.search(r"<nav.*?</nav>", r.text, re.S).group(0)
        hrefs = set(re.findall(r'href="([^"]*)"', nav))
        me = urllib.parse.quote(who if who != "admin" else USERS["admin"][0], safe="")
        assert hrefs == {h.replace("{me}", me) for h in links}, (who, hrefs)
        for h in hrefs:
            assert js.get(h, c).status_code == 200, (who, h)
    # logged out: no navigation at all
    r = js.get("/login")
    nav = re.search(r"<nav.*?</nav>", r.text, re.S).group(0)
    assert set(re.findall(r'href="([^"]*)"', nav)) == {"/"}
    # the settings page shows the admin sections to admins only
    for who in ("secuser", "secmgr", "secsup"):
        r = js.get("/config/", site["clients"][who])
        assert 'action="/config/form/user/add"' not in r.text and 'action="/config/form/notice"' not in r.text, who
    r = js.get("/config/", site["clients"]["admin"])
    assert 'action="/config/form/user/add"' in r.text and 'action="/config/form/notice"' in r.text


# ----------------------------------------------------------------- sessions end with the rights

def _victim_sessions(js, name):
    run_jobscope(["-config", js.config, "-add-user", "%s:user,support:%s" % (name, PW)], cwd=js.T)
    cs = [js.login_as(name, PW) for _ in range(2)]
    assert js.sessions(name) == 2
    return cs


@pytest.mark.parametrize("how", ["form edit", "config api", "rest api", "form delete", "config api delete"])
def test_sessions_end_when_a_role_goes_or_the_user(js, site, tok, how):
    """every way to take a role away or to delete a user ends that user's sessions"""
    name = "secgone"
    js.sql("DELETE FROM hpc_user WHERE username = %s" % q(name))
    cs = _victim_sessions(js, name)
    a = site["clients"]["admin"]
    t = csrf_from(js.get("/config/", a).text)
    if how == "form edit":
        r = js.post("/config/form/user/edit", a, data={"username": name, "op": "remove-role", "value": "support",
                                                        "csrf_token": t})
    elif how == "config api":
        r = js.post("/config/user/" + name, a, data={"remove-role": "support", "csrf_token": t})
    elif how == "rest api":
        r = js.post("/api/user/" + name, data={"remove-role": "support"},
                    headers={"X-Auth-Token": tok.mint("admin", ["admin", "api"])})
    elif how == "form delete":
        r = js.post("/config/form/user/delete", a, data={"username": name, "csrf_token": t})
    else:
        r = js.request("DELETE", "/config/users/", a, data={"username": name, "csrf_token": t})
    assert r.status_code in (200, 303), show(r)
    assert js.sessions(name) == 0
    for c in cs:
        assert_login_page(js.get("/", c))
    js.sql("DELETE FROM hpc_user WHERE username = %s" % q(name))


def test_refused_requests_do_not_log_query_credentials(js):
    """a request refused before routing is logged by its path: /jwt-login carries its token in the query"""
    secret = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWMifQ.sec-not-to-be-logged"
    mark = len(js.log_text())
    for uri, body in (("/jwt-login?login-token=%s&x=%%zz" % secret, b""),
                      ("/jwt-login?login-token=%s" % secret, b"x" * (MAX_BODY + 1))):
        r = js.fcgi("POST", uri, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status in (400, 413), r
    log = js.log_text()[mark:]
    assert "/jwt-login?..." in log, log
    assert "sec-not-to-be-logged" not in log and "login-token" not in log, log


@pytest.mark.parametrize("path", ["/monitoring/users/", "/monitoring/projects/"])
def test_xss_in_users_and_projects_filters(js, site, path):
    a = site["clients"]["admin"]
    for param in JOBLIST_PARAMS + ["name"]:
        for p in XSS:
            r = js.get(path, a, params={param: p})
            assert r.status_code in (200, 400), show(r)
            assert_no_raw(r, "%s?%s=" % (path, param))
