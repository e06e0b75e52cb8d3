"""Cross-login (COMPAT f): /jwt-login with HS256/HS512 tokens verified with
CROSS_LOGIN_JWT_HS512_KEY, and the EdDSA cookie of a trusted portal (auth.jwts
cookie-name / trusted-issuer, CROSS_LOGIN_JWT_PUBLIC_KEY), both turning into a
session.

The suite's .env has no cross-login keys, so these tests start further
`jobscope -server`s on the site's database with the keys added to a copy of its
.env, each behind its own nginx.  Tokens are minted by python3-jwt.  Users made
here are called xl-*."""

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from apihelpers import Tokens, b64url
from conftest import JOBSCOPE, USERS, Nginx, remove_pid, tmp_root, write_pid
from jshelpers import children_of, free_port, set_cookies, show, wait_for

HS_KEY = os.urandom(64)
PORTAL_KEY = Ed25519PrivateKey.generate()
PORTAL_PUB = PORTAL_KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
ISSUER = "portal.example.org"
COOKIE = "cc-login"


class XSite:
    """`jobscope -server` with extra auth.jwts keys and .env lines, behind its own nginx."""

    def __init__(self, js, jwts, env_extra):
        self.js = js
        self.root = os.path.join(tempfile.mkdtemp(prefix="extra-", dir=tmp_root()), "site")
        os.makedirs(self.root)
        self.sock = os.path.join(self.root, "xl.sock")
        with open(os.path.join(js.T, ".env")) as f:
            env = f.read()
        env += "".join('%s="%s"\n' % kv for kv in env_extra.items())
        with open(os.path.join(self.root, ".env"), "w") as f:
            f.write(env)
        shutil.copytree(os.path.join(js.var, "job-archive"), os.path.join(self.root, "var", "job-archive"))
        d = js.config_dict()
        d["main"].update({"fcgi-socket": self.sock, "workers": 1})
        d["auth"]["jwts"].update(jwts)
        self.config = os.path.join(self.root, "config.json")
        with open(self.config, "w") as f:
            json.dump(d, f)
        self.logpath = os.path.join(self.root, "jobscope.log")
        e = dict(os.environ)
        e.pop("JOURNAL_STREAM", None)
        with open(self.logpath, "ab") as log:
            self.proc = subprocess.Popen([JOBSCOPE, "-server", "-config", self.config], cwd=self.root,
                                         stdout=log, stderr=subprocess.STDOUT, env=e)
        write_pid(self.root, self.proc.pid)
        wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None, 20, what="the socket")
        assert self.proc.poll() is None, "jobscope exited: " + self.log()
        wait_for(lambda: "jobscope-worker" in children_of(self.proc.pid).values(), 10, what="its worker")
        self.nginx = Nginx(tempfile.mkdtemp(prefix="nginx-", dir=tmp_root()), free_port(), self.sock)
        self.nginx.start()
        self.url = self.nginx.url

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def get(self, path, client=None, **kw):
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 20)
        return (client or requests).get(self.url + path, **kw)

    def post(self, path, client=None, **kw):
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 20)
        return (client or requests).post(self.url + path, **kw)

    def stop(self):
        self.nginx.stop()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        remove_pid(self.root)


CROSS_ENV = {"CROSS_LOGIN_JWT_HS512_KEY": base64.b64encode(HS_KEY).decode(),
             "CROSS_LOGIN_JWT_PUBLIC_KEY": base64.b64encode(PORTAL_PUB).decode()}


@pytest.fixture(scope="module")
def xs(js):
    """sync-user-on-login and update-user-on-login, cookie login configured"""
    s = XSite(js, {"cookie-name": COOKIE, "trusted-issuer": ISSUER, "sync-user-on-login": True,
                   "update-user-on-login": True}, CROSS_ENV)
    yield s
    s.stop()
    js.sql("DELETE FROM hpc_user WHERE username LIKE 'xl-%'")


@pytest.fixture(scope="module")
def strict(js):
    """validate-user: the database decides; nothing is created"""
    s = XSite(js, {"cookie-name": COOKIE, "trusted-issuer": ISSUER, "validate-user": True}, CROSS_ENV)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def nosync(js):
    """neither validate-user nor sync-user-on-login: only known users get a session"""
    s = XSite(js, {}, CROSS_ENV)
    yield s
    s.stop()


def hs(sub, roles=("user",), alg="HS256", exp_in=600, key=HS_KEY, **extra):
    claims = {"iat": int(time.time())}
    if sub is not None:
        claims["sub"] = sub
    if roles is not None:
        claims["roles"] = list(roles)
    if exp_in is not None:
        claims["exp"] = int(time.time()) + exp_in
    claims.update(extra)
    return jwt.encode(claims, key, algorithm=alg)


def portal(sub, roles=("user",), iss=ISSUER, key=PORTAL_KEY, exp_in=600, **extra):
    claims = {"sub": sub, "roles": list(roles), "iat": int(time.time()), "exp": int(time.time()) + exp_in}
    if iss is not None:
        claims["iss"] = iss
    claims.update(extra)
    return jwt.encode(claims, key, algorithm="EdDSA")


def row(js, name):
    return js.sql("SELECT auth_source || '|' || array_to_string(roles, ',') || '|' || array_to_string(projects, ',') "
                  "|| '|' || coalesce(name, '-') FROM hpc_user WHERE username = '%s'" % name)


def refused(r, text=None):
    assert r.status_code == 401, show(r)
    assert 'action="/login"' in r.text, show(r)
    assert not any(c.startswith("session=") and "Max-Age=0" not in c and not c.startswith("session=;")
                   for c in set_cookies(r)), set_cookies(r)
    if text:
        assert text in r.text, show(r)


def logged_in(site, c, r, name, location="/"):
    assert r.status_code == 302 and r.headers["Location"] == location, show(r)
    assert c.cookies.get("session"), set_cookies(r)
    home = site.get("/", c)
    assert home.status_code == 200, show(home)
    return home


# ------------------------------------------------------------------------ (a) /jwt-login

def test_disabled_without_the_key(js):
    """The suite's own site has no CROSS_LOGIN_JWT_HS512_KEY: token login is off, clearly."""
    c = requests.Session()
    r = js.get("/jwt-login?login-token=" + hs("alice"), c)
    refused(r, "Login by token is not enabled on this server.")
    assert "session" not in c.cookies
    r = js.get("/jwt-login", c)
    refused(r, "No login token was given.")


@pytest.mark.parametrize("alg", ["HS256", "HS512"])
def test_token_login_creates_the_user(js, xs, alg):
    name = "xl-new-" + alg.lower()
    token = hs(name, roles=("user",), alg=alg, projects=["px", ""], name="Ann " + alg)
    c = requests.Session()
    r = xs.get("/jwt-login?login-token=" + token, c)
    home = logged_in(xs, c, r, name)
    assert ">Ann %s</span>" % alg in home.text
    assert row(js, name) == "2|user|px|Ann " + alg
    assert js.sessions(name) == 1
    # the credential never reaches the log
    assert token not in xs.log() and 'user "%s" logged in from 127.0.0.1 by login token' % name in xs.log()


def test_token_login_redirect_post_and_header(js, xs):
    c = requests.Session()
    r = xs.get("/jwt-login?login-token=%s&redirect=/monitoring/jobs/%%3Fstate%%3Drunning" % hs("xl-redir"), c)
    assert r.status_code == 302 and r.headers["Location"] == "/monitoring/jobs/?state=running", show(r)
    # a foreign redirect target is ignored
    r = xs.get("/jwt-login?login-token=%s&redirect=//evil.example/" % hs("xl-redir"), requests.Session())
    assert r.status_code == 302 and r.headers["Location"] == "/", show(r)
    # a POST is a form of this site: it carries the pre-login CSRF token (a portal sends GET)
    c = requests.Session()
    r = xs.post("/jwt-login", c, data={"login-token": hs("xl-post", alg="HS512")})
    assert r.status_code == 403 and "session" not in c.cookies, show(r)
    page = xs.get("/login", c)
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    r = xs.post("/jwt-login", c, data={"login-token": hs("xl-post", alg="HS512"), "csrf_token": token})
    logged_in(xs, c, r, "xl-post")
    c = requests.Session()
    r = xs.get("/jwt-login", c, headers={"Authorization": "Bearer " + hs("xl-bearer")})
    logged_in(xs, c, r, "xl-bearer")


def test_update_user_on_login(js, xs):
    c = requests.Session()
    logged_in(xs, c, xs.get("/jwt-login?login-token=" + hs("xl-upd", roles=["user"]), c), "xl-upd")
    assert row(js, "xl-upd") == "2|user||-"
    c = requests.Session()
    t = hs("xl-upd", roles=["manager", "user", "wizard"], projects=["p1", "p2"], name={"values": ["Up", "Dated"]})
    logged_in(xs, c, xs.get("/jwt-login?login-token=" + t, c), "xl-upd")
    assert row(js, "xl-upd") == "2|user,manager|p1,p2|Up Dated"


def test_fresh_session_at_every_login(js, xs):
    c = requests.Session()
    logged_in(xs, c, xs.get("/jwt-login?login-token=" + hs("xl-fresh"), c), "xl-fresh")
    first = c.cookies.get("session")
    logged_in(xs, c, xs.get("/jwt-login?login-token=" + hs("xl-fresh"), c), "xl-fresh")
    second = c.cookies.get("session")
    assert first != second
    assert js.sessions("xl-fresh") == 1  # the old one ended
    old = requests.Session()
    old.cookies.set("session", first)
    assert xs.get("/", old).status_code == 401


@pytest.mark.parametrize("case", ["expired", "alg-none", "wrong-key", "eddsa", "nbf-future", "no-sub",
                                  "tampered", "no-roles", "bad-role", "garbage", "hs384", "bad-name"])
def test_token_login_refused(js, xs, case):
    name = "xl-bad-" + case
    if case == "expired":
        t = hs(name, exp_in=-10)
    elif case == "alg-none":
        t = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." + \
            b64url(json.dumps({"sub": name, "roles": ["admin"], "exp": int(time.time()) + 600}).encode()) + "."
    elif case == "wrong-key":
        t = hs(name, key=os.urandom(64))
    elif case == "eddsa":
        t = portal(name)
    elif case == "nbf-future":
        t = hs(name, nbf=int(time.time()) + 600)
    elif case == "no-sub":
        t = hs(None)
    elif case == "tampered":
        h, p, s = hs(name, roles=["user"]).split(".")
        p = b64url(json.dumps({"sub": name, "roles": ["admin"], "exp": int(time.time()) + 600}).encode())
        t = ".".join((h, p, s))
    elif case == "no-roles":
        t = hs(name, roles=[])
    elif case == "bad-role":
        t = hs(name, roles=["wizard"])
    elif case == "garbage":
        t = "not.a.token"
    elif case == "hs384":
        t = hs(name, alg="HS384")
    elif case == "bad-name":
        name = "xl-\x01bad"
        t = hs(name)
    before = js.sql("SELECT count(*) FROM session")
    c = requests.Session()
    r = xs.get("/jwt-login", c, params={"login-token": t})
    refused(r)
    assert "session" not in c.cookies
    assert js.sql("SELECT count(*) FROM hpc_user WHERE username = '%s'" % name.replace("'", "''")) == "0"
    assert js.sql("SELECT count(*) FROM session") <= before or js.sessions(name) == 0


def test_validate_user(js, strict):
    c = requests.Session()
    refused(strict.get("/jwt-login?login-token=" + hs("xl-unknown"), c), "not known here")
    assert js.sql("SELECT count(*) FROM hpc_user WHERE username = 'xl-unknown'") == "0"
    # a known user gets in with the database's roles, whatever the token says
    c = requests.Session()
    r = strict.get("/jwt-login?login-token=" + hs("alice", roles=["admin"], projects=["evil"]), c)
    home = logged_in(strict, c, r, "alice")
    assert row(js, "alice") == "0|user||-"
    assert 'href="/monitoring/users/"' not in home.text  # no manager+ links: still a plain user


def test_unknown_user_without_sync(js, nosync):
    c = requests.Session()
    refused(nosync.get("/jwt-login?login-token=" + hs("xl-nosync"), c), "not known here")
    assert js.sql("SELECT count(*) FROM hpc_user WHERE username = 'xl-nosync'") == "0"
    c = requests.Session()
    logged_in(nosync, c, nosync.get("/jwt-login?login-token=" + hs("alice"), c), "alice")
    # no cookie login configured here: the cookie is ignored
    c = requests.Session()
    c.cookies.set(COOKIE, portal("alice"))
    r = nosync.get("/monitoring/jobs/", c)
    assert r.status_code == 401 and "session" not in c.cookies, show(r)


# ------------------------------------------------------------------------ (b) the cookie

def cookie_deleted(r):
    return any(c.startswith(COOKIE + "=;") or (c.startswith(COOKIE + "=") and "Max-Age=0" in c) or
               (c.startswith(COOKIE + "=") and "Max-Age=-" in c) for c in set_cookies(r))


def test_cookie_login_on_a_page(js, xs):
    c = requests.Session()
    c.cookies.set(COOKIE, portal("xl-cookie", roles=["user"], projects=["cp"]))
    r = xs.get("/monitoring/jobs/?state=running", c)
    assert r.status_code == 302 and r.headers["Location"] == "/monitoring/jobs/?state=running", show(r)
    assert cookie_deleted(r), set_cookies(r)
    assert c.cookies.get("session")
    r = xs.get("/monitoring/jobs/?state=running", c)
    assert r.status_code == 200, show(r)
    assert row(js, "xl-cookie") == "2|user|cp|-"
    assert 'logged in from 127.0.0.1 by login cookie' in xs.log()


@pytest.mark.parametrize("path", ["/jwt-login", "/login"])
def test_cookie_login_on_login_paths(js, xs, path):
    c = requests.Session()
    c.cookies.set(COOKIE, portal("xl-cookie2"))
    r = xs.get(path, c)
    assert r.status_code == 302 and r.headers["Location"] == "/", show(r)
    assert cookie_deleted(r) and c.cookies.get("session")


def test_cookie_without_issuer_uses_the_site_key(js, xs):
    site = Tokens(os.path.join(js.T, ".env"))
    c = requests.Session()
    c.cookies.set(COOKIE, site.mint("xl-siteiss", ["user"], exp_in=600))
    r = xs.get("/jwt-login", c)
    logged_in(xs, c, r, "xl-siteiss")


@pytest.mark.parametrize("case", ["other-issuer", "portal-key-no-iss", "wrong-key", "expired", "hs-cookie"])
def test_cookie_refused(js, xs, case):
    name = "xl-badcookie-" + case
    if case == "other-issuer":
        t = portal(name, iss="evil.example.org")
    elif case == "portal-key-no-iss":
        t = portal(name, iss=None)
    elif case == "wrong-key":
        t = portal(name, key=Ed25519PrivateKey.generate())
    elif case == "expired":
        t = portal(name, exp_in=-5)
    elif case == "hs-cookie":
        t = hs(name, iss=ISSUER)
    c = requests.Session()
    c.cookies.set(COOKIE, t)
    r = xs.get("/monitoring/jobs/", c)
    refused(r, "The login cookie was not accepted")
    assert cookie_deleted(r)  # a bad cookie does not stick
    assert "session" not in c.cookies
    assert js.sql("SELECT count(*) FROM hpc_user WHERE username = '%s'" % name) == "0"


def test_cookie_login_validate_user(js, strict):
    c = requests.Session()
    c.cookies.set(COOKIE, portal("xl-strict-unknown"))
    refused(strict.get("/jwt-login", c), "not known here")
    c = requests.Session()
    c.cookies.set(COOKIE, portal(USERS["user"][0], roles=["admin"]))
    logged_in(strict, c, strict.get("/jwt-login", c), "alice")
    assert row(js, "alice") == "0|user||-"
