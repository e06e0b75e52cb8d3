"""POST /login and /logout: redirects, cookies, sessions, bad input, escaping."""

import os
import re

import pytest
import requests

from conftest import META_ESCAPED, SESSION_MAX_AGE, USERS
from jshelpers import (csrf_from, find_cookie, hidden_field, set_cookies, show, wait_for)


def post_login(js, username, password, redirect=None, client=None):
    c = client or requests.Session()
    _, token = js.login_form(c)
    data = {"username": username, "password": password, "csrf_token": token}
    if redirect is not None:
        data["redirect"] = redirect
    return c, js.post("/login", c, data=data)


def test_login_success(js):
    before = js.sessions("alice")
    c, r = post_login(js, *USERS["user"][:2])
    assert r.status_code == 302, show(r)
    assert r.headers["Location"] == "/", show(r)
    assert js.sessions("alice") == before + 1
    home = js.get("/", c)
    assert home.status_code == 200 and ">alice</span>" in home.text, show(home)
    # the database keeps the session's hash, never the cookie value itself
    sid = c.cookies["session"]
    assert js.sql("SELECT count(*) FROM session WHERE encode(id_hash, 'escape') LIKE '%%%s%%'" % sid[:20]) == "0"
    assert js.sql("SELECT count(*) FROM session WHERE id_hash = sha256(convert_to('%s', 'UTF8'))" % sid) == "1"


@pytest.mark.parametrize("redirect,location", [
    ("/imprint", "/imprint"),
    ("/?cluster=heron&state=running", "/?cluster=heron&state=running"),
    ("//evil.example", "/"),
    ("//evil.example/x", "/"),
    ("http://evil", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil", "/"),
    ("\\\\evil", "/"),
    ("javascript:alert(1)", "/"),
    ("imprint", "/"),
    ("", "/"),
    ("/x\r\nSet-Cookie: evil=1", "/"),
    ("/x\tevil", "/"),
])
def test_login_redirect(js, redirect, location):
    c, r = post_login(js, *USERS["user"][:2], redirect=redirect)
    assert r.status_code == 302, show(r)
    assert r.headers["Location"] == location, "redirect=%r%s" % (redirect, show(r))
    assert not any(v.startswith("evil") for v in set_cookies(r)), show(r)


def test_login_required_page_round_trip(js):
    """GET /?a=1 anonymously: 401 whose form carries /?a=1; posting that form lands there."""
    c = requests.Session()
    r = js.get("/?a=1", c)
    assert r.status_code == 401, show(r)
    target = hidden_field(r.text, "redirect")
    assert target == "/?a=1", show(r)
    token = csrf_from(r.text)
    r = js.post("/login", c, data={"username": USERS["user"][0], "password": USERS["user"][1],
                                    "csrf_token": token, "redirect": target})
    assert (r.status_code, r.headers.get("Location")) == (302, "/?a=1"), show(r)


def test_login_required_redirect_field_is_escaped(js):
    """The raw URI goes into an attribute: quotes and angle brackets must come out escaped."""
    r = js.fcgi("GET", '/?a="><script>x</script>')
    assert r.status == 401, r
    assert '<script>x' not in r.text, r
    assert 'name="redirect" value="/?a=&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in r.text, r


def test_session_cookie_flags(js):
    c, r = post_login(js, *USERS["user"][:2])
    assert r.status_code == 302, show(r)
    got = find_cookie(set_cookies(r), "session")
    assert got, show(r)
    value, attrs = got
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value), value
    assert attrs.get("path") == "/", attrs
    assert attrs.get("httponly") is True, attrs
    assert str(attrs.get("samesite")).lower() == "lax", attrs
    assert attrs.get("max-age") == str(SESSION_MAX_AGE), attrs
    assert "secure" not in attrs, "Secure over plain http%s" % show(r)
    assert "Strict-Transport-Security" not in r.headers
    # the database row lives as long as the cookie
    secs = js.sql("SELECT extract(epoch FROM expires - created)::int FROM session "
                  "WHERE id_hash = sha256(convert_to('%s', 'UTF8'))" % value)
    assert secs == str(SESSION_MAX_AGE)


def test_csrf_cookie_flags(js):
    r = js.get("/login")
    got = find_cookie(set_cookies(r), "jobscope_csrf")
    assert got, show(r)
    value, attrs = got
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value), value
    assert attrs.get("path") == "/" and attrs.get("httponly") is True, attrs
    assert str(attrs.get("samesite")).lower() == "lax", attrs
    assert "secure" not in attrs
    # a visitor who has the cookie keeps it (and its token)
    c = requests.Session()
    r1 = js.get("/login", c)
    r2 = js.get("/login", c)
    assert find_cookie(set_cookies(r2), "jobscope_csrf") is None, show(r2)
    assert csrf_from(r1.text) == csrf_from(r2.text)


def test_nginx_overwrites_x_forwarded_proto(js):
    """A client cannot claim https through nginx: X-Forwarded-Proto is replaced with $scheme."""
    c = requests.Session()
    _, token = js.login_form(c)
    r = js.post("/login", c, headers={"X-Forwarded-Proto": "https"},
                data={"username": USERS["user"][0], "password": USERS["user"][1], "csrf_token": token})
    assert r.status_code == 302, show(r)
    _, attrs = find_cookie(set_cookies(r), "session")
    assert "secure" not in attrs, show(r)
    assert "Strict-Transport-Security" not in r.headers


@pytest.mark.parametrize("env", [{"HTTPS": "on"}, {"HTTP_X_FORWARDED_PROTO": "https"}], ids=["HTTPS=on", "X-Forwarded-Proto"])
def test_secure_cookies_over_tls(js, env):
    """Over FastCGI, as nginx would pass a TLS request: every cookie is Secure, HSTS is sent."""
    r = js.fcgi("GET", "/login", env=env)
    assert r.status == 200, r
    assert r.header("Strict-Transport-Security") == "max-age=31536000; includeSubDomains", r
    pre, attrs = find_cookie(r.headers_all("Set-Cookie"), "jobscope_csrf")
    assert attrs.get("secure") is True, r
    token = csrf_from(r.text)
    body = "username=alice&password=%s&csrf_token=%s" % (USERS["user"][1], token)
    before = js.sessions("alice")
    r = js.fcgi("POST", "/login", env=env, body=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": "jobscope_csrf=" + pre})
    assert r.status == 302, r
    sid, attrs = find_cookie(r.headers_all("Set-Cookie"), "session")
    assert attrs.get("secure") is True and attrs.get("httponly") is True, r
    assert str(attrs.get("samesite")).lower() == "lax", r
    assert js.sessions("alice") == before + 1
    # and logout expires it, Secure as well
    home = js.fcgi("GET", "/", env=env, headers={"Cookie": "session=" + sid})
    assert home.status == 200, home
    r = js.fcgi("POST", "/logout", env=env, body="csrf_token=" + csrf_from(home.text),
                headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": "session=" + sid})
    assert r.status == 200, r
    _, attrs = find_cookie(r.headers_all("Set-Cookie"), "session")
    assert attrs.get("max-age") == "0" and attrs.get("secure") is True, r
    assert js.sessions("alice") == before


def test_new_session_id_at_every_login(js):
    c = requests.Session()
    js.login("user", c)
    first = c.cookies["session"]
    old = requests.Session()
    old.cookies.set("session", first)
    assert js.get("/", old).status_code == 200
    n = js.sessions("alice")
    js.login("user", c)  # logging in again while logged in
    second = c.cookies["session"]
    assert second != first
    assert js.sessions("alice") == n, "the old session row must go when the new one comes"
    r = js.get("/", old)
    assert r.status_code == 401, "the old session cookie still works%s" % show(r)
    assert js.get("/", c).status_code == 200


def test_login_changes_user_and_drops_the_old_session(js):
    c = js.login("user")
    alice = js.sessions("alice")
    js.login("admin", c)
    assert js.sessions("alice") == alice - 1
    r = js.get("/", c)
    assert ">admin</span>" in r.text and ">alice</span>" not in r.text, show(r)


@pytest.mark.parametrize("who,password", [("alice", "wrong-password"), ("nobody-here", "whatever"),
                                          ("alice", USERS["user"][1] + " "), ("ALICE", USERS["user"][1])])
def test_login_failure(js, who, password):
    total = js.sessions()
    c, r = post_login(js, who, password, redirect="/imprint")
    assert r.status_code == 401, show(r)
    assert "Invalid username or password." in r.text, show(r)
    assert "session" not in c.cookies
    assert js.sessions() == total
    # the form comes back with the name and the redirect, and a token to try again
    assert 'value="%s"' % who in r.text, show(r)
    assert hidden_field(r.text, "redirect") == "/imprint"
    assert csrf_from(r.text)


def test_unknown_and_wrong_password_look_the_same(js):
    _, a = post_login(js, "alice", "wrong")
    _, b = post_login(js, "zz-nobody", "wrong")
    strip = lambda t, n: t.replace('value="%s"' % n, "").replace(csrf_from(t), "")
    assert (a.status_code, b.status_code) == (401, 401)
    assert strip(a.text, "alice") == strip(b.text, "zz-nobody")


@pytest.mark.parametrize("data", [
    {"username": "", "password": "x"},
    {"password": "x"},
    {"username": "alice"},
    {},
    {"username": "a" * 200, "password": "x"},
    {"username": "a" * 101, "password": "x"},
    {"username": "ali\x01ce", "password": "x"},
    {"username": "alice", "password": "p" * 1025},
], ids=["empty-user", "no-user", "no-password", "nothing", "user-200", "user-101",
        "control-char", "password-1025"])
def test_login_bad_fields(js, data):
    total = js.sessions()
    c = requests.Session()
    _, token = js.login_form(c)
    r = js.post("/login", c, data=dict(data, csrf_token=token))
    assert r.status_code == 400, show(r)
    assert "Enter a username" in r.text, show(r)
    assert js.sessions() == total
    assert "session" not in c.cookies


def test_login_empty_password_is_400(js):
    total = js.sessions()
    c = requests.Session()
    _, token = js.login_form(c)
    r = js.post("/login", c, data={"username": "alice", "password": "", "csrf_token": token})
    assert js.sessions() == total
    assert r.status_code == 400, show(r)


def test_username_of_100_is_checked_not_refused(js):
    _, r = post_login(js, "a" * 100, "x")
    assert r.status_code == 401, show(r)


@pytest.mark.parametrize("name", ["' OR '1'='1", "alice' --", "alice'; DELETE FROM session; --",
                                  "\" OR \"\"=\"", "%' OR username LIKE '%"])
def test_sql_metacharacters_in_username(js, name):
    keep = js.login("user")  # a session that must survive
    before = (js.sessions(), js.sql("SELECT count(*) FROM hpc_user"), js.sql("SELECT string_agg(username, ',' ORDER BY username) FROM hpc_user"))
    for pw in ("x", "' OR '1'='1"):
        c, r = post_login(js, name, pw)
        assert r.status_code == 401, show(r)
        assert "Invalid username or password." in r.text
        assert "session" not in c.cookies
    after = (js.sessions(), js.sql("SELECT count(*) FROM hpc_user"), js.sql("SELECT string_agg(username, ',' ORDER BY username) FROM hpc_user"))
    assert after == before
    assert js.get("/", keep).status_code == 200


def test_metacharacter_user_logs_in_and_is_escaped(js):
    name = USERS["meta"][0]
    c, r = post_login(js, name, USERS["meta"][1])
    assert r.status_code == 302, show(r)
    assert js.sessions(name) >= 1
    home = js.get("/", c)
    assert home.status_code == 200, show(home)
    assert ">%s</span>" % META_ESCAPED in home.text, show(home)
    assert "<b>" not in home.text and "brien<b" not in home.text, show(home)


def test_metacharacter_name_escaped_in_failed_login_form(js):
    _, r = post_login(js, USERS["meta"][0], "wrong")
    assert r.status_code == 401, show(r)
    assert 'value="%s"' % META_ESCAPED in r.text, show(r)
    assert "<b>" not in r.text


def test_notice_is_escaped(js, user_client):
    path = os.path.join(js.var, "notice.txt")
    with open(path, "w") as f:
        f.write('Maintenance <script>alert(1)</script> & "more"\nsecond line')
    try:
        def shown():
            r = js.get("/", user_client)
            return r if "Maintenance" in r.text else None
        r = wait_for(shown, 5, what="the notice on /")
        assert r.status_code == 200
        assert "Maintenance &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;\nsecond line" in r.text, show(r)
        assert "<script>" not in r.text, show(r)
    finally:
        os.unlink(path)
    r = wait_for(lambda: (lambda r: r if "Maintenance" not in r.text else None)(js.get("/", user_client)), 5,
                 what="the notice to go")
    assert 'class="alert alert-info' not in r.text


def test_logout(js):
    c = js.login("user")
    sid = c.cookies["session"]
    n = js.sessions("alice")
    home = js.get("/", c)
    r = js.post("/logout", c, data={"csrf_token": csrf_from(home.text)})
    assert r.status_code == 200, show(r)
    assert "Logout successful." in r.text, show(r)
    assert '<form method="post" action="/login">' in r.text
    val, attrs = find_cookie(set_cookies(r), "session")
    assert val == "" and attrs.get("max-age") == "0", show(r)
    assert js.sessions("alice") == n - 1
    assert js.sql("SELECT count(*) FROM session WHERE id_hash = sha256(convert_to('%s', 'UTF8'))" % sid) == "0"
    # the old cookie, replayed, is worth nothing
    old = requests.Session()
    old.cookies.set("session", sid)
    r = js.get("/", old)
    assert r.status_code == 401, show(r)
    r = js.post("/logout", old, data={"csrf_token": csrf_from(home.text)})
    assert r.status_code == 401, show(r)


def test_login_again_from_the_logout_page(js):
    c = js.login("user")
    r = js.post("/logout", c, data={"csrf_token": csrf_from(js.get("/", c).text)})
    assert r.status_code == 200, show(r)
    token = csrf_from(r.text)
    r = js.post("/login", c, data={"username": USERS["user"][0], "password": USERS["user"][1], "csrf_token": token})
    assert r.status_code == 302, show(r)
    assert js.get("/", c).status_code == 200


def test_logout_needs_a_session(js):
    c = requests.Session()
    _, token = js.login_form(c)
    r = js.post("/logout", c, data={"csrf_token": token})
    assert r.status_code == 401, show(r)
    assert '<form method="post" action="/login">' in r.text


@pytest.mark.parametrize("cookie", ["x" * 43, "A" * 42, "../../etc/passwd", "", "' OR '1'='1"])
def test_forged_session_cookie(js, cookie):
    r = js.fcgi("GET", "/", headers={"Cookie": "session=" + cookie})
    assert r.status == 401, r
