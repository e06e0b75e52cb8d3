"""Harness of the HTTP suite: real PostgreSQL, nginx and jobscope on loopback.

run.sh starts pytest with JOBSCOPE_SRCDIR, JOBSCOPE_BUILDDIR, JOBSCOPE_HTTP_TMP
(a fresh mktemp -d directory, removed afterwards) and a PostgreSQL from the
environment (PGHOST/PGPORT/PGUSER/PGPASSWORD, as pg_virtualenv exports them).

The session fixture `js` builds, in T = $JOBSCOPE_HTTP_TMP/site:
  - database jobscope_http_<pid> (created with psql, dropped at the end),
    migrated with `jobscope -migrate-db`, with three users added by
    `jobscope -add-user` (see USERS) and a few job rows for the home page;
  - config.json and .env (SESSION_KEY etc. from `jobscope -init` in a
    scratch dir); jobscope runs with cwd T, so ./var is T/var (notice.txt,
    imprint.tmpl); templates-dir is a copy of the source's templates/ in T,
    so that the reload tests may edit it; the archive is a copy of
    tests/data/archive in T/var/job-archive;
  - `jobscope -server` (stdout+stderr to T/jobscope.log, whose tail is added
    to the report of every failed test);
  - nginx from nginx/jobscope-demo.conf.in, filled with the same sed
    expressions as demo.sh, on a free loopback port.

Rate limit: the template limits POST /login to 10 a minute with a burst of 5,
and this suite logs in far more often than that.  The main nginx therefore
runs a copy with rate=6000r/m and burst=100 (the two strings are asserted to
be in the template, so a change there is noticed).  The real limit is checked
by test_ratelimit.py against a second nginx started from the UNMODIFIED
template (fixture `start_nginx`), on its own port, in front of the same
jobscope socket.

Teardown: SIGTERM to jobscope, which must exit 0 within 30 s and remove its
socket (asserted); nginx stopped; the database dropped.
"""

import base64
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import urllib.parse

import pytest
import requests

from jshelpers import (children_of, csrf_from, fcgi_request, free_port, show, wait_for)

SRCDIR = os.environ.get("JOBSCOPE_SRCDIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILDDIR = os.environ.get("JOBSCOPE_BUILDDIR") or SRCDIR
JOBSCOPE = os.path.join(BUILDDIR, "jobscope")
_tmp_root = os.environ.get("JOBSCOPE_HTTP_TMP")


def tmp_root():
    """Where everything temporary goes: run.sh's mktemp -d directory (made here only without run.sh)."""
    global _tmp_root
    if not _tmp_root:
        _tmp_root = tempfile.mkdtemp(prefix="jobscope-http.")
    return _tmp_root

# key: (username, password, roles)
USERS = {
    "admin": ("admin", "admin-Secret-1", "admin,api"),
    "user": ("alice", "alice-Secret-2", "user"),
    "meta": ("o'brien<b>\"x\"", "meta-Secret-3", "user"),
}
META_ESCAPED = "o&#39;brien&lt;b&gt;&quot;x&quot;"
SESSION_MAX_AGE = 43200  # "12h" in config.json
MAX_BODY = 1048576       # main.max-body-size in config.json

NGINX_TEMPLATE = os.path.join(SRCDIR, "nginx", "jobscope-demo.conf.in")
BOOTSTRAP_DIR = "/usr/share/javascript/bootstrap5"


def psql(sql, db="postgres", check=True):
    """Run one SQL command with the psql CLI; its unaligned output."""
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    if check and p.returncode != 0:
        raise AssertionError("psql -d %s -c %r failed: %s" % (db, sql, p.stderr))
    return p.stdout.strip()


def write_pid(root, pid):
    """jobscope.pid in root: run.sh stops what a pytest that died halfway left running."""
    with open(os.path.join(root, "jobscope.pid"), "w") as f:
        f.write("%d\n" % pid)


def remove_pid(root):
    try:
        os.unlink(os.path.join(root, "jobscope.pid"))
    except FileNotFoundError:
        pass


def copytree_writable(src, dst):
    """copytree, then u+w everywhere: distcheck's source tree is read-only, the copies must not be."""
    shutil.copytree(src, dst)
    for dirpath, dirnames, filenames in os.walk(dst):
        os.chmod(dirpath, 0o755)
        for fn in filenames:
            os.chmod(os.path.join(dirpath, fn), 0o644)


class PsqlSession:
    """One long-lived psql on a database (a psql per query costs ~0.1 s of connection set-up)."""

    APPNAME = "jobscope-tests"
    DONE = "__jobscope_tests_done__"

    def __init__(self, db):
        self.db = db
        self.p = None

    def _start(self):
        env = dict(os.environ, PGAPPNAME=self.APPNAME)
        self.p = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-d", self.db], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)

    def query(self, sql, retry=True):
        if self.p is None or self.p.poll() is not None:
            self._start()
        try:
            self.p.stdin.write(sql.strip().rstrip(";") + ";\n\\echo %s\n" % self.DONE)
            self.p.stdin.flush()
            lines = []
            while True:
                line = self.p.stdout.readline()
                if not line:
                    raise EOFError("psql ended: %r" % lines)
                line = line.rstrip("\n")
                if line == self.DONE:
                    break
                lines.append(line)
        except (EOFError, BrokenPipeError):
            self.close()
            if retry:
                return self.query(sql, retry=False)
            raise
        if any("ERROR:" in l or "FATAL:" in l for l in lines):
            raise AssertionError("psql -d %s: %s failed:\n%s" % (self.db, sql, "\n".join(lines)))
        return "\n".join(lines).strip()

    def close(self):
        if self.p is not None:
            try:
                self.p.stdin.close()
            except OSError:
                pass
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
            self.p = None


def run_jobscope(args, cwd, timeout=60, env=None):
    e = dict(os.environ)
    e.pop("JOURNAL_STREAM", None)
    if env:
        e.update(env)
    return subprocess.run([JOBSCOPE] + args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout, env=e)


def nginx_conf(prefix, listen, sock, unmodified=False):
    """The demo template filled as demo.sh does it (same sed), rate limit raised unless unmodified."""
    p = subprocess.run(
        ["sed", "-e", "s|@PREFIX@|%s|g" % prefix, "-e", "s|@LISTEN@|%s|g" % listen,
         "-e", "s|@SOCKET@|%s|g" % sock, "-e", "s|@STATIC_DIR@|%s/static|g" % SRCDIR,
         "-e", "s|@BOOTSTRAP_DIR@|%s|g" % BOOTSTRAP_DIR, "-e", "s|@MIME_TYPES@|/etc/nginx/mime.types|g",
         "-e", "s|@FASTCGI_PARAMS@|/etc/nginx/fastcgi_params|g", NGINX_TEMPLATE],
        stdout=subprocess.PIPE, text=True, check=True)
    conf = p.stdout
    assert not re.search(r"@[A-Z_]+@", conf), "a placeholder is left unfilled: %r" % re.findall(r"@[A-Z_]+@", conf)
    if not unmodified:
        for old, new in (("rate=10r/m", "rate=6000r/m"), ("burst=5 ", "burst=100 ")):
            assert conf.count(old) == 1, "the nginx template no longer has %r: update conftest.py" % old
            conf = conf.replace(old, new)
    return conf


class Nginx:
    def __init__(self, prefix, port, sock, unmodified=False):
        self.prefix, self.port = prefix, port
        self.url = "http://127.0.0.1:%d" % port
        os.makedirs(prefix, exist_ok=True)
        self.conf = os.path.join(prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(nginx_conf(prefix, "127.0.0.1:%d" % port, sock, unmodified))
        self.pid = None

    def start(self):
        p = subprocess.run(["nginx", "-q", "-e", os.path.join(self.prefix, "error.log"),
                            "-c", self.conf, "-p", self.prefix],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
        assert p.returncode == 0, "nginx did not start: %s\n%s" % (p.stdout, self.error_log())
        pidfile = os.path.join(self.prefix, "nginx.pid")
        wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip(), 10, what="nginx.pid")
        self.pid = int(open(pidfile).read())

    def stop(self):
        if not self.pid:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        pid = self.pid
        wait_for(lambda: not os.path.exists("/proc/%d" % pid) or
                 open("/proc/%d/stat" % pid).read().split(") ")[1][0] == "Z", 20, what="nginx to stop")
        self.pid = None

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "error.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""


class RawResponse:
    def __init__(self, status, headers, content):
        self.status_code = status
        self.headers = requests.structures.CaseInsensitiveDict(headers)
        self.content = content
        self.text = content.decode("utf-8", "replace")
        self.url = "(raw)"
        self.cookies = {}

    def json(self):
        return json.loads(self.text)


class Site:
    """jobscope + nginx + database, and request helpers."""

    def __init__(self, root):
        self.T = root
        self.db = "jobscope_http_%d" % os.getpid()
        self.sock = os.path.join(root, "run", "jobscope.sock")
        self.config = os.path.join(root, "config.json")
        self.templates = os.path.join(root, "templates")
        self.var = os.path.join(root, "var")
        self.logpath = os.path.join(root, "jobscope.log")
        self.proc = None
        self.nginx = None
        self.url = None
        self.psql = PsqlSession(self.db)

    # --- setup ---------------------------------------------------------------------

    def config_dict(self):
        return {
            "main": {
                "addr": "127.0.0.1:8080",
                "db": "dbname=%s" % self.db,
                "fcgi-socket": self.sock,
                "workers": 2,
                "templates-dir": self.templates,
                "static-dir": os.path.join(SRCDIR, "static"),
                "sql-dir": os.path.join(SRCDIR, "sql"),
                "session-max-age": "12h",
                "max-body-size": MAX_BODY,
                "home-counts-ttl": 0,  # other modules add jobs; the counts must not lag
            },
            "archive": {"kind": "file", "path": "./var/job-archive"},
            "auth": {"jwts": {"max-age": "2000h"}},
        }

    def write_config(self, d=None, raw=None):
        with open(self.config, "w") as f:
            f.write(raw if raw is not None else json.dumps(d or self.config_dict(), indent=2))

    def setup(self):
        os.makedirs(os.path.join(self.T, "run"))
        copytree_writable(os.path.join(SRCDIR, "templates"), self.templates)
        os.makedirs(self.var)
        copytree_writable(os.path.join(SRCDIR, "tests", "data", "archive"), os.path.join(self.var, "job-archive"))
        # .env: what `jobscope -init` writes (fresh JWT keys and SESSION_KEY)
        scratch = os.path.join(self.T, "init")
        os.makedirs(scratch)
        p = run_jobscope(["-init"], cwd=scratch)
        assert p.returncode == 0, "jobscope -init failed: %s%s" % (p.stdout, p.stderr)
        shutil.copy(os.path.join(scratch, ".env"), os.path.join(self.T, ".env"))
        env = open(os.path.join(self.T, ".env")).read()
        assert "SESSION_KEY=" in env
        key = env.split("SESSION_KEY=", 1)[1].split("\n", 1)[0].strip('"')
        assert len(base64.b64decode(key)) == 32, "jobscope -init wrote SESSION_KEY=%r" % key
        self.write_config()

        psql('CREATE DATABASE "%s"' % self.db)
        p = run_jobscope(["-config", self.config, "-migrate-db"], cwd=self.T)
        assert p.returncode == 0, "jobscope -migrate-db failed: %s%s" % (p.stdout, p.stderr)
        for name, pw, roles in USERS.values():
            p = run_jobscope(["-config", self.config, "-add-user", "%s:%s:%s" % (name, roles, pw)], cwd=self.T)
            assert p.returncode == 0, "jobscope -add-user %s failed: %s%s" % (name, p.stdout, p.stderr)
        # jobs for the home page's counts: heron 2 running of 3, lynx 0 of 1 (ghost is not in the archive)
        self.sql("INSERT INTO job (job_id, cluster, subcluster, hpc_user, project, job_state, resources, num_nodes) VALUES "
                 "(1, 'heron', 'main', 'alice', 'p1', 'running', '[]', 1), "
                 "(2, 'heron', 'main', 'alice', 'p1', 'running', '[]', 1), "
                 "(3, 'heron', 'main', 'bob', 'p2', 'completed', '[]', 1), "
                 "(4, 'lynx', 'main', 'bob', 'p2', 'completed', '[]', 1), "
                 "(5, 'ghost', 'main', 'bob', 'p2', 'running', '[]', 1)")

        self.logfile = open(self.logpath, "ab")
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        self.proc = subprocess.Popen([JOBSCOPE, "-server", "-config", self.config], cwd=self.T,
                                     stdout=self.logfile, stderr=subprocess.STDOUT, env=env)
        write_pid(self.T, self.proc.pid)
        wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None, 20, what="jobscope's socket")
        assert self.proc.poll() is None, "jobscope -server exited with %s:\n%s" % (self.proc.returncode, self.log_tail())

        self.nginx = Nginx(os.path.join(self.T, "nginx"), free_port(), self.sock)
        self.nginx.start()
        self.url = self.nginx.url

        def healthy():
            try:
                return requests.get(self.url + "/healthz", timeout=5).status_code == 200
            except requests.RequestException:
                return False
        wait_for(healthy, 20, 0.1, what="/healthz = 200")

    def teardown(self):
        errors = []
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=30)
                if rc != 0:
                    errors.append("jobscope exited with status %d after SIGTERM" % rc)
            except subprocess.TimeoutExpired:
                errors.append("jobscope did not exit within 30 s of SIGTERM")
                self.proc.kill()
                self.proc.wait()
            remove_pid(self.T)
            if os.path.exists(self.sock):
                errors.append("jobscope left its socket %s behind" % self.sock)
        elif self.proc is not None:
            errors.append("jobscope had exited already with status %s" % self.proc.returncode)
        if self.nginx:
            self.nginx.stop()
        self.psql.close()
        psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.db, check=False)
        if errors:
            raise AssertionError("; ".join(errors) + "\n" + self.log_tail())

    # --- inspection ------------------------------------------------------------------

    def log_text(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    def sql(self, q):
        return self.psql.query(q)

    # what a refused request must leave as it was: (table or file, digest), one query for all tables.
    # Columns the background tasks update on their own (job durations, footprints, previews,
    # monitoring status, the archive queue) are left out, and so are sessions that expired
    # (the task runner sweeps them) and the login rate limit (a refused login counts there).
    STATE_SQL = {
        "job": "SELECT id || ':' || job_id || ':' || cluster || ':' || hpc_user || ':' || project || ':' || "
               "job_state || ':' || coalesce(meta_data::text, '') FROM job",
        "tag": "SELECT id || ':' || tag_type || ':' || tag_name || ':' || tag_scope FROM tag",
        "jobtag": "SELECT job_id || ':' || tag_id FROM jobtag",
        "hpc_user": "SELECT t::text FROM hpc_user t",
        "configuration": "SELECT t::text FROM configuration t",
        "session": "SELECT encode(id_hash, 'hex') || ':' || username FROM session WHERE expires > now() + interval '1 minute'",
        "node": "SELECT t::text FROM node t",
        "node_state": "SELECT t::text FROM node_state t",
    }

    def state(self):
        """{table or file: digest} of everything a request could change (tables above, the notice,
        the uploaded logo); compare before and after a request that must change nothing."""
        cols = ", ".join("(SELECT md5(coalesce(string_agg(x, '|' ORDER BY x), '')) FROM (%s) s(x))" % q
                         for q in self.STATE_SQL.values())
        digests = self.sql("SELECT concat_ws(' ', %s)" % cols).split(" ")
        out = dict(zip(self.STATE_SQL, digests))
        for rel in ("notice.txt", "img"):
            p = os.path.join(self.var, rel)
            if os.path.isdir(p):
                out[rel] = sorted((n, open(os.path.join(p, n), "rb").read()) for n in os.listdir(p))
            else:
                out[rel] = open(p, "rb").read() if os.path.exists(p) else None
        return out

    def sessions(self, username=None):
        if username is None:
            return int(self.sql("SELECT count(*) FROM session"))
        return int(self.sql("SELECT count(*) FROM session WHERE username = '%s'" % username.replace("'", "''")))

    def workers(self):
        kids = children_of(self.proc.pid)
        return sorted(p for p, c in kids.items() if c == "jobscope-worker")

    def task_runners(self):
        kids = children_of(self.proc.pid)
        return sorted(p for p, c in kids.items() if c == "jobscope-tasks")

    # --- requests --------------------------------------------------------------------

    def get(self, path, client=None, **kw):
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 20)
        return (client or requests).get(self.url + path, **kw)

    def post(self, path, client=None, **kw):
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 20)
        return (client or requests).post(self.url + path, **kw)

    def request(self, method, path, client=None, **kw):
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 20)
        return (client or requests).request(method, self.url + path, **kw)

    def raw(self, method, uri, headers=None, body=None):
        """A request with the URI sent exactly as given (requests would re-quote "%zz")."""
        conn = http.client.HTTPConnection("127.0.0.1", self.nginx.port, timeout=20)
        try:
            conn.request(method, uri, body=body, headers=headers or {})
            r = conn.getresponse()
            return RawResponse(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def fcgi(self, method="GET", uri="/", **kw):
        return fcgi_request(self.sock, method, uri, **kw)

    def direct(self, method, uri, client=None, headers=None, data=None):
        """A request straight to jobscope (past nginx, which answers some paths itself) with
        the cookies of a requests.Session; a response shaped like requests' (RawResponse)."""
        h = dict(headers or {})
        if client is not None and client.cookies:
            h["Cookie"] = "; ".join("%s=%s" % (k, v) for k, v in client.cookies.items())
        if isinstance(data, dict):
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
            data = urllib.parse.urlencode(data)
        r = fcgi_request(self.sock, method, uri, headers=h, body=data or b"")
        return RawResponse(r.status, r.header_list, r.body)

    def login_form(self, client):
        """GET /login in client: (response, csrf token); the client now holds jobscope_csrf."""
        r = self.get("/login", client)
        assert r.status_code == 200, show(r)
        return r, csrf_from(r.text)

    def login(self, who="user", client=None, redirect=None):
        """A requests.Session logged in as USERS[who]."""
        name, pw, _ = USERS[who]
        return self.login_as(name, pw, client, redirect)

    def login_as(self, name, pw, client=None, redirect=None):
        """A requests.Session logged in with this name and password."""
        c = client or requests.Session()
        _, token = self.login_form(c)
        data = {"username": name, "password": pw, "csrf_token": token}
        if redirect is not None:
            data["redirect"] = redirect
        r = self.post("/login", c, data=data)
        assert r.status_code == 302, show(r)
        assert c.cookies.get("session"), "no session cookie after login: %s" % show(r)
        c.last_login = r
        return c

    def hup_and_wait(self):
        """SIGHUP the master; wait for its verdict.  True when it reloaded, False when it refused."""
        log = self.log_text()
        old = self.workers()
        ok0, bad0 = log.count("reloaded configuration and templates"), log.count("reload refused")
        self.proc.send_signal(signal.SIGHUP)

        def verdict():
            t = self.log_text()
            if t.count("reloaded configuration and templates") > ok0:
                return "ok"
            if t.count("reload refused") > bad0:
                return "refused"
            return None
        ok = wait_for(verdict, 15, what="the master's answer to SIGHUP") == "ok"
        if ok:  # the old generation drains and leaves; wait for it, so that tests see one set of workers
            wait_for(lambda: (lambda w: len(w) == 2 and not set(w) & set(old))(self.workers()), 15,
                     what="the old workers to leave after the reload")
        return ok


_SITE = None


@pytest.fixture(scope="session")
def js():
    global _SITE
    if not os.access(JOBSCOPE, os.X_OK):
        pytest.fail("no jobscope program at %s (JOBSCOPE_BUILDDIR)" % JOBSCOPE)
    root = os.path.join(tmp_root(), "site")
    os.makedirs(root)
    site = Site(root)
    _SITE = site
    try:
        site.setup()
    except BaseException:
        try:
            site.teardown()
        finally:
            print("jobscope log:\n" + site.log_tail(80))
            if site.nginx:
                print("nginx error log:\n" + site.nginx.error_log())
        raise
    yield site
    site.teardown()


@pytest.fixture
def start_nginx(js):
    """Factory: another nginx in front of the same jobscope socket; stopped after the test."""
    started = []

    def start(unmodified=True):
        n = Nginx(tempfile.mkdtemp(prefix="nginx-", dir=tmp_root()), free_port(), js.sock, unmodified)
        n.start()
        started.append(n)
        return n
    yield start
    for n in started:
        n.stop()


class Extra:
    """Another `jobscope -server` on the site's database, with its own socket and log."""

    def __init__(self, js, root, workers):
        self.root, self.sock = root, os.path.join(root, "extra.sock")
        os.makedirs(root)
        shutil.copy(os.path.join(js.T, ".env"), os.path.join(root, ".env"))
        shutil.copytree(js.var, os.path.join(root, "var"))
        d = js.config_dict()
        d["main"].update({"fcgi-socket": self.sock, "workers": workers})
        self.config = os.path.join(root, "config.json")
        with open(self.config, "w") as f:
            json.dump(d, f)
        self.logpath = os.path.join(root, "jobscope.log")
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        with open(self.logpath, "ab") as log:
            self.proc = subprocess.Popen([JOBSCOPE, "-server", "-config", self.config], cwd=root,
                                         stdout=log, stderr=subprocess.STDOUT, env=env)
        write_pid(root, self.proc.pid)
        wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None, 20, what="the socket")
        assert self.proc.poll() is None, "jobscope exited: " + self.log()
        wait_for(lambda: len([c for c in children_of(self.proc.pid).values() if c == "jobscope-worker"]) == workers,
                 10, what="the workers")

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        remove_pid(self.root)


@pytest.fixture
def extra_jobscope(js):
    """Factory: start another jobscope server (killed after the test if still running)."""
    started = []

    def start(workers=1):
        e = Extra(js, os.path.join(tempfile.mkdtemp(prefix="extra-", dir=tmp_root()), "site"), workers)
        started.append(e)
        return e
    yield start
    for e in started:
        e.stop()


@pytest.fixture
def user_client(js):
    return js.login("user")


@pytest.fixture
def admin_client(js):
    return js.login("admin")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and _SITE is not None:
        rep.sections.append(("jobscope log (last 40 lines)", _SITE.log_tail(40)))
        if _SITE.nginx:
            err = _SITE.nginx.error_log()
            if err:
                rep.sections.append(("nginx error.log (tail)", err[-2000:]))
