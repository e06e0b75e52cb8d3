"""Static files: served by nginx from static/ and Debian's bootstrap5, never by jobscope."""

import os

import pytest

from conftest import BOOTSTRAP_DIR, SRCDIR
from jshelpers import show


@pytest.mark.parametrize("path,file,ctype", [
    ("/static/css/jobscope.css", os.path.join(SRCDIR, "static", "css", "jobscope.css"), "text/css"),
    ("/static/img/logo.svg", os.path.join(SRCDIR, "static", "img", "logo.svg"), "image/svg+xml"),
    ("/static/favicon.svg", os.path.join(SRCDIR, "static", "favicon.svg"), "image/svg+xml"),
    ("/static/bootstrap5/css/bootstrap.min.css", os.path.join(BOOTSTRAP_DIR, "css", "bootstrap.min.css"), "text/css"),
])
def test_static_file(js, path, file, ctype):
    r = js.get(path, headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200, show(r)
    with open(file, "rb") as f:
        assert r.content == f.read()
    assert r.headers["Content-Type"].startswith(ctype), show(r)
    assert "max-age=2592000" in r.headers.get("Cache-Control", ""), show(r)
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert r.headers.get("X-Frame-Options") == "DENY"
    assert "frame-ancestors 'none'" in r.headers.get("Content-Security-Policy", "")
    # nginx answered alone: jobscope adds X-Request-Id to everything it serves
    assert "X-Request-Id" not in r.headers, "jobscope served a static file%s" % show(r)


def test_static_is_compressed(js):
    r = js.get("/static/bootstrap5/css/bootstrap.min.css", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers.get("Content-Encoding") == "gzip", show(r)


@pytest.mark.parametrize("path", ["/static/nope.css", "/static/bootstrap5/nope.css", "/static/css/"])
def test_static_missing(js, path):
    r = js.get(path)
    assert r.status_code in (403, 404), show(r)
    assert "X-Request-Id" not in r.headers, show(r)


def test_static_only_get(js):
    r = js.post("/static/css/jobscope.css", data="x")
    assert r.status_code == 403, show(r)
    assert "X-Request-Id" not in r.headers


@pytest.mark.parametrize("path", ["/static/../.env", "/static/..%2f.env", "/static/%2e%2e/.env",
                                  "/static/bootstrap5/../../.env", "/static/css/../../config.json"])
def test_static_no_escape(js, path):
    r = js.raw("GET", path)
    assert r.status_code in (400, 403, 404), show(r)
    assert b"SESSION_KEY" not in r.content and b'"main"' not in r.content, show(r)
