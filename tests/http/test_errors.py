"""Errors: 404 HTML vs JSON, 405 + Allow, 400 on malformed input, size caps (through nginx and
directly over FastCGI), HEAD, and the headers every answer carries."""

import http.client
import re
import socket

import pytest

from conftest import MAX_BODY
from jshelpers import show

NOT_FOUND_JSON = {"status": "Resource not found", "error": "the requested endpoint does not exist"}


def assert_common_headers(h, what=""):
    get = h.get if hasattr(h, "get") else h.header
    assert get("X-Content-Type-Options") == "nosniff", what
    assert get("X-Frame-Options") == "DENY", what
    assert get("Referrer-Policy") == "same-origin", what
    assert "frame-ancestors 'none'" in (get("Content-Security-Policy") or ""), what
    assert get("X-Request-Id"), what


@pytest.mark.parametrize("path", ["/no-such-page", "/apix/", "/api.json", "/login/", "/imprint/x", "//", "/x/%2e%2e/nope"])
def test_404_html(js, path):
    r = js.raw("GET", path)
    assert r.status_code == 404, show(r)
    assert r.headers["Content-Type"] == "text/html; charset=utf-8", show(r)
    assert "There is no page at this address." in r.text
    assert_common_headers(r.headers, show(r))


def test_404_api_without_slash_is_html(js):
    r = js.fcgi("GET", "/api")  # through nginx: its 301 to /api/
    assert r.status == 404 and r.header("Content-Type") == "text/html; charset=utf-8", r


@pytest.mark.parametrize("path", ["/api/no-such-endpoint", "/api/no/such/endpoint?x=1", "/userapi/no-such-endpoint",
                                  "/config/no-such-endpoint", "/frontend/no-such/endpoint"])
def test_404_json_under_api_prefixes(js, path):
    r = js.get(path)
    assert r.status_code == 404, show(r)
    assert r.headers["Content-Type"] == "application/json", show(r)
    assert r.json() == NOT_FOUND_JSON, show(r)
    assert r.text.endswith("\n")
    assert_common_headers(r.headers, show(r))


@pytest.mark.parametrize("path", ["/api/no-such-endpoint", "/frontend/no-such-endpoint"])
def test_404_json_also_for_post(js, path):
    r = js.post(path, data="{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 404 and r.json() == NOT_FOUND_JSON, show(r)


@pytest.mark.parametrize("method,path,allow", [
    ("POST", "/", "GET, HEAD"),
    ("DELETE", "/imprint", "GET, HEAD"),
    ("PUT", "/login", "GET, HEAD, POST"),
    ("PATCH", "/privacy", "GET, HEAD"),
    ("GET", "/logout", "POST"),
    ("POST", "/healthz", "GET, HEAD"),
    ("OPTIONS", "/ping", "GET, HEAD"),
])
def test_405_with_allow(js, method, path, allow):
    r = js.request(method, path)
    assert r.status_code == 405, show(r)
    assert r.headers.get("Allow") == allow, show(r)
    assert r.headers["Content-Type"] == "text/html; charset=utf-8", show(r)
    assert "405 Method Not Allowed" in r.text, show(r)
    assert_common_headers(r.headers, show(r))


def test_405_unknown_method_over_fastcgi(js):
    r = js.fcgi("BREW", "/imprint")
    assert r.status == 405, r
    assert r.header("Allow") == "GET, HEAD", r


def test_get_logout_does_not_log_out(js, user_client):
    n = js.sessions("alice")
    r = js.get("/logout", user_client)
    assert r.status_code == 405, show(r)
    assert js.sessions("alice") == n


@pytest.mark.parametrize("uri", ["/?a=%zz", "/?a=%00", "/imprint?%=1", "/login?redirect=%E0%80%AF", "/?a=%", "/?a=%ff"])
def test_malformed_query_400(js, uri):
    r = js.raw("GET", uri)
    assert r.status_code == 400, show(r)
    assert "query string is not valid" in r.text, show(r)
    assert_common_headers(r.headers, show(r))


@pytest.mark.parametrize("body", ["username=%zz&password=x", "username=a%00b&password=x", "username=%C0%AF"])
def test_malformed_form_400(js, body):
    total = js.sessions()
    r = js.post("/login", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400, show(r)
    assert "form data is not valid" in r.text, show(r)
    assert js.sessions() == total


def test_too_many_query_fields_400(js):
    r = js.get("/imprint?" + "&".join("a%d=1" % i for i in range(300)))
    assert r.status_code == 400, show(r)


@pytest.mark.parametrize("uri", ["/%zz", "/a%00b", "x", ""])
def test_malformed_path_over_fastcgi(js, uri):
    r = js.fcgi("GET", uri)
    assert r.status == 400, r
    assert_common_headers(r, repr(r))


def test_head(js, user_client):
    for client, status in ((None, 401), (user_client, 200)):
        g = js.get("/", client, headers={"Accept-Encoding": "identity"})
        h = js.request("HEAD", "/", client, headers={"Accept-Encoding": "identity"})
        assert (g.status_code, h.status_code) == (status, status), show(h)
        assert h.content == b"", show(h)
        assert g.content
        skip = {"date", "x-request-id", "set-cookie", "content-length"}
        gh = {k.lower(): v for k, v in g.headers.items() if k.lower() not in skip}
        hh = {k.lower(): v for k, v in h.headers.items() if k.lower() not in skip}
        assert gh == hh
        if status == 200:  # the same page, so the same length (the login page has a random token)
            assert h.headers["Content-Length"] == str(len(g.content))


def test_head_over_fastcgi_has_no_body(js):
    r = js.fcgi("HEAD", "/imprint")
    assert r.status == 200 and r.body == b"", r
    assert int(r.header("Content-Length")) > 500, r


# --- size caps: through nginx (whatever nginx answers, a 4xx) ---------------------------------

def raw_http(js, data, timeout=10):
    """Send raw bytes to nginx; (status, headers dict, body) of the answer."""
    s = socket.create_connection(("127.0.0.1", js.nginx.port), timeout=timeout)
    try:
        s.sendall(data)
        resp = http.client.HTTPResponse(s)
        resp.begin()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        s.close()


def test_long_uri_through_nginx(js):
    r = js.get("/imprint?q=" + "a" * 9000)
    assert 400 <= r.status_code < 500, show(r)


def test_long_uri_within_nginx_reaches_app(js):
    # under nginx's 8k request line but over nothing: served
    r = js.get("/imprint?q=" + "a" * 7000)
    assert r.status_code == 200, show(r)


def test_large_headers_through_nginx(js):
    """Several headers, each fine for nginx, together over the app's 16 KiB: 431 from jobscope."""
    r = js.get("/imprint", headers={"X-A": "a" * 6000, "X-B": "b" * 6000, "X-C": "c" * 6000})
    assert r.status_code == 431, show(r)
    assert r.headers.get("X-Request-Id"), "expected the app's answer%s" % show(r)
    assert "too large" in r.text


def test_large_cookie_through_nginx(js):
    r = js.get("/imprint", headers={"Cookie": "x=" + "c" * 9000})
    assert 400 <= r.status_code < 500, show(r)


def test_large_body_through_nginx(js):
    total = js.sessions()
    r = js.post("/login", data={"username": "alice", "password": "x" * 70000})
    assert r.status_code == 413, show(r)
    assert js.sessions() == total


def test_app_body_cap_through_nginx(js):
    """/api/ lets 32 MiB through nginx; the app's own cap (main.max-body-size) answers."""
    r = js.post("/api/no-such-endpoint", data=b"x" * (MAX_BODY + 1), headers={"Content-Type": "application/json"})
    assert r.status_code == 413, show(r)
    assert r.headers.get("X-Request-Id"), "expected the app's answer%s" % show(r)
    assert r.headers["Content-Type"] == "application/json", show(r)
    assert r.json()["error"] == "The request body is too large.", show(r)
    r = js.post("/api/no-such-endpoint", data=b"x" * MAX_BODY, headers={"Content-Type": "application/json"})
    assert r.status_code == 404, show(r)


def test_garbage_request_line(js):
    status, _, _ = raw_http(js, b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 400


# --- size caps: the app's own, over FastCGI -------------------------------------------------

def test_uri_cap_over_fastcgi(js):
    ok = js.fcgi("GET", "/imprint?q=" + "a" * (8192 - len("/imprint?q=")))
    assert ok.status == 200, ok
    r = js.fcgi("GET", "/imprint?q=" + "a" * (8193 - len("/imprint?q=")))
    assert r.status == 414, r
    assert "URI is too long" in r.text
    assert_common_headers(r, repr(r))


def test_header_cap_over_fastcgi(js):
    ok = js.fcgi("GET", "/imprint", env={"HTTP_X_A": "a" * 7000, "HTTP_X_B": "b" * 7000})
    assert ok.status == 200, ok
    r = js.fcgi("GET", "/imprint", env={"HTTP_X_A": "a" * 7000, "HTTP_X_B": "b" * 7000, "HTTP_X_C": "c" * 3000})
    assert r.status == 431, r
    assert_common_headers(r, repr(r))


def test_cookie_cap_over_fastcgi(js):
    ok = js.fcgi("GET", "/imprint", headers={"Cookie": "x=" + "c" * (8192 - 2)})
    assert ok.status == 200, ok
    r = js.fcgi("GET", "/imprint", headers={"Cookie": "x=" + "c" * (8193 - 2)})
    assert r.status == 431, r


def test_body_cap_over_fastcgi(js):
    """Content-Length over main.max-body-size: 413 before a byte of the body is read."""
    total = js.sessions()
    r = js.fcgi("POST", "/login", headers={"Content-Type": "application/x-www-form-urlencoded"},
                content_length=MAX_BODY + 1, body=b"")
    assert r.status == 413, r
    assert "too large" in r.text, r
    r = js.fcgi("POST", "/login", headers={"Content-Type": "application/x-www-form-urlencoded"},
                content_length=str(2 ** 63), body=b"")
    assert r.status in (400, 413), r
    assert js.sessions() == total


@pytest.mark.parametrize("cl", ["abc", "-1", "1e3", " 5"])
def test_bad_content_length_over_fastcgi(js, cl):
    r = js.fcgi("POST", "/login", content_length=cl, body=b"")
    assert r.status == 400, r


def test_short_body_over_fastcgi(js):
    r = js.fcgi("POST", "/login", headers={"Content-Type": "application/x-www-form-urlencoded"},
                content_length=100, body=b"username=a")
    assert r.status == 400, r
    assert "ended early" in r.text, r


def test_request_id_made_up_without_nginx(js):
    r = js.fcgi("GET", "/ping", env={"REQUEST_ID": None})
    assert r.status == 200 and r.text == "pong\n", r
    assert re.fullmatch(r"[0-9a-f]{16}", r.header("X-Request-Id")), r
    r = js.fcgi("GET", "/ping", env={"REQUEST_ID": "x" * 65})
    assert re.fullmatch(r"[0-9a-f]{16}", r.header("X-Request-Id")), r


def test_header_injection_in_request_id(js):
    r = js.fcgi("GET", "/ping", env={"REQUEST_ID": "abc\r\nSet-Cookie: evil=1"})
    assert r.status == 200, r
    assert not r.headers_all("Set-Cookie"), r
