"""The pages: /, /login, /imprint, /privacy, /healthz, /ping and the error page."""

import os
import re

import pytest
import requests

from conftest import META_ESCAPED, USERS
from jshelpers import csrf_from, hidden_field, show, tidy_errors, wait_for

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def assert_security_headers(r):
    for k, v in SECURITY_HEADERS.items():
        assert r.headers.get(k) == v, "%s missing or wrong%s" % (k, show(r))
    csp = r.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, show(r)
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers.get("X-Request-Id", "")), \
        "X-Request-Id should be nginx's $request_id%s" % show(r)


def assert_tidy(html, what):
    rc, msgs = tidy_errors(html)
    assert rc in (0, 1), "tidy finds errors in %s:\n%s\n--- page ---\n%s" % (what, msgs, html)


def test_home_logged_out_is_401_login_page(js):
    r = js.get("/")
    assert r.status_code == 401, show(r)
    assert r.headers["Content-Type"].startswith("text/html"), show(r)
    assert '<form method="post" action="/login">' in r.text, show(r)
    assert hidden_field(r.text, "redirect") == "/", show(r)
    assert "<title>Login · jobscope</title>" in r.text
    assert_security_headers(r)
    assert 'action="/logout"' not in r.text  # no navbar user without a session


def home_rows(html):
    return re.findall(r"<tr>\s*<td>([^<]*)</td>\s*<td class=\"text-end\"><a href=\"([^\"]*)\">(\d+)</a></td>\s*"
                      r"<td class=\"text-end\"><a href=\"([^\"]*)\">(\d+)</a></td>", html)


def test_home_counts_of_an_admin(js, admin_client):
    """an admin counts every job: heron 2 running of 3, lynx 0 of 1 (ghost is not in the archive)"""
    r = js.get("/", admin_client)
    assert [(row[0], row[2], row[4]) for row in home_rows(r.text)] == [("heron", "2", "3"), ("lynx", "0", "1")], show(r)


def test_home_logged_in(js, user_client):
    r = js.get("/", user_client)
    assert r.status_code == 200, show(r)
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert_security_headers(r)
    html = r.text
    assert "<h1 class=\"h3\">Clusters</h1>" in html, show(r)
    # the clusters of tests/data/archive, in order, with live running counts and totals of the
    # jobs the viewer may see: alice (role user) has 2 running jobs on heron, bob the others
    assert home_rows(html) == [
        ("heron", "/monitoring/jobs/?cluster=heron&amp;state=running", "2", "/monitoring/jobs/?cluster=heron", "2"),
        ("lynx", "/monitoring/jobs/?cluster=lynx&amp;state=running", "0", "/monitoring/jobs/?cluster=lynx", "0"),
    ], show(r)
    assert "ghost" not in html  # a cluster with jobs but not in the archive is not listed
    assert ">alice</span>" in html and 'action="/logout"' in html, show(r)


def test_login_page(js):
    c = requests.Session()
    r = js.get("/login", c)
    assert r.status_code == 200, show(r)
    assert_security_headers(r)
    assert csrf_from(r.text)
    assert 'name="username"' in r.text and 'name="password"' in r.text
    assert hidden_field(r.text, "redirect") is None  # none asked for
    assert c.cookies.get("jobscope_csrf"), "GET /login sets the pre-login CSRF cookie%s" % show(r)


@pytest.mark.parametrize("target,kept", [
    ("/imprint", "/imprint"),
    ("/x?a=1&b=\"2\"", "/x?a=1&amp;b=&quot;2&quot;"),
    ("//evil.example", None),
    ("http://evil.example/", None),
    ("/\\evil.example", None),
    ("imprint", None),
])
def test_login_page_redirect_field(js, target, kept):
    r = js.get("/login", params={"redirect": target})
    assert r.status_code == 200, show(r)
    m = re.search(r'<input type="hidden" name="redirect" value="([^"]*)"', r.text)
    assert (m.group(1) if m else None) == kept, show(r)


@pytest.mark.parametrize("path,h1", [("/imprint", "Imprint"), ("/privacy", "Privacy")])
def test_static_pages(js, user_client, path, h1):
    out = js.get(path)
    assert out.status_code == 200, show(out)
    assert '<h1 class="h3">%s</h1>' % h1 in out.text, show(out)
    assert 'action="/logout"' not in out.text
    assert_security_headers(out)
    inn = js.get(path, user_client)
    assert inn.status_code == 200, show(inn)
    assert '<h1 class="h3">%s</h1>' % h1 in inn.text
    assert ">alice</span>" in inn.text, "a public page shows the logged-in user%s" % show(inn)


def test_healthz_and_ping(js):
    r = js.get("/healthz")
    assert (r.status_code, r.text) == (200, "ok\n"), show(r)
    assert r.headers["Content-Type"].startswith("text/plain")
    assert_security_headers(r)
    r = js.get("/ping")
    assert (r.status_code, r.text) == (200, "pong\n"), show(r)
    assert_security_headers(r)


def test_error_page(js):
    r = js.get("/no/such/page")
    assert r.status_code == 404, show(r)
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "404 Not Found" in r.text and "There is no page at this address." in r.text, show(r)
    # the page names the request id that is also in the header (and nginx's access log)
    rid = r.headers["X-Request-Id"]
    assert "<code>%s</code>" % rid in r.text, show(r)
    assert_security_headers(r)


def test_request_ids_differ_and_reach_the_access_log(js):
    ids = {js.get("/ping").headers["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3
    log = os.path.join(js.nginx.prefix, "access.log")
    wait_for(lambda: all("rid=%s" % i in open(log).read() for i in ids), 5, what="the ids in access.log")


def _pages(js, client):
    yield "/ (%s)" % ("in" if client else "out"), js.get("/", client)
    yield "/login", js.get("/login", client)
    yield "/login?redirect=/x", js.get("/login?redirect=%2Fx", client)
    yield "/imprint", js.get("/imprint", client)
    yield "/privacy", js.get("/privacy", client)
    yield "404 page", js.get("/nope", client)
    yield "405 page", js.request("DELETE", "/imprint", client)
    yield "400 page", js.get("/imprint?a=%zz", client)


def test_tidy_logged_out(js):
    seen = 0
    for what, r in _pages(js, None):
        assert r.headers["Content-Type"].startswith("text/html"), what + show(r)
        assert_tidy(r.text, what + " logged out")
        seen += 1
    # failed login and logout pages
    c = requests.Session()
    _, token = js.login_form(c)
    r = js.post("/login", c, data={"username": USERS["meta"][0], "password": "wrong", "csrf_token": token})
    assert r.status_code == 401, show(r)
    assert_tidy(r.text, "failed login")
    assert seen == 8


def test_tidy_logged_in(js):
    c = js.login("meta")  # the name with metacharacters in the navbar
    for what, r in _pages(js, c):
        assert_tidy(r.text, what + " logged in")
        if r.status_code < 400:  # error pages come before the session is looked at
            assert META_ESCAPED in r.text, what + show(r)
    r = js.post("/logout", c, data={"csrf_token": csrf_from(js.get("/", c).text)})
    assert r.status_code == 200, show(r)
    assert_tidy(r.text, "logout page")


def test_home_page_links_lead_somewhere(js, user_client):
    """Every link in the home page's content (the clusters table) answers: no 404 from the start page."""
    html = js.get("/", user_client).text
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    links = sorted(set(l.replace("&amp;", "&") for l in re.findall(r'href="(/[^"]*)"', main)))
    assert "/monitoring/jobs/?cluster=heron&state=running" in links, links
    for link in links:
        r = js.get(link, user_client)
        assert r.status_code == 200, "%s%s" % (link, show(r))
