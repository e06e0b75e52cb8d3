"""Sessions and the database: expiry, users losing their roles, lost connections, and a
database that refuses connections altogether."""

import pytest
import requests

from conftest import USERS, PsqlSession, psql, run_jobscope
from jshelpers import csrf_from, show, wait_for


def sid_hash(sid):
    return "sha256(convert_to('%s', 'UTF8'))" % sid


def test_expired_session_is_refused(js):
    c = js.login("user")
    sid = c.cookies["session"]
    assert js.get("/", c).status_code == 200
    js.sql("UPDATE session SET created = now() - interval '2 hours', expires = now() - interval '1 second' "
           "WHERE id_hash = %s" % sid_hash(sid))
    r = js.get("/", c)
    assert r.status_code == 401, show(r)
    # a fresh login replaces it
    js.login("user", c)
    assert c.cookies["session"] != sid
    assert js.get("/", c).status_code == 200
    assert js.sql("SELECT count(*) FROM session WHERE id_hash = %s" % sid_hash(sid)) == "0"


def test_user_without_roles(js):
    p = run_jobscope(["-config", js.config, "-add-user", "norole:user:pw-norole"], cwd=js.T)
    assert p.returncode == 0, p.stderr
    try:
        c = requests.Session()
        token = csrf_from(js.get("/login", c).text)
        r = js.post("/login", c, data={"username": "norole", "password": "pw-norole", "csrf_token": token})
        assert r.status_code == 302, show(r)
        assert js.get("/", c).status_code == 200
        js.sql("UPDATE hpc_user SET roles = '{}' WHERE username = 'norole'")
        r = js.get("/", c)
        assert r.status_code == 401, "a user without roles keeps no session%s" % show(r)
        c2 = requests.Session()
        token = csrf_from(js.get("/login", c2).text)
        r = js.post("/login", c2, data={"username": "norole", "password": "pw-norole", "csrf_token": token})
        assert r.status_code == 401 and "Invalid username or password." in r.text, show(r)
        assert js.sessions("norole") <= 1
    finally:
        js.sql("DELETE FROM hpc_user WHERE username = 'norole'")


def terminate_backends(js):
    return psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = '%s' AND pid <> pg_backend_pid() AND application_name <> '%s'"
                % (js.db, PsqlSession.APPNAME))


def test_lost_connections_are_reopened(js, user_client):
    for path in ("/", "/healthz"):
        assert js.get(path, user_client).status_code == 200
    assert int(terminate_backends(js)) >= 2  # the workers' connections (and the task runner's)
    statuses = [js.get(p, user_client).status_code for p in ("/", "/healthz") * 10]
    assert statuses == [200] * 20, statuses
    assert "database connection lost; reconnecting" in js.log_text()


@pytest.fixture
def db_refusing(js):
    psql('ALTER DATABASE "%s" ALLOW_CONNECTIONS false' % js.db)
    try:
        terminate_backends(js)
        yield
    finally:
        psql('ALTER DATABASE "%s" ALLOW_CONNECTIONS true' % js.db)
    wait_for(lambda: js.get("/healthz").status_code == 200, 10, what="/healthz to recover")


def test_database_unavailable(js, db_refusing):
    c = requests.Session()
    c.cookies.set("session", "A" * 43)  # looked up in the database, which is away
    r = js.get("/healthz")
    assert r.status_code == 503 and r.headers["Content-Type"].startswith("text/plain"), show(r)
    assert js.get("/ping").text == "pong\n"
    r = js.get("/", c)
    assert r.status_code == 503, show(r)
    assert "The database does not answer" in r.text and r.headers["Content-Type"].startswith("text/html"), show(r)
    # pages that need no database still work
    r = js.get("/")
    assert r.status_code == 401, show(r)
    r = js.get("/imprint", c)
    assert r.status_code == 200, show(r)
    lc = requests.Session()
    r = js.get("/login", lc)
    assert r.status_code == 200, show(r)
    r = js.post("/login", lc, data={"username": USERS["user"][0], "password": USERS["user"][1],
                                    "csrf_token": csrf_from(r.text)})
    assert r.status_code == 503, show(r)
    assert "session" not in lc.cookies


def test_healthz_503_says_why(js, db_refusing):
    r = js.get("/healthz")
    assert r.status_code == 503, show(r)
    assert r.text == "database unavailable\n", show(r)


def test_database_back(js, user_client):
    """After test_database_unavailable: the sessions from before still work."""
    r = js.get("/", user_client)
    assert r.status_code == 200, show(r)
