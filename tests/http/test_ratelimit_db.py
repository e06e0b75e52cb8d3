"""jobscope's own login rate limit (COMPAT f), shared by every worker and host through
PostgreSQL's login_attempt table: a token bucket per (client address, username),
burst 5, one token back every 180 s.  Successful logins give their token back.

(nginx's own limit on POST /login is test_ratelimit.py.)  These tests speak FastCGI to
the workers directly so that each can choose its client address (REMOTE_ADDR, as nginx
passes it) from 198.51.100.0/24 and never meets the rest of the suite's logins from
127.0.0.1."""

import re
import urllib.parse

import pytest

from conftest import USERS
from jshelpers import fcgi_request

NET = "198.51.100."


class Client:
    """A browser at one address, over FastCGI: keeps the jobscope_csrf cookie."""

    def __init__(self, sock, addr):
        self.sock, self.addr = sock, addr
        r = self.request("GET", "/login")
        assert r.status == 200, r
        self.cookie = re.search(r"jobscope_csrf=([^;]+)", r.header("Set-Cookie")).group(1)
        self.token = re.search(r'name="csrf_token" value="([^"]*)"', r.text).group(1)

    def request(self, method, uri, body=b"", headers=None, sock=None):
        h = dict(headers or {})
        if body:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        return fcgi_request(sock or self.sock, method, uri, headers=h, body=body,
                            env={"REMOTE_ADDR": self.addr})

    def login(self, user, pw, sock=None, headers=None):
        body = urllib.parse.urlencode({"username": user, "password": pw, "csrf_token": self.token})
        h = {"Cookie": "jobscope_csrf=" + self.cookie}
        h.update(headers or {})
        return self.request("POST", "/login", body, h, sock)


@pytest.fixture(autouse=True)
def clean(js):
    js.sql("DELETE FROM login_attempt WHERE addr LIKE '%s%%'" % NET)
    yield
    js.sql("DELETE FROM login_attempt WHERE addr LIKE '%s%%'" % NET)


def tokens(js, addr, user):
    v = js.sql("SELECT round(tokens::numeric, 2) FROM login_attempt WHERE addr = '%s' AND username = '%s'" % (addr, user))
    return float(v) if v else None


def test_sixth_wrong_password_is_429(js):
    c = Client(js.sock, NET + "1")
    name, pw, _ = USERS["user"]
    for i in range(5):
        r = c.login(name, "wrong-%d" % i)
        assert r.status == 401 and "Invalid username or password." in r.text, r
    assert tokens(js, NET + "1", name) < 0.1
    r = c.login(name, "wrong-6")
    assert r.status == 429, r
    assert re.search(r"Too many login attempts, try again in 3 minutes\.", r.text), r.text
    assert r.header("Retry-After") == "180"
    assert 'action="/login"' in r.text and 'value="%s"' % name in r.text  # the login page, username kept
    # the right password does not help now: the attempt is refused before it is checked
    r = c.login(name, pw)
    assert r.status == 429 and not any(v.startswith("session=") for v in r.headers_all("Set-Cookie")), r
    assert 'login of user "alice" from %s1 refused: too many attempts' % NET in js.log_text()


def test_other_username_and_other_address_still_allowed(js):
    a = Client(js.sock, NET + "2")
    for i in range(6):
        a.login("alice", "wrong")
    assert a.login("alice", "wrong").status == 429
    # another username from the same address
    name, pw, _ = USERS["admin"]
    r = a.login(name, pw)
    assert r.status == 302, r
    r = a.login(name, "wrong")
    assert r.status == 401, r
    # the same username from another address
    b = Client(js.sock, NET + "3")
    r = b.login(*USERS["user"][:2])
    assert r.status == 302, r


def test_successful_logins_do_not_count(js):
    c = Client(js.sock, NET + "4")
    name, pw, _ = USERS["user"]
    for _ in range(8):
        r = c.login(name, pw)
        assert r.status == 302, r
    assert tokens(js, NET + "4", name) >= 4.9
    # four failures leave one attempt; a success in between gives its token back
    for _ in range(4):
        assert c.login(name, "wrong").status == 401
    assert c.login(name, pw).status == 302
    assert c.login(name, "wrong").status == 401
    assert c.login(name, "wrong").status == 429


def test_refill_over_time(js):
    """A token comes back every 180 s: age the row instead of waiting."""
    c = Client(js.sock, NET + "5")
    for _ in range(5):
        c.login("alice", "wrong")
    assert c.login("alice", "wrong").status == 429
    js.sql("UPDATE login_attempt SET updated = updated - interval '170 seconds' WHERE addr = '%s5'" % NET)
    r = c.login("alice", "wrong")
    assert r.status == 429 and "try again in 1 minute." in r.text, r.text
    # a refused attempt takes nothing and does not restart the clock: 185 s are one token
    js.sql("UPDATE login_attempt SET updated = updated - interval '15 seconds' WHERE addr = '%s5'" % NET)
    assert c.login("alice", "wrong").status == 401  # one token back
    assert c.login("alice", "wrong").status == 429
    js.sql("UPDATE login_attempt SET updated = updated - interval '15 minutes' WHERE addr = '%s5'" % NET)
    for _ in range(5):
        assert c.login("alice", "wrong").status == 401  # full again, never more than 5
    assert c.login("alice", "wrong").status == 429


def test_shared_between_workers_and_hosts(js, extra_jobscope):
    """Two workers of the site and a second server on the same database: one bucket."""
    other = extra_jobscope(workers=1)
    c = Client(js.sock, NET + "6")
    for i in range(3):
        r = c.login("alice", "wrong")
        assert r.status == 401, r
    for i in range(2):
        r = c.login("alice", "wrong", sock=other.sock)
        assert r.status == 401, r
    assert tokens(js, NET + "6", "alice") < 0.1
    assert js.sql("SELECT count(*) FROM login_attempt WHERE addr = '%s6'" % NET) == "1"
    assert c.login("alice", "wrong").status == 429
    assert c.login("alice", "wrong", sock=other.sock).status == 429
    assert "from %s6 refused: too many attempts" % NET in other.log()


def test_client_headers_do_not_change_the_address(js):
    """The key is REMOTE_ADDR as nginx passes it; X-Real-Ip / X-Forwarded-For from a client count for nothing."""
    c = Client(js.sock, NET + "7")
    for i in range(5):
        r = c.login("alice", "wrong", headers={"X-Real-Ip": "10.0.0.%d" % i, "X-Forwarded-For": "10.1.0.%d" % i})
        assert r.status == 401, r
    assert c.login("alice", "wrong", headers={"X-Real-Ip": "10.9.9.9"}).status == 429
    assert js.sql("SELECT string_agg(addr, ',') FROM login_attempt WHERE username = 'alice' AND "
                  "(addr LIKE '10.%%' OR addr = '%s7')" % NET) == NET + "7"


def test_invalid_form_is_not_counted(js):
    c = Client(js.sock, NET + "8")
    for _ in range(7):
        r = c.login("", "x")
        assert r.status == 400, r
    assert js.sql("SELECT count(*) FROM login_attempt WHERE addr = '%s8'" % NET) == "0"


def test_through_nginx(js):
    """The real path: nginx passes 127.0.0.1.  A username of its own keeps the rest of the suite out."""
    import requests
    name = "ratelimit-nobody"
    try:
        statuses = []
        for _ in range(6):
            s = requests.Session()
            _, t = js.login_form(s)
            statuses.append(js.post("/login", s, data={"username": name, "password": "x", "csrf_token": t}).status_code)
        assert statuses == [401] * 5 + [429], statuses
        assert js.sql("SELECT count(*) FROM login_attempt WHERE addr = '127.0.0.1' AND username = '%s'" % name) == "1"
    finally:
        js.sql("DELETE FROM login_attempt WHERE username = '%s'" % name)
