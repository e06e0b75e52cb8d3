"""The settings page (/config) and its forms, the /config/* and /frontend/* session
helpers of cc-backend (COMPAT a.2), the uploaded logo and the notice editor.

Every endpoint is tried as admin, as a plain user and without a session, and the
unsafe ones without and with a wrong CSRF token (403, nothing changed).  Users made
here are called cfgtest-*; jobs have jobIds 790000..790099."""

import base64
import json
import os
import re
import shutil
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from apihelpers import archived_job, env_value, import_jobs
from conftest import MAX_BODY, USERS
from jshelpers import csrf_from, png_bytes, show, tidy_errors

PREFIX = "cfgtest-"
JWT_MAX_AGE = 2000 * 3600  # auth.jwts.max-age "2000h" in the suite's config


# --------------------------------------------------------------------------- helpers

def token_of(js, client):
    """The session's CSRF token, from the settings page."""
    r = js.get("/config/", client)
    assert r.status_code == 200, show(r)
    return csrf_from(r.text)


def err_json(r, status):
    assert r.status_code == status, show(r)
    assert r.headers["Content-Type"].startswith("application/json"), show(r)
    d = r.json()
    assert set(d) == {"status", "error"}, d
    return d["error"]


def public_key(js):
    raw = base64.b64decode(env_value(os.path.join(js.T, ".env"), "JWT_PUBLIC_KEY"))
    return Ed25519PublicKey.from_public_bytes(raw)


def verify_token(js, token, sub, roles):
    claims = jwt.decode(token, public_key(js), algorithms=["EdDSA"])
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "typ": "JWT"}
    assert claims["sub"] == sub
    assert sorted(claims["roles"]) == sorted(roles)
    assert claims["exp"] - claims["iat"] == JWT_MAX_AGE
    assert abs(claims["iat"] - time.time()) < 120
    return claims


def user_row(js, name):
    q = name.replace("'", "''")
    return js.sql("SELECT array_to_string(roles, ',') || '|' || array_to_string(projects, ',') || '|' || auth_source "
                  "FROM hpc_user WHERE username = '%s'" % q)


def settings_of(js, name):
    rows = js.sql("SELECT coalesce(json_object_agg(confkey, value), '{}') FROM configuration WHERE username = '%s'"
                  % name.replace("'", "''"))
    return json.loads(rows)



SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#08f"/></svg>'
SVG_SCRIPT = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
              b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>')
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


@pytest.fixture(scope="module", autouse=True)
def cleanup(js):
    yield
    js.sql("DELETE FROM hpc_user WHERE username LIKE '%s%%'" % PREFIX)
    js.sql("DELETE FROM configuration WHERE username IN ('alice', 'admin')")
    for name in ("logo.png", "logo.svg", "logo.jpg"):
        try:
            os.unlink(os.path.join(js.var, "img", name))
        except FileNotFoundError:
            pass
    try:
        os.unlink(os.path.join(js.var, "notice.txt"))
    except FileNotFoundError:
        pass


# ------------------------------------------------------------------ who may call what

# (method, path, form data, who may: "admin" | "any")
ENDPOINTS = [
    ("GET", "/config/roles/", None, "admin"),
    ("POST", "/config/users/", {"username": PREFIX + "m1", "password": "pw-m1-Secret", "role": "user"}, "admin"),
    ("PUT", "/config/users/", {"username": PREFIX + "m2", "password": "pw-m2-Secret", "role": "user"}, "admin"),
    ("GET", "/config/users/", None, "admin"),
    ("DELETE", "/config/users/", {"username": "alice"}, "admin"),
    ("POST", "/config/user/alice", {"add-role": "support"}, "admin"),
    ("POST", "/config/notice/", {"new-content": "matrix notice"}, "admin"),
    ("GET", "/config/taggers/", None, "admin"),
    ("POST", "/config/taggers/run/", {"name": "AppTagger"}, "admin"),
    ("GET", "/frontend/jwt/?username=alice", None, "any"),
    ("POST", "/frontend/configuration/", {"key": "matrix_key", "value": "1"}, "any"),
    ("GET", "/frontend/logs/", None, "admin"),
]
UNSAFE = [e for e in ENDPOINTS if e[0] != "GET"]


def db_state(js):
    """What the unsafe endpoints above would change."""
    notice = os.path.join(js.var, "notice.txt")
    return (js.sql("SELECT string_agg(username || ':' || array_to_string(roles, ','), ' ' ORDER BY username) FROM hpc_user"),
            js.sql("SELECT count(*) FROM configuration"),
            open(notice).read() if os.path.exists(notice) else None)


@pytest.mark.parametrize("method,path,data,who", ENDPOINTS, ids=["%s %s" % (e[0], e[1]) for e in ENDPOINTS])
def test_without_session_401_json(js, method, path, data, who):
    r = js.request(method, path, data=data)
    assert err_json(r, 401) == "no user for secured check"
    assert r.json()["status"] == "Unauthorized"


@pytest.mark.parametrize("method,path,data,who", [e for e in ENDPOINTS if e[3] == "admin"],
                         ids=["%s %s" % (e[0], e[1]) for e in ENDPOINTS if e[3] == "admin"])
def test_plain_user_403_json(js, user_client, method, path, data, who):
    before = db_state(js)
    d = dict(data or {}, csrf_token=token_of(js, user_client)) if data is not None else None
    r = js.request(method, path, user_client, data=d)
    err_json(r, 403)
    assert db_state(js) == before


@pytest.mark.parametrize("bad", [None, "", "wrong-token", "x" * 43])
@pytest.mark.parametrize("method,path,data,who", UNSAFE, ids=["%s %s" % (e[0], e[1]) for e in UNSAFE])
def test_unsafe_without_or_with_wrong_csrf_403(js, admin_client, method, path, data, who, bad):
    token_of(js, admin_client)
    before = db_state(js)
    d = dict(data)
    if bad is not None:
        d["csrf_token"] = bad
    r = js.request(method, path, admin_client, data=d)
    assert "security token" in err_json(r, 403)
    assert db_state(js) == before


def test_csrf_token_of_another_session_403(js, admin_client):
    other = token_of(js, js.login("admin"))
    before = db_state(js)
    r = js.post("/config/notice/", admin_client, data={"new-content": "other", "csrf_token": other})
    err_json(r, 403)
    assert db_state(js) == before


def test_csrf_header_and_multipart_token(js, admin_client):
    """Script calls may send X-CSRF-Token; FormData bodies carry the field in a part."""
    t = token_of(js, admin_client)
    r = js.post("/config/notice/", admin_client, data={"new-content": "by header"}, headers={"X-CSRF-Token": t})
    assert r.status_code == 200 and r.text == "Update Notice Content Success", show(r)
    r = js.post("/config/notice/", admin_client, files={"new-content": (None, "by multipart"), "csrf_token": (None, t)})
    assert r.status_code == 200 and r.text == "Update Notice Content Success", show(r)
    assert open(os.path.join(js.var, "notice.txt")).read() == "by multipart"
    r = js.post("/config/notice/", admin_client, files={"new-content": (None, "x"), "csrf_token": (None, "bad")})
    err_json(r, 403)
    assert open(os.path.join(js.var, "notice.txt")).read() == "by multipart"


def multipart(boundary, parts, preamble=b"", epilogue=b"", close=True):
    out = preamble
    for headers, value in parts:
        out += b"--" + boundary + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + value + b"\r\n"
    if close:
        out += b"--" + boundary + b"--\r\n" + epilogue
    return out


def field(name, value):
    return ([b'Content-Disposition: form-data; name="%s"' % name], value)


@pytest.mark.parametrize("ctype,body,status,says", [
    ('multipart/form-data; boundary="a b:c"', multipart(b"a b:c", [field(b"new-content", b"quoted --a b:c boundary")],
                                                         preamble=b"ignored preamble\r\n", epilogue=b"ignored"), 200, None),
    ("multipart/form-data; boundary=zz", multipart(b"zz", [field(b"x%d" % i, b"v") for i in range(33)]), 400,
     "more than 32 parts"),
    ("multipart/form-data; boundary=zz", multipart(b"zz", [([b"Content-Disposition: form-data; name=\"new-content\"",
                                                             b"X-Pad: " + b"p" * 1100], b"v")]), 400, "header block"),
    ("multipart/form-data; boundary=zz", multipart(b"zz", [field(b"new-content", b"v")], close=False), 400,
     "closing boundary"),
    ("multipart/form-data; boundary=zz", multipart(b"zz", [([b"Content-Type: text/plain"], b"v")]), 400, "name"),
    ("multipart/form-data; boundary=zz", multipart(b"zz", [([b"Content-Disposition: attachment; name=\"a\""], b"v")]),
     400, "form-data"),
    ("multipart/form-data", b"--zz\r\n\r\nv\r\n--zz--\r\n", 400, "boundary"),
    ("multipart/form-data; boundary=" + "b" * 71, b"x", 400, "boundary"),
    ("multipart/form-data; boundary=zz", b"no boundary line at all", 400, "boundary"),
])
def test_multipart_parser(js, admin_client, ctype, body, status, says):
    t = token_of(js, admin_client)
    js.post("/config/notice/", admin_client, data={"new-content": "before", "csrf_token": t})
    r = js.post("/config/notice/", admin_client, data=body, headers={"Content-Type": ctype, "X-CSRF-Token": t})
    assert r.status_code == status, show(r)
    notice = open(os.path.join(js.var, "notice.txt")).read()
    if status == 200:
        assert notice == "quoted --a b:c boundary"
    else:
        assert says in err_json(r, status) and notice == "before"


def test_cross_site_post_refused(js, admin_client):
    t = token_of(js, admin_client)
    r = js.post("/config/notice/", admin_client, data={"new-content": "x", "csrf_token": t},
                headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and r.text == "cross-site request blocked\n", show(r)


def test_unknown_config_path_404_json(js, admin_client):
    r = js.get("/config/nothing/", admin_client)
    assert err_json(r, 404) == "the requested endpoint does not exist"
    r = js.get("/frontend/nothing/", admin_client)
    assert err_json(r, 404) == "the requested endpoint does not exist"


# ------------------------------------------------------------------ /config/* as admin

def test_roles(js, admin_client):
    r = js.get("/config/roles/", admin_client)
    assert r.status_code == 200, show(r)
    assert r.json() == ["api", "user", "manager", "support", "admin"]


def test_create_user_rules(js, admin_client):
    t = token_of(js, admin_client)

    def create(method="POST", **f):
        return js.request(method, "/config/users/", admin_client, data=dict(f, csrf_token=t))
    r = create(username=PREFIX + "u1", password="pw-u1-Secret", role="user", name="U <one>", email="u1@example.org")
    assert r.status_code == 200 and r.text == "User %su1 successfully created!\n" % PREFIX, show(r)
    assert r.headers["Content-Type"].startswith("text/plain")
    assert user_row(js, PREFIX + "u1") == "user||0"
    assert js.sql("SELECT name || ' ' || email || ' ' || (password LIKE '$2%%') FROM hpc_user WHERE username = '%su1'"
                  % PREFIX) == "U <one> u1@example.org true"
    # PUT does the same; a manager needs a project, an api user no password
    r = create("PUT", username=PREFIX + "mgr", password="pw-mgr-Secret", role="manager", project="p-9")
    assert r.status_code == 200, show(r)
    assert user_row(js, PREFIX + "mgr") == "manager|p-9|0"
    r = create(username=PREFIX + "api", password="", role="api")
    assert r.status_code == 200, show(r)
    assert js.sql("SELECT password IS NULL FROM hpc_user WHERE username = '%sapi'" % PREFIX) == "t"
    # the user can log in
    js.login_as(PREFIX + "u1", "pw-u1-Secret")
    # refusals
    for fields, status, says in (
        (dict(username="", password="x", role="user"), 400, "username"),
        (dict(username="a" * 101, password="x", role="user"), 400, "username"),
        (dict(username=PREFIX + "x", password="", role="user"), 400, "blank password"),
        (dict(username=PREFIX + "x", password="pw", role="user", project="p"), 400, "only managers"),
        (dict(username=PREFIX + "x", password="pw", role="manager"), 400, "managers require a project"),
        (dict(username=PREFIX + "u1", password="pw", role="user"), 422, "exists already"),
        (dict(username=PREFIX + "x", password="pw", role="wizard"), 422, "invalid role"),
        (dict(username=PREFIX + "x", password="p" * 73, role="user"), 422, "password"),
    ):
        r = create(**fields)
        assert says in err_json(r, status), (fields, r.text)
    assert js.sql("SELECT count(*) FROM hpc_user WHERE username = '%sx'" % PREFIX) == "0"


def test_create_user_multipart(js, admin_client):
    """cc-backend's frontend posts FormData (multipart/form-data)."""
    t = token_of(js, admin_client)
    r = js.post("/config/users/", admin_client, files={
        "csrf_token": (None, t), "username": (None, PREFIX + "mp"), "password": (None, "pw-mp-Secret"),
        "role": (None, "support"), "name": (None, "Multi Part")})
    assert r.status_code == 200 and r.text == "User %smp successfully created!\n" % PREFIX, show(r)
    assert user_row(js, PREFIX + "mp") == "support||0"


def test_list_users(js, admin_client):
    r = js.get("/config/users/", admin_client)
    assert r.status_code == 200, show(r)
    users = {u["username"]: u for u in r.json()}
    assert users["alice"]["roles"] == ["user"] and sorted(users["admin"]["roles"]) == ["admin", "api"]
    assert set(users["alice"]) >= {"username", "name", "email", "roles", "projects"}
    r = js.get("/config/users/?not-just-user=true&via-ldap=false", admin_client)
    names = {u["username"] for u in r.json()}
    assert "admin" in names and "alice" not in names


def test_update_user(js, admin_client):
    t = token_of(js, admin_client)
    js.post("/config/users/", admin_client, data={"username": PREFIX + "upd", "password": "pw-upd-Secret",
                                                  "role": "user", "csrf_token": t})

    def upd(**f):
        return js.post("/config/user/%supd" % PREFIX, admin_client, data=dict(f, csrf_token=t))
    r = upd(**{"add-role": "Manager"})
    assert r.status_code == 200 and r.json() == {"msg": "Add Role Success"}, show(r)
    r = upd(**{"add-project": "proj-x"})
    assert r.json() == {"msg": "Add Project Success"}, show(r)
    assert user_row(js, PREFIX + "upd") == "user,manager|proj-x|0"
    assert "already has role" in err_json(upd(**{"add-role": "manager"}), 422)
    assert "still has assigned project" in err_json(upd(**{"remove-role": "manager"}), 422)
    assert "no valid option" in err_json(upd(**{"add-role": "wizard"}), 422)
    r = upd(**{"remove-project": "proj-x"})
    assert r.json() == {"msg": "Remove Project Success"}, show(r)
    r = upd(**{"remove-role": "manager"})
    assert r.json() == {"msg": "Remove Role Success"}, show(r)
    assert "no operation specified" in err_json(upd(), 400)
    # only the first non-empty field counts
    r = upd(**{"add-role": "", "remove-role": "", "add-project": "", "remove-project": ""})
    err_json(r, 400)
    r = js.post("/config/user/%snobody" % PREFIX, admin_client, data={"add-role": "user", "csrf_token": t})
    err_json(r, 422)


def test_removing_a_role_ends_the_sessions(js, admin_client):
    t = token_of(js, admin_client)
    name, pw = PREFIX + "sess", "pw-sess-Secret"
    js.post("/config/users/", admin_client, data={"username": name, "password": pw, "role": "user", "csrf_token": t})
    js.post("/config/user/" + name, admin_client, data={"add-role": "support", "csrf_token": t})
    c1, c2 = js.login_as(name, pw), js.login_as(name, pw)
    assert js.get("/", c1).status_code == 200 and js.sessions(name) == 2
    # adding a role keeps them
    r = js.post("/config/user/" + name, admin_client, data={"add-role": "manager", "csrf_token": t})
    assert r.status_code == 200 and js.sessions(name) == 2
    r = js.post("/config/user/" + name, admin_client, data={"remove-role": "support", "csrf_token": t})
    assert r.status_code == 200, show(r)
    assert js.sessions(name) == 0
    for c in (c1, c2):
        r = js.get("/", c)
        assert r.status_code == 401 and 'action="/login"' in r.text, show(r)


def test_delete_user(js, admin_client):
    t = token_of(js, admin_client)
    name, pw = PREFIX + "del", "pw-del-Secret"
    js.post("/config/users/", admin_client, data={"username": name, "password": pw, "role": "user", "csrf_token": t})
    c = js.login_as(name, pw)
    js.post("/frontend/configuration/", c, data={"key": "k", "value": "1", "csrf_token": token_of(js, c)})
    assert js.sessions(name) == 1 and settings_of(js, name) == {"k": 1}
    r = js.request("DELETE", "/config/users/", admin_client, data={"username": name, "csrf_token": t})
    assert r.status_code == 200 and r.text == "", show(r)
    assert js.sql("SELECT count(*) FROM hpc_user WHERE username = '%s'" % name) == "0"
    assert js.sessions(name) == 0 and settings_of(js, name) == {}
    assert js.get("/", c).status_code == 401
    # an unknown user: 200 as cc-backend; no username: 400
    r = js.request("DELETE", "/config/users/", admin_client, data={"username": PREFIX + "never", "csrf_token": t})
    assert r.status_code == 200, show(r)
    err_json(js.request("DELETE", "/config/users/", admin_client, data={"csrf_token": t}), 400)


def test_notice(js, admin_client):
    t = token_of(js, admin_client)
    text = "Maintenance <script>alert('x')</script> & \"quotes\""
    r = js.post("/config/notice/", admin_client, data={"new-content": text, "csrf_token": t})
    assert r.status_code == 200 and r.text == "Update Notice Content Success", show(r)
    assert r.headers["Content-Type"].startswith("text/plain")
    assert open(os.path.join(js.var, "notice.txt")).read() == text
    for c in (admin_client, js.login("user")):
        home = js.get("/", c)
        assert home.status_code == 200
        assert "Maintenance &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;" in home.text, home.text
        assert "<script>alert" not in home.text
    # the settings page shows it in the editor, escaped
    page = js.get("/config/", admin_client).text
    assert "&lt;script&gt;alert(&#39;x&#39;)" in page and "<script>alert" not in page
    # too long
    r = js.post("/config/notice/", admin_client, data={"new-content": "n" * 10001, "csrf_token": t})
    assert "10000" in err_json(r, 400)
    assert open(os.path.join(js.var, "notice.txt")).read() == text
    r = js.post("/config/notice/", admin_client, data={"new-content": "n" * 10000, "csrf_token": t})
    assert r.status_code == 200
    # empty removes it
    r = js.post("/config/notice/", admin_client, data={"new-content": "", "csrf_token": t})
    assert r.status_code == 200 and r.text == "Empty Notice Content Success", show(r)
    assert open(os.path.join(js.var, "notice.txt")).read() == ""
    assert "js-notice" not in js.get("/", admin_client).text


def test_taggers(js, admin_client):
    r = js.get("/config/taggers/", admin_client)
    assert r.status_code == 200, show(r)
    assert r.json() == [{"name": "AppTagger", "type": "start", "running": False},
                        {"name": "JobClassTagger", "type": "stop", "running": False}]
    t = token_of(js, admin_client)
    assert "missing tagger name" in err_json(js.post("/config/taggers/run/", admin_client, data={"csrf_token": t}), 400)
    for name in ("AppTagger", "JobClassTagger"):
        r = js.post("/config/taggers/run/", admin_client, data={"name": name, "csrf_token": t})
        assert "not available" in err_json(r, 409)
    r = js.post("/config/taggers/run/", admin_client, data={"name": "Nope", "csrf_token": t})
    assert "unknown tagger: Nope" in err_json(r, 409)


# ------------------------------------------------------------------ /frontend/*

def test_frontend_jwt(js, admin_client, user_client):
    r = js.get("/frontend/jwt/?username=alice", user_client)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain"), show(r)
    assert r.headers.get("Cache-Control") == "no-store"
    verify_token(js, r.text, "alice", ["user"])
    # a plain user only for themselves
    r = js.get("/frontend/jwt/?username=admin", user_client)
    assert "only admins" in err_json(r, 403)
    err_json(js.get("/frontend/jwt/", user_client), 403)
    # admins for anyone; unknown users 404
    r = js.get("/frontend/jwt/?username=alice", admin_client)
    assert r.status_code == 200
    verify_token(js, r.text, "alice", ["user"])
    r = js.get("/frontend/jwt/?username=admin", admin_client)
    claims = verify_token(js, r.text, "admin", ["admin", "api"])
    # the token works on the REST API
    r2 = js.get("/api/clusters/", headers={"X-Auth-Token": r.text})
    assert r2.status_code == 200, show(r2)
    assert claims["sub"] == "admin"
    err_json(js.get("/frontend/jwt/?username=%snobody" % PREFIX, admin_client), 404)


def test_frontend_configuration(js, user_client):
    t = token_of(js, user_client)
    r = js.post("/frontend/configuration/", user_client,
                data={"key": "plotConfiguration_lineWidth", "value": "4", "csrf_token": t})
    assert r.status_code == 200 and r.text == "success", show(r)
    r = js.post("/frontend/configuration/", user_client,
                data={"key": "plotConfiguration_lineWidth", "value": "2", "csrf_token": t})
    assert r.status_code == 200
    r = js.post("/frontend/configuration/", user_client, files={
        "key": (None, "jobList_usePaging"), "value": (None, "true"), "csrf_token": (None, t)})
    assert r.status_code == 200 and r.text == "success", show(r)
    s = settings_of(js, "alice")
    assert s["plotConfiguration_lineWidth"] == 2 and s["jobList_usePaging"] is True
    # refused: not JSON, too long, no key
    for data, status in (({"key": "k", "value": "{not json"}, 422), ({"key": "k", "value": "[" * 40 + "]" * 40}, 422),
                         ({"key": "k", "value": json.dumps("x" * 20000)}, 422), ({"value": "1"}, 400),
                         ({"key": "bad\x01key", "value": "1"}, 422)):
        err_json(js.post("/frontend/configuration/", user_client, data=dict(data, csrf_token=t)), status)
    assert "k" not in settings_of(js, "alice")


def test_frontend_logs(js, admin_client, user_client):
    err_json(js.get("/frontend/logs/", user_client), 403)
    for q, says in (("since=1;rm", "since"), ("since=$(id)", "since"), ("search=a|b", "search"),
                    ("lines=0", "lines"), ("lines=1001", "lines"), ("lines=x", "lines"),
                    ("level=8", "level"), ("level=-1", "level"), ("since=" + "1" * 101, "since")):
        assert says in err_json(js.get("/frontend/logs/?" + q, admin_client), 400), q
    r = js.get("/frontend/logs/?since=10+minutes+ago&lines=5&level=6&search=jobscope", admin_client)
    if r.status_code == 200:
        entries = r.json()
        assert isinstance(entries, list) and len(entries) <= 5
        for e in entries:
            assert set(e) == {"timestamp", "priority", "message", "unit"}
    else:
        # no journal here: a clear JSON error, never a hang or a half answer
        assert r.status_code in (500, 503), show(r)
        assert "journal" in err_json(r, r.status_code)


# ------------------------------------------------------------------ the page

def test_page_needs_login(js):
    # nginx's "location /config/" answers /config with a 301 to /config/ (jobscope serves both)
    r = js.get("/config")
    assert r.status_code == 301 and r.headers["Location"].endswith("/config/"), show(r)
    r = js.fcgi("GET", "/config")
    assert r.status == 401 and 'name="redirect" value="/config"' in r.text, r
    r = js.get("/config/")
    assert r.status_code == 401 and 'name="redirect" value="/config/"' in r.text, show(r)
    for path in ("/config/form/settings", "/config/form/notice"):
        r = js.post(path, data={"x": "1"})
        assert r.status_code == 401 and 'action="/login"' in r.text, show(r)


def test_page_plain_user(js, user_client):
    r = js.get("/config/", user_client)
    assert r.status_code == 200, show(r)
    assert 'id="settings"' in r.text and 'action="/config/form/settings"' in r.text
    assert 'id="users"' not in r.text and 'id="api"' not in r.text and 'id="notice"' not in r.text
    assert 'href="/config/">Settings</a>' in r.text
    # every form carries the token
    assert r.text.count("<form method=\"post\"") == r.text.count('name="csrf_token"')
    for path in ("/config/form/user/add", "/config/form/notice", "/config/form/user/jwt", "/config/form/logo/delete"):
        r = js.post(path, user_client, data={"csrf_token": token_of(js, user_client), "username": "alice"})
        assert r.status_code == 403, show(r)
    r = js.post("/config/form/token", user_client, data={"csrf_token": token_of(js, user_client)})
    assert r.status_code == 403, show(r)


def test_page_admin(js, admin_client):
    r = js.get("/config/", admin_client)
    assert r.status_code == 200, show(r)
    for part in ('id="users"', 'id="api"', 'id="notice"', 'id="logo"', 'id="taggers"', "JobClassTagger",
                 'action="/config/form/user/add"', 'enctype="multipart/form-data"'):
        assert part in r.text, part
    rows = re.findall(r'<td class="js-username">([^<]*)</td>', r.text)
    assert "alice" in rows and "admin" in rows
    assert r.text.count("<form method=\"post\"") == r.text.count('name="csrf_token"')
    # the filter
    r = js.get("/config/?users=ali", admin_client)
    assert re.findall(r'<td class="js-username">([^<]*)</td>', r.text) == ["alice"]


def test_page_is_valid_html(js, admin_client, user_client):
    t = token_of(js, admin_client)
    pages = [js.get("/config/", admin_client), js.get("/config/", user_client),
             js.post("/config/form/token", admin_client, data={"csrf_token": t}),
             js.post("/config/form/notice", admin_client, data={"csrf_token": t, "new-content": "z" * 10001})]
    for r in pages:
        rc, msgs = tidy_errors(r.text)
        assert rc in (0, 1), "tidy finds errors:\n%s\n--- page ---\n%s" % (msgs, r.text)
        assert "<script" not in r.text  # no JavaScript needed


def test_page_escapes_user_data(js, admin_client):
    r = js.get("/config/", admin_client)
    name = USERS["meta"][0]
    assert "o&#39;brien&lt;b&gt;&quot;x&quot;" in r.text
    assert name not in r.text


def list_heads(html):
    """The metric columns of a job list."""
    table = html[html.index("js-joblist"):]
    table = table[:table.index("</thead>")]
    return re.findall(r'<th scope="col">([^<]*)</th>', table)[2:]


def test_settings_form_applied_to_job_list(js, user_client):
    t = token_of(js, user_client)
    page = js.get("/config/", user_client).text
    assert 'name="jlm:heron" value="cpu_load" checked' in page
    # before: the default sparklines
    r = js.get("/monitoring/jobs/?cluster=heron", user_client)
    assert '<th scope="col">cpu_load</th>' in r.text
    form = [("csrf_token", t), ("jlm:heron", "ipc"), ("jlm:heron", "clock"), ("jlm:lynx", "nv_temp"),
            ("plots_per_row", "2"), ("jobs_per_page", "25")]
    r = js.post("/config/form/settings", user_client, data=form)
    assert r.status_code == 303 and r.headers["Location"] == "/config/?done=settings#settings", show(r)
    s = settings_of(js, "alice")
    assert s["metricConfig_jobListMetrics:heron"] == ["ipc", "clock"]
    assert s["metricConfig_jobListMetrics:lynx"] == ["nv_temp"]
    assert s["plotConfiguration_plotsPerRow"] == 2 and s["plot_list_jobsPerPage"] == 25
    assert s["plotConfiguration_colorBackground"] is False  # the box was not ticked
    assert "metricConfig_jobListMetrics" not in s  # the all-clusters row stayed at the default
    page = js.get("/config/?done=settings", user_client).text
    assert "Your settings are saved." in page
    assert 'name="jlm:heron" value="ipc" checked' in page and 'name="jlm:heron" value="cpu_load" checked' not in page
    assert '<option value="2" selected>' in page
    # applied: the list of one cluster shows the chosen metrics
    r = js.get("/monitoring/jobs/?cluster=heron", user_client)
    assert list_heads(r.text) == ["ipc", "clock"]
    r = js.get("/monitoring/jobs/?cluster=lynx", user_client)
    assert list_heads(r.text) == ["nv_temp"]
    # other users are not affected
    r = js.get("/monitoring/jobs/?cluster=heron", js.login("admin"))
    assert '<th scope="col">cpu_load</th>' in r.text
    # back to the defaults: the keys go
    form = [("csrf_token", t), ("jlm:heron", "cpu_load"), ("jlm:heron", "flops_any"), ("jlm:heron", "mem_bw"),
            ("jlm:heron", "mem_used"), ("plots_per_row", "3"), ("jobs_per_page", "10"), ("color_background", "true")]
    r = js.post("/config/form/settings", user_client, data=form)
    assert r.status_code == 303, show(r)
    s = settings_of(js, "alice")
    for key in ("metricConfig_jobListMetrics:heron", "metricConfig_jobListMetrics:lynx", "plotConfiguration_plotsPerRow",
                "plot_list_jobsPerPage", "plotConfiguration_colorBackground"):
        assert key not in s, s
    r = js.get("/monitoring/jobs/?cluster=heron", user_client)
    assert '<th scope="col">cpu_load</th>' in r.text


@pytest.mark.parametrize("form,says", [
    ([("jlm:heron", "nope")], "heron has no metric"),
    ([("jlm:heron", "acc_power")], "heron has no metric"),
    ([("jlm:heron", m) for m in ("cpu_load", "cpu_user", "mem_used", "flops_any", "mem_bw", "clock", "ipc",
                                 "cpu_power", "mem_power")], "at most 8"),
    ([("plots_per_row", "5")], "Plots per row"),
    ([("jobs_per_page", "7")], "Jobs per page"),
])
def test_settings_form_refusals(js, user_client, form, says):
    t = token_of(js, user_client)
    base = {"plots_per_row": "3", "jobs_per_page": "10"}
    keys = {k for k, _ in form}
    data = [("csrf_token", t)] + form + [(k, v) for k, v in base.items() if k not in keys]
    before = settings_of(js, "alice")
    r = js.post("/config/form/settings", user_client, data=data)
    assert r.status_code == 400 and says in r.text, show(r)
    assert 'class="alert alert-danger"' in r.text
    assert settings_of(js, "alice") == before


def test_settings_form_without_token(js, user_client):
    before = settings_of(js, "alice")
    r = js.post("/config/form/settings", user_client, data={"jlm:heron": "ipc", "plots_per_row": "1",
                                                           "jobs_per_page": "10"})
    assert r.status_code == 403, show(r)
    assert settings_of(js, "alice") == before


@pytest.fixture(scope="module")
def viewjob(js):
    start = int(time.time()) - 86400
    meta, data = archived_job(790001, start, hosts=("h0001", "h0002"), user="admin", project="cfgtest")
    ids = import_jobs(js, [(meta, data)])
    yield ids[790001]
    js.sql("DELETE FROM job WHERE id = %d" % ids[790001])
    shutil.rmtree(os.path.join(js.var, "job-archive", "heron", "790", "001"), ignore_errors=True)


def plots_part(html):
    """The plot grid of a job page."""
    i = html.index("js-plots")
    return html[i:html.index("\n</div>", i)]


def test_settings_applied_to_job_view(js, viewjob):
    c = js.login("admin")
    t = token_of(js, c)
    r = js.get("/monitoring/job/%d" % viewjob, c)
    assert r.status_code == 200, show(r)
    assert '<div class="col-xxl-4 col-lg-6"><figure' in r.text  # the default: 3 per row
    assert 'class="zone-' in plots_part(r.text)
    r = js.post("/config/form/settings", c, data={"csrf_token": t, "plots_per_row": "1", "jobs_per_page": "10"})
    assert r.status_code == 303, show(r)
    r = js.get("/monitoring/job/%d" % viewjob, c)
    assert '<div class="col-12"><figure' in r.text and "col-xxl-4 col-lg-6" not in r.text
    assert 'class="zone-' not in plots_part(r.text)  # no colour background
    r = js.post("/config/form/settings", c, data={"csrf_token": t, "plots_per_row": "6", "jobs_per_page": "10",
                                                 "color_background": "true"})
    r = js.get("/monitoring/job/%d" % viewjob, c)
    assert '<div class="col-xxl-2 col-lg-4 col-md-6"><figure' in r.text
    assert settings_of(js, "admin") == {"plotConfiguration_plotsPerRow": 6}
    js.sql("DELETE FROM configuration WHERE username = 'admin'")


def test_api_token_form(js, admin_client):
    t = token_of(js, admin_client)
    page = js.get("/config/", admin_client).text
    assert 'action="/config/form/token"' in page and "valid for 2000 hours" in page
    r = js.post("/config/form/token", admin_client, data={"csrf_token": t})
    assert r.status_code == 200, show(r)
    assert r.headers.get("Cache-Control") == "no-store"
    m = re.search(r'<textarea[^>]*id="api-token"[^>]*>([^<]+)</textarea>', r.text)
    assert m, r.text
    token = m.group(1)
    verify_token(js, token, "admin", ["admin", "api"])
    assert js.get("/api/jobs/?items-per-page=1", headers={"X-Auth-Token": token}).status_code == 200
    # shown once: the page afterwards has no token
    assert 'id="api-token"' not in js.get("/config/", admin_client).text
    # without the token field: refused
    assert js.post("/config/form/token", admin_client, data={}).status_code == 403


def test_admin_user_forms(js, admin_client):
    t = token_of(js, admin_client)
    name = PREFIX + "form"
    r = js.post("/config/form/user/add", admin_client, data={"csrf_token": t, "username": name,
                                                            "password": "pw-form-Secret", "role": "user"})
    assert r.status_code == 303 and r.headers["Location"] == "/config/?done=user-added#users", show(r)
    assert user_row(js, name) == "user||0"
    r = js.post("/config/form/user/add", admin_client, data={"csrf_token": t, "username": name,
                                                            "password": "pw", "role": "user"})
    assert r.status_code == 422 and "exists already" in r.text, show(r)
    r = js.post("/config/form/user/edit", admin_client, data={"csrf_token": t, "username": name,
                                                             "op": "add-role", "value": "support"})
    assert r.status_code == 303, show(r)
    assert user_row(js, name) == "user,support||0"
    r = js.post("/config/form/user/edit", admin_client, data={"csrf_token": t, "username": name,
                                                             "op": "add-project", "value": "p"})
    assert r.status_code == 422 and "is not a manager" in r.text, show(r)
    r = js.post("/config/form/user/edit", admin_client, data={"csrf_token": t, "username": name,
                                                             "op": "drop-table", "value": "x"})
    assert r.status_code == 400, show(r)
    r = js.post("/config/form/user/jwt", admin_client, data={"csrf_token": t, "username": name})
    assert r.status_code == 200, show(r)
    m = re.search(r'<textarea[^>]*id="user-jwt"[^>]*>([^<]+)</textarea>', r.text)
    verify_token(js, m.group(1), name, ["user", "support"])
    r = js.post("/config/form/user/delete", admin_client, data={"csrf_token": t, "username": "admin"})
    assert r.status_code == 400 and "own account" in r.text, show(r)
    r = js.post("/config/form/user/delete", admin_client, data={"csrf_token": t, "username": name})
    assert r.status_code == 303, show(r)
    assert user_row(js, name) == ""
    r = js.post("/config/form/user/delete", admin_client, data={"username": "alice"})
    assert r.status_code == 403 and user_row(js, "alice") == "user||0"


def test_notice_form(js, admin_client):
    t = token_of(js, admin_client)
    r = js.post("/config/form/notice", admin_client, data={"csrf_token": t, "new-content": "<b>bold</b> words"})
    assert r.status_code == 303, show(r)
    assert "&lt;b&gt;bold&lt;/b&gt; words" in js.get("/", admin_client).text
    r = js.post("/config/form/notice", admin_client, data={"csrf_token": t, "new-content": "y" * 10001})
    assert r.status_code == 400, show(r)
    r = js.post("/config/form/notice", admin_client, data={"new-content": "no token"})
    assert r.status_code == 403
    assert open(os.path.join(js.var, "notice.txt")).read() == "<b>bold</b> words"
    js.post("/config/form/notice", admin_client, data={"csrf_token": t, "new-content": ""})


# ------------------------------------------------------------------ the logo

def upload(js, client, token, filename, data, ctype="application/octet-stream"):
    files = {"csrf_token": (None, token), "logo": (filename, data, ctype)} if token is not None else \
        {"logo": (filename, data, ctype)}
    return js.post("/config/form/logo", client, files=files)


def navbar_logo(js, client=None):
    m = re.search(r'<a class="navbar-brand[^>]*><img src="([^"]*)"', js.get("/login", client).text)
    return m.group(1)


def test_logo_png(js, admin_client):
    t = token_of(js, admin_client)
    assert navbar_logo(js) == "/static/img/logo.svg"
    png = png_bytes()
    r = upload(js, admin_client, t, "logo.png", png, "image/png")
    assert r.status_code == 303 and r.headers["Location"] == "/config/?done=logo#logo", show(r)
    assert os.path.exists(os.path.join(js.var, "img", "logo.png"))
    url = navbar_logo(js)
    assert url.startswith("/img/logo?v="), url
    assert navbar_logo(js, admin_client) == url
    r = js.get(url)
    assert r.status_code == 200 and r.content == png, show(r)
    assert r.headers["Content-Type"] == "image/png"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" not in r.headers.get("Content-Security-Policy", "")


def test_logo_svg_with_script_is_sandboxed(js, admin_client):
    t = token_of(js, admin_client)
    for data in (SVG, SVG_SCRIPT):
        r = upload(js, admin_client, t, "logo.svg", data, "image/svg+xml")
        assert r.status_code == 303, show(r)
        assert sorted(os.listdir(os.path.join(js.var, "img"))) == ["logo.svg"]
        r = js.get("/img/logo")
        assert r.status_code == 200 and r.content == data
        assert r.headers["Content-Type"] == "image/svg+xml"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'none'; style-src 'unsafe-inline'; sandbox" in csp, csp


def test_logo_type_from_bytes_not_name(js, admin_client):
    t = token_of(js, admin_client)
    png = png_bytes(3, 3)
    # a PNG called .svg (and sent as image/svg+xml) is a PNG
    r = upload(js, admin_client, t, "logo.svg", png, "image/svg+xml")
    assert r.status_code == 303, show(r)
    assert sorted(os.listdir(os.path.join(js.var, "img"))) == ["logo.png"]
    r = js.get("/img/logo")
    assert r.headers["Content-Type"] == "image/png" and r.content == png
    # an HTML page called .png is refused; the old logo stays
    r = upload(js, admin_client, t, "logo.png", HTML, "image/png")
    assert r.status_code == 415 and "text/html" in r.text and "not a PNG, SVG or JPEG" in r.text, show(r)
    assert js.get("/img/logo").content == png
    for name, data in (("x.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ("x.txt", b"plain text"),
                       ("x.exe", b"MZ\x90\x00" + b"\x00" * 60)):
        r = upload(js, admin_client, t, name, data)
        assert r.status_code == 415, show(r)
    assert js.get("/img/logo").content == png


def test_logo_refusals(js, admin_client, user_client):
    t = token_of(js, admin_client)
    img = os.path.join(js.var, "img")
    before = sorted(os.listdir(img)) if os.path.isdir(img) else []
    # too large for the app (nginx lets 1 MB through on /config/)
    r = upload(js, admin_client, t, "big.png", png_bytes(pad=600 * 1024), "image/png")
    assert r.status_code == 413 and "at most 512 KB" in r.text and "X-Request-Id" in r.headers, show(r)
    # too large for the front door
    r = upload(js, admin_client, t, "huge.png", png_bytes(pad=MAX_BODY + 1000), "image/png")
    assert r.status_code == 413, show(r)
    # empty, no file part, not multipart
    r = upload(js, admin_client, t, "empty.png", b"")
    assert r.status_code == 400, show(r)
    r = js.post("/config/form/logo", admin_client, files={"csrf_token": (None, t), "other": (None, "x")})
    assert r.status_code == 400, show(r)
    r = js.post("/config/form/logo", admin_client, data={"csrf_token": t})
    assert r.status_code == 400, show(r)
    # no token, a wrong one, not an admin
    assert upload(js, admin_client, None, "logo.png", png_bytes()).status_code == 403
    assert upload(js, admin_client, "bad", "logo.png", png_bytes()).status_code == 403
    assert upload(js, user_client, token_of(js, user_client), "logo.png", png_bytes()).status_code == 403
    # a broken multipart body
    r = js.post("/config/form/logo", admin_client, data=b"--xx\r\nbroken",
                headers={"Content-Type": "multipart/form-data; boundary=xx"})
    assert r.status_code == 403, show(r)  # its token cannot be found
    assert (sorted(os.listdir(img)) if os.path.isdir(img) else []) == before


def test_logo_remove(js, admin_client):
    t = token_of(js, admin_client)
    upload(js, admin_client, t, "logo.png", png_bytes())
    assert navbar_logo(js).startswith("/img/logo")
    r = js.post("/config/form/logo/delete", admin_client, data={"csrf_token": t})
    assert r.status_code == 303, show(r)
    assert navbar_logo(js) == "/static/img/logo.svg"
    assert js.get("/img/logo").status_code == 404
