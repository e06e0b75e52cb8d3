"""CSRF: tokens on /login (tied to the jobscope_csrf cookie) and /logout (tied to the session),
and the Sec-Fetch-Site guard."""

import pytest
import requests

from conftest import USERS
from jshelpers import csrf_from, show

NAME, PW = USERS["user"][:2]


def creds(**extra):
    return dict({"username": NAME, "password": PW}, **extra)


def assert_refused_login(js, r, client, total):
    assert r.status_code == 403, show(r)
    assert "session" not in client.cookies, show(r)
    assert js.sessions() == total


def test_login_without_token(js):
    total = js.sessions()
    c = requests.Session()
    js.login_form(c)
    r = js.post("/login", c, data=creds())
    assert_refused_login(js, r, c, total)
    assert "security token" in r.text, show(r)
    assert r.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("token", ["", "x", "A" * 43, "%00"])
def test_login_wrong_token(js, token):
    total = js.sessions()
    c = requests.Session()
    js.login_form(c)
    r = js.post("/login", c, data=creds(csrf_token=token))
    assert_refused_login(js, r, c, total)


def test_login_token_of_another_cookie(js):
    total = js.sessions()
    a, b = requests.Session(), requests.Session()
    _, token_a = js.login_form(a)
    _, token_b = js.login_form(b)
    assert token_a != token_b
    r = js.post("/login", b, data=creds(csrf_token=token_a))
    assert_refused_login(js, r, b, total)
    # each works with its own cookie
    r = js.post("/login", b, data=creds(csrf_token=token_b))
    assert r.status_code == 302, show(r)


def test_login_token_without_cookie(js):
    total = js.sessions()
    c = requests.Session()
    _, token = js.login_form(c)
    bare = requests.Session()
    r = js.post("/login", bare, data=creds(csrf_token=token))
    assert_refused_login(js, r, bare, total)


def test_login_token_with_two_tokens(js):
    """A wrong token first and the right one second: only one field counts (the first)."""
    total = js.sessions()
    c = requests.Session()
    _, token = js.login_form(c)
    r = js.post("/login", c, data=[("username", NAME), ("password", PW), ("csrf_token", "bad"), ("csrf_token", token)])
    assert_refused_login(js, r, c, total)


def test_login_token_in_query_string_does_not_count(js):
    total = js.sessions()
    c = requests.Session()
    _, token = js.login_form(c)
    r = js.post("/login?csrf_token=" + token, c, data=creds())
    assert_refused_login(js, r, c, total)


def test_logout_without_token_keeps_the_session(js):
    c = js.login("user")
    n = js.sessions("alice")
    for data in ({}, {"csrf_token": ""}, {"csrf_token": "nope"}):
        r = js.post("/logout", c, data=data)
        assert r.status_code == 403, show(r)
    assert js.sessions("alice") == n
    r = js.get("/", c)
    assert r.status_code == 200 and ">alice</span>" in r.text, show(r)


def test_logout_with_token_of_another_session(js):
    a, b = js.login("user"), js.login("user")
    token_a = csrf_from(js.get("/", a).text)
    token_b = csrf_from(js.get("/", b).text)
    assert token_a != token_b
    n = js.sessions("alice")
    r = js.post("/logout", b, data={"csrf_token": token_a})
    assert r.status_code == 403, show(r)
    assert js.sessions("alice") == n
    assert js.get("/", b).status_code == 200


def test_pre_login_token_is_not_a_session_token(js):
    c = requests.Session()
    _, pre = js.login_form(c)
    js.login("user", c)
    n = js.sessions("alice")
    r = js.post("/logout", c, data={"csrf_token": pre})
    assert r.status_code == 403, show(r)
    assert js.sessions("alice") == n


def test_session_token_is_stable(js):
    c = js.login("user")
    t1 = csrf_from(js.get("/", c).text)
    t2 = csrf_from(js.get("/imprint", c).text)
    assert t1 == t2


@pytest.mark.parametrize("value", ["cross-site", "Cross-Site"])
def test_cross_site_login_refused(js, value):
    total = js.sessions()
    c = requests.Session()
    _, token = js.login_form(c)
    r = js.post("/login", c, data=creds(csrf_token=token), headers={"Sec-Fetch-Site": value})
    assert r.status_code == 403, show(r)
    assert r.headers["Content-Type"].startswith("text/plain"), show(r)
    assert r.text.strip() == "cross-site request blocked", show(r)
    assert r.headers.get("X-Frame-Options") == "DENY"
    assert "session" not in c.cookies
    assert js.sessions() == total


def test_cross_site_logout_refused(js):
    c = js.login("user")
    n = js.sessions("alice")
    token = csrf_from(js.get("/", c).text)
    r = js.post("/logout", c, data={"csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and r.text.strip() == "cross-site request blocked", show(r)
    assert js.sessions("alice") == n
    assert js.get("/", c).status_code == 200


def test_cross_site_post_to_unknown_path_refused(js):
    r = js.post("/no/such/thing", headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and r.text.strip() == "cross-site request blocked", show(r)


@pytest.mark.parametrize("value", ["same-origin", "same-site", "none"])
def test_other_sec_fetch_site_values_pass(js, value):
    c = requests.Session()
    _, token = js.login_form(c)
    r = js.post("/login", c, data=creds(csrf_token=token), headers={"Sec-Fetch-Site": value})
    assert r.status_code == 302, show(r)


def test_cross_site_get_is_fine(js, user_client):
    r = js.get("/", user_client, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 200, show(r)
