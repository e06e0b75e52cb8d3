"""The master and its children: a killed worker is replaced, SIGHUP reloads templates and
config (and refuses broken ones while the old ones go on serving)."""

import json
import os
import signal
import subprocess
import threading
import time

import pytest
import requests

from conftest import USERS
from jshelpers import FcgiConn, csrf_from, fcgi_params, fcgi_request, show, wait_for


def test_children(js):
    assert len(js.workers()) == 2, "main.workers is 2: %r" % js.workers()
    assert len(js.task_runners()) == 1


def test_killed_worker_is_replaced(js):
    workers = js.workers()
    assert len(workers) == 2
    victim = workers[0]
    os.kill(victim, signal.SIGKILL)
    new = wait_for(lambda: (lambda w: w if len(w) == 2 and victim not in w else None)(js.workers()), 10,
                   what="a new worker in place of %d" % victim)
    assert workers[1] in new, "the other worker must stay: %r -> %r" % (workers, new)
    c = requests.Session()
    statuses = [js.get("/healthz", c).status_code for _ in range(20)]
    assert statuses == [200] * 20, statuses
    assert "worker %d died from signal 9; starting a new one" % victim in js.log_text()
    assert len(js.task_runners()) == 1


def _kept_request(conn, uri="/ping"):
    conn.begin(fcgi_params("GET", uri), keep=True)
    conn.stdin(b"")
    return conn.response(close=False)


def test_kept_connections_do_not_pin_workers(js):
    """nginx keeps FastCGI connections open between requests (fastcgi_keep_conn). Idle
    kept connections, more than there are workers, must not keep new connections from
    being served, and each kept connection carries request after request."""
    kept = [FcgiConn(js.sock, timeout=10) for _ in range(6)]  # 2 workers
    try:
        for c in kept:
            r = _kept_request(c)
            assert r.status == 200 and r.body == b"pong\n", r
        # all six idle and open: a new connection is still answered at once
        t0 = time.monotonic()
        r = fcgi_request(js.sock, "GET", "/ping", timeout=5)
        assert r.status == 200 and r.body == b"pong\n", r
        assert time.monotonic() - t0 < 2
        r = js.get("/ping")  # and through nginx, which keeps its own connections
        assert r.status_code == 200 and r.text == "pong\n", show(r)
        # the kept connections still work, several times each, in any order
        for _ in range(3):
            for c in reversed(kept):
                r = _kept_request(c, "/healthz")
                assert r.status == 200, r
    finally:
        for c in kept:
            c.s.close()
    # closed by the client: the workers drop them and go on
    for _ in range(4):
        assert fcgi_request(js.sock, "GET", "/ping", timeout=5).body == b"pong\n"


@pytest.mark.parametrize("size", [0, 20000, 300000])
def test_kept_connection_after_an_unread_body(js, size):
    """A request refused before its body is read (401: no token) leaves the body in the
    connection; the next request on the kept connection must still be read correctly."""
    c = FcgiConn(js.sock, timeout=10)
    try:
        body = b"{" + b"x" * size + b"}"
        c.begin(fcgi_params("POST", "/api/jobs/start_job/", {"Content-Type": "application/json"},
                            len(body)), keep=True)
        c.stdin(body)
        r = c.response(close=False)
        assert r.status == 401, r
        r = _kept_request(c)
        assert r.status == 200 and r.body == b"pong\n", r
    finally:
        c.s.close()


def test_kept_connection_closed_after_a_large_unread_body(js):
    """Past a bound, the rest of an unread body is not read: the connection is closed
    after the answer instead (nginx opens another)."""
    c = FcgiConn(js.sock, timeout=10)
    body = b"x" * (3 << 20)
    c.begin(fcgi_params("POST", "/api/jobs/start_job/", {"Content-Type": "application/json"},
                        len(body)), keep=True)
    t = threading.Thread(target=c.stdin, args=(body,))  # the worker may stop reading
    t.start()
    r = c.response(close=False)
    assert r.status in (401, 413), r
    try:
        while c.s.recv(65536):
            pass
    except ConnectionResetError:
        pass
    t.join(10)
    c.s.close()
    assert fcgi_request(js.sock, "GET", "/ping", timeout=5).body == b"pong\n"


def test_connection_without_keep_conn_is_closed(js):
    """Without FCGI_KEEP_CONN the worker closes the connection after its answer."""
    c = FcgiConn(js.sock, timeout=5)
    c.begin(fcgi_params("GET", "/ping"))
    c.stdin(b"")
    r = c.response(close=False)
    assert r.body == b"pong\n"
    assert c.s.recv(1) == b""  # end of file: the worker closed its side
    c.s.close()


def test_killed_task_runner_is_replaced(js):
    old = js.task_runners()
    assert len(old) == 1
    os.kill(old[0], signal.SIGKILL)
    wait_for(lambda: (lambda t: len(t) == 1 and t != old)(js.task_runners()), 10, what="a new task runner")
    assert js.get("/healthz").status_code == 200


class Hammer(threading.Thread):
    """GET a path in a loop until stopped; records every status (or exception)."""

    def __init__(self, js, path="/ping", method="GET", ok=200):
        super().__init__(daemon=True)
        self.js, self.path, self.method, self.ok = js, path, method, ok
        self.stop = threading.Event()
        self.results = []

    def run(self):
        s = requests.Session()
        deadline = time.monotonic() + 30
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                if self.method == "GET":
                    r = self.js.get(self.path, s, timeout=10)
                else:
                    r = self.js.post(self.path, s, data=b"x" * 100, timeout=10)
                if r.status_code == 200 and self.path == "/ping" and r.text != "pong\n":
                    self.results.append("200 with body %r" % r.text)
                else:
                    self.results.append(r.status_code)
            except requests.RequestException as e:
                self.results.append(repr(e))

    def finish(self):
        self.stop.set()
        self.join(20)
        bad = [x for x in self.results if x != self.ok]
        return len(self.results), bad


@pytest.fixture
def footer(js):
    """The footer template of the running site; restored (and reloaded) after the test."""
    path = os.path.join(js.templates, "partials", "footer.html")
    with open(path) as f:
        orig = f.read()
    yield path, orig
    with open(path) as f:
        now = f.read()
    if now != orig:
        with open(path, "w") as f:
            f.write(orig)
        assert js.hup_and_wait(), js.log_tail()
        wait_for(lambda: "RELOAD-MARK" not in js.get("/imprint").text, 10, what="the original footer")


def test_sighup_reloads_templates_without_failed_requests(js, footer):
    path, orig = footer
    assert "RELOAD-MARK" not in js.get("/imprint").text
    before = js.workers()
    with open(path, "w") as f:
        f.write(orig.replace("job-specific performance monitoring", "job-specific performance monitoring RELOAD-MARK-1"))
    hammers = [Hammer(js, "/ping"), Hammer(js, "/imprint")]
    for h in hammers:
        h.start()
    time.sleep(0.2)
    assert js.hup_and_wait(), "the reload was refused:\n" + js.log_tail()
    r = wait_for(lambda: (lambda r: r if "RELOAD-MARK-1" in r.text else None)(js.get("/imprint")), 10,
                 what="the changed footer")
    assert r.status_code == 200
    time.sleep(0.3)
    for h in hammers:
        n, bad = h.finish()
        assert n > 10, "the hammer on %s made only %d requests" % (h.path, n)
        assert bad == [], "failed requests during the reload on %s (of %d): %r" % (h.path, n, bad[:20])
    # a new generation of workers; the old ones are gone
    wait_for(lambda: not set(before) & set(js.workers()), 10, what="the old workers to leave")
    assert len(js.workers()) == 2
    # every worker now serves the new footer
    assert all("RELOAD-MARK-1" in js.get("/privacy").text for _ in range(10))


def test_sighup_fails_no_post(js):
    """nginx never resends a POST that failed on a kept connection (it is not idempotent):
    a reload must not close a kept connection that nginx may be using.  POSTs to /ping
    (405 from jobscope itself) through several reloads: no 502."""
    hammers = [Hammer(js, "/ping", "POST", 405) for _ in range(6)]
    for h in hammers:
        h.start()
    try:
        for _ in range(3):
            time.sleep(0.3)
            assert js.hup_and_wait(), js.log_tail()
        time.sleep(0.3)
    finally:
        results = [h.finish() for h in hammers]
    for n, bad in results:
        assert n > 10, "the hammer made only %d requests" % n
        assert bad == [], "failed POSTs during reloads (of %d): %r\n%s" % (n, bad[:20], js.nginx.error_log()[-2000:])


def test_leaving_worker_serves_its_kept_connection(js, extra_jobscope):
    """SIGTERM (or a reload): a worker takes no new connections but goes on serving a kept
    one until the peer closes it, and leaves then, at once."""
    ex = extra_jobscope(workers=1)
    c = FcgiConn(ex.sock, timeout=10)
    try:
        assert _kept_request(c).body == b"pong\n"
        ex.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        for _ in range(3):
            r = _kept_request(c, "/healthz")
            assert r.status == 200, r
        assert ex.proc.poll() is None, ex.log()
    finally:
        c.s.close()
    t0 = time.monotonic()
    assert ex.proc.wait(15) == 0, ex.log()
    assert time.monotonic() - t0 < 5, "the worker lingered after its last connection closed"
    assert "did not close" not in ex.log()


def test_leaving_worker_closes_a_forgotten_kept_connection(js, extra_jobscope):
    """A peer that never closes its kept connection (nginx without keepalive_timeout) keeps a
    leaving worker only 20 s: then it closes the connection, says so, and the master exits 0."""
    ex = extra_jobscope(workers=1)
    c = FcgiConn(ex.sock, timeout=40)
    try:
        assert _kept_request(c).body == b"pong\n"
        t0 = time.monotonic()
        ex.proc.send_signal(signal.SIGTERM)
        assert c.s.recv(1) == b"", "the connection must be closed, not answered"
        waited = time.monotonic() - t0
        assert 18 < waited < 25, waited
    finally:
        c.s.close()
    assert ex.proc.wait(15) == 0, ex.log()
    assert "closing 1 kept connection that nginx did not close in 20 s" in ex.log(), ex.log()


def test_sighup_refuses_a_broken_template(js, footer):
    path, orig = footer
    lines = orig.split("\n")
    lines.insert(2, "{{#unclosed}} RELOAD-MARK-2")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    before = js.workers()
    ok = js.hup_and_wait()
    assert not ok, "a broken template was accepted:\n" + js.log_tail()
    log = js.log_tail(5)
    refusal = [l for l in log.splitlines() if "reload refused" in l]
    assert refusal, log
    assert "partials/footer.html:3" in refusal[-1], "the log must name the file and line: %r" % refusal[-1]
    assert "unclosed" in refusal[-1]
    # the old templates go on serving, from the same workers
    assert js.workers() == before
    for _ in range(6):
        r = js.get("/imprint")
        assert r.status_code == 200 and "job-specific performance monitoring</span>" in r.text, show(r)
        assert "RELOAD-MARK-2" not in r.text


@pytest.fixture
def config_restore(js):
    with open(js.config) as f:
        orig = f.read()
    yield orig
    with open(js.config, "w") as f:
        f.write(orig)
    assert js.hup_and_wait(), js.log_tail()


@pytest.mark.parametrize("bad,named", [
    ('{"main": {', "config.json"),
    (None, "main.no-such-key"),
    ("[]", "expected a JSON object"),
])
def test_sighup_refuses_a_broken_config(js, config_restore, bad, named):
    if bad is None:
        d = json.loads(config_restore)
        d["main"]["no-such-key"] = 1
        bad = json.dumps(d)
    with open(js.config, "w") as f:
        f.write(bad)
    before = js.workers()
    assert not js.hup_and_wait(), "a broken config was accepted:\n" + js.log_tail()
    refusal = [l for l in js.log_tail(5).splitlines() if "reload refused" in l][-1]
    assert js.config in refusal and named in refusal, refusal
    assert js.workers() == before
    assert js.get("/healthz").status_code == 200
    assert js.get("/imprint").status_code == 200


def test_sighup_reads_var_overrides(js):
    """var/imprint.tmpl (cc-backend's {{define "content"}} wrapper) replaces the built-in imprint after SIGHUP."""
    path = os.path.join(js.var, "imprint.tmpl")
    with open(path, "w") as f:
        f.write('{{define "content"}}\n<h1>Site imprint</h1><p>OVERRIDE-MARK &amp; more</p>\n{{end}}\n')
    try:
        assert js.hup_and_wait(), js.log_tail()
        r = wait_for(lambda: (lambda r: r if "OVERRIDE-MARK" in r.text else None)(js.get("/imprint")), 10,
                     what="the imprint override")
        assert r.status_code == 200
        assert "<h1>Site imprint</h1>" in r.text and "has no imprint yet" not in r.text, show(r)
        assert "<footer" in r.text and "<nav" in r.text, "the override is shown inside the layout%s" % show(r)
        assert "<p>OVERRIDE-MARK &amp; more</p>" in r.text and "define" not in r.text and "{{end}}" not in r.text, show(r)
        assert "OVERRIDE-MARK" not in js.get("/privacy").text
    finally:
        os.unlink(path)
        assert js.hup_and_wait(), js.log_tail()
    wait_for(lambda: "has no imprint yet" in js.get("/imprint").text, 10, what="the built-in imprint again")


class TableLock:
    """A psql session that holds an exclusive lock on a table until released."""

    def __init__(self, db, table):
        self.p = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-d", db], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.p.stdin.write("BEGIN; LOCK TABLE %s IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n" % table)
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        assert line.strip() == "locked", line

    def release(self):
        if self.p.poll() is None:
            self.p.stdin.write("COMMIT;\n")
            self.p.stdin.close()
            self.p.wait(10)


def test_sigterm_lets_the_request_in_hand_finish(js, extra_jobscope):
    """SIGTERM while a worker waits for the database: the request completes, then the master exits 0."""
    ex = extra_jobscope(workers=1)
    pre = fcgi_request(ex.sock, "GET", "/login")
    cookie = pre.headers_all("Set-Cookie")[0].split(";")[0]
    body = "username=alice&password=%s&csrf_token=%s" % (USERS["user"][1], csrf_from(pre.text))
    lock = TableLock(js.db, "hpc_user")
    try:
        conn = FcgiConn(ex.sock)
        conn.begin(fcgi_params("POST", "/login", {"Content-Type": "application/x-www-form-urlencoded",
                                                   "Cookie": cookie}, len(body)))
        conn.stdin(body.encode())
        # the worker now waits for the lock
        wait_for(lambda: js.sql("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'hpc_user'::regclass")
                 != "0", 10, what="the login to wait for the lock")
        ex.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert ex.proc.poll() is None, "the master left before its worker finished:\n" + ex.log()
    finally:
        lock.release()
    r = conn.response()
    assert r.status == 302, r
    assert ex.proc.wait(30) == 0, ex.log()
    assert not os.path.exists(ex.sock)
    assert "stopped" in ex.log()


def test_sigterm_while_a_body_is_arriving(js, extra_jobscope):
    """SIGTERM while a worker reads a request body: the request is still answered in full."""
    ex = extra_jobscope(workers=1)
    pre = fcgi_request(ex.sock, "GET", "/login")
    cookie = pre.headers_all("Set-Cookie")[0].split(";")[0]
    body = ("username=alice&password=%s&csrf_token=%s" % (USERS["user"][1], csrf_from(pre.text))).encode()
    conn = FcgiConn(ex.sock)
    conn.begin(fcgi_params("POST", "/login", {"Content-Type": "application/x-www-form-urlencoded",
                                               "Cookie": cookie}, len(body)))
    conn.stdin(body[:10], end=False)
    time.sleep(0.3)
    ex.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    conn.stdin(body[10:])
    r = conn.response()
    assert r.status == 302, r
    assert ex.proc.wait(30) == 0, ex.log()


def test_log_lines_name_the_worker(js):
    """A worker's log lines carry its own process id (the log keeps the id of the
    process it is in, and forgets the master's in a forked worker)."""
    r = js.raw("GET", "/monitoring/jobs/?%zz")  # logged: a malformed query
    assert r.status_code == 400
    rid = r.headers["X-Request-Id"]
    line = wait_for(lambda: next((ln for ln in open(js.logpath, errors="replace")
                                  if "req=%s " % rid in ln), None), 5, what="the request's log line")
    pid = int(line.split("[", 1)[1].split("]", 1)[0])
    assert pid in js.workers() and pid != js.proc.pid, (line, js.workers())
