"""Archiving through the metric repositories, with real services.

The module runs its own jobscope (own database, archive, config and socket;
the session site `js` is not used), talked to over FastCGI:
  * cc-metric-store: tests/http/ccms_fixture.py replays the recorded v2
    answers of tests/data/ccms/ on a loopback port and checks the Bearer
    token and the shape (and exact queries) of every request;
  * Prometheus: the real `prometheus` scraping a real
    `prometheus-node-exporter` every second, both started and stopped here.
Jobs are started and stopped through the REST API (JWT of an api user);
stop_job queues them in archive_queue and the task runner archives them.

Covered: (a) a job archived from the store (meta.json statistics, data.json.gz
with node/core/accelerator scopes, footprint and energy in the database);
errors retried with backoff and given up after 5 attempts; no repository ->
status 2 at once; (b) kill -9 of the task runner midway, the master's new
runner archives the job; (c) two masters on one database, one holds the task
lock; (d) Prometheus + node exporter series for cpu_load and mem_used.
"""

import ctypes
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import JOBSCOPE, SRCDIR, PsqlSession, psql, remove_pid, run_jobscope, tmp_root, write_pid
from jshelpers import children_of, fcgi_request, free_port, wait_for

DATA = os.path.join(SRCDIR, "tests", "data", "ccms")
TOKEN = "ccms-fixture-token-%d" % os.getpid()
TASKS_LOCK_KEY = 0x6A6F6273  # app/tasks.h
ACC = "00000000:01:00.0"
HOST = socket.gethostname()


def _pdeathsig():
    """Children die with the test process, even if pytest is killed."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Service:
    """A program started here, with its output in a log file."""

    def __init__(self, name, argv, root, cwd=None):
        self.name, self.log = name, os.path.join(root, name + ".log")
        with open(self.log, "ab") as out:
            self.p = subprocess.Popen(argv, cwd=cwd or root, stdout=out, stderr=subprocess.STDOUT,
                                      preexec_fn=_pdeathsig)

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                return self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                raise AssertionError("%s did not stop within %d s" % (self.name, timeout))
        return self.p.returncode


def local_cluster():
    """A cluster for this machine: node-scope metrics with a 1 s timestep (Prometheus scrapes every second)."""
    def metric(name, base, prefix, footprint=None):
        m = {"name": name, "unit": {"base": base}, "scope": "node", "timestep": 1, "aggregation": "avg",
             "peak": 100, "normal": 50, "caution": 10, "alert": 5}
        if prefix:
            m["unit"]["prefix"] = prefix
        if footprint:
            m["footprint"] = footprint
        return m
    return {
        "name": "local",
        "metricConfig": [metric("cpu_load", "", None, "avg"), metric("mem_used", "B", "G", "max"),
                         metric("net_bw", "B/s", "M"),
                         dict(metric("flops_any", "F/s", "G"), scope="hwthread")],
        "subClusters": [{
            "name": "main", "nodes": "*", "processorType": "this machine", "socketsPerNode": 1,
            "coresPerSocket": 2, "threadsPerCore": 1,
            "flopRateScalar": {"unit": {"base": "F/s", "prefix": "G"}, "value": 1},
            "flopRateSimd": {"unit": {"base": "F/s", "prefix": "G"}, "value": 4},
            "memoryBandwidth": {"unit": {"base": "B/s", "prefix": "G"}, "value": 10},
            "topology": {"node": [0, 1], "socket": [[0, 1]], "memoryDomain": [[0, 1]], "core": [[0], [1]]},
        }],
    }


class Arch:
    """jobscope + database + cc-metric-store fixture for this module."""

    def __init__(self):
        self.T = tempfile.mkdtemp(prefix="extra-arch-", dir=tmp_root())
        self.root = os.path.join(self.T, "site")
        self.db = "jobscope_arch_%d" % os.getpid()
        self.masters = []
        self.services = []
        self.prom_port = free_port()
        self.psql = PsqlSession(self.db)

    # --- set-up --------------------------------------------------------------------

    def config(self, sock):
        return {
            "main": {
                "addr": "127.0.0.1:8080", "db": "dbname=%s" % self.db, "fcgi-socket": sock, "workers": 1,
                "templates-dir": os.path.join(SRCDIR, "templates"), "static-dir": os.path.join(SRCDIR, "static"),
                "sql-dir": os.path.join(SRCDIR, "sql"),
                "prometheus": [{"scope": "local", "url": "http://127.0.0.1:%d" % self.prom_port}],
                "stop-jobs-exceeding-walltime": 3600,
            },
            "archive": {"kind": "file", "path": "./var/job-archive"},
            "auth": {"jwts": {"max-age": "2000h"}},
            "metric-store-external": [{"scope": "pico", "url": "http://127.0.0.1:%d/" % self.ccms_port, "token": TOKEN}],
        }

    def setup(self):
        os.makedirs(self.root)
        self.ccms_port = self.start_ccms()
        arch = os.path.join(self.root, "var", "job-archive")
        os.makedirs(os.path.join(arch, "pico"))
        with open(os.path.join(arch, "version.txt"), "w") as f:
            f.write("3\n")
        shutil.copy(os.path.join(DATA, "cluster.json"), os.path.join(arch, "pico", "cluster.json"))
        shutil.copytree(os.path.join(SRCDIR, "tests", "data", "archive", "lynx"), os.path.join(arch, "lynx"))
        os.chmod(os.path.join(arch, "lynx"), 0o755)
        os.makedirs(os.path.join(arch, "local"))
        with open(os.path.join(arch, "local", "cluster.json"), "w") as f:
            json.dump(local_cluster(), f)
        scratch = os.path.join(self.T, "init")
        os.makedirs(scratch)
        p = run_jobscope(["-init"], cwd=scratch)
        assert p.returncode == 0, p.stderr
        shutil.copy(os.path.join(scratch, ".env"), os.path.join(self.root, ".env"))
        self.config_path = self.write_config("config.json", os.path.join(self.root, "a.sock"))
        psql('CREATE DATABASE "%s"' % self.db)
        for args in (["-migrate-db"], ["-add-user", "archapi:api:"]):
            p = run_jobscope(["-config", self.config_path] + args, cwd=self.root)
            assert p.returncode == 0, "jobscope %s: %s%s" % (args, p.stdout, p.stderr)
        p = run_jobscope(["-config", self.config_path, "-jwt", "archapi"], cwd=self.root)
        assert p.returncode == 0, p.stderr
        self.jwt = p.stdout.strip().split()[-1]
        self.a = self.start_master("a", self.config_path)

    def write_config(self, name, sock):
        path = os.path.join(self.root, name)
        with open(path, "w") as f:
            json.dump(self.config(sock), f, indent=1)
        return path

    def start_ccms(self):
        portfile = os.path.join(self.T, "ccms.port")
        s = Service("ccms", [sys.executable, os.path.join(SRCDIR, "tests", "http", "ccms_fixture.py"),
                             "--data", DATA, "--token", TOKEN, "--port-file", portfile], self.T)
        self.services.append(s)
        wait_for(lambda: os.path.exists(portfile) or s.p.poll() is not None, 10, what="the ccms fixture")
        assert s.p.poll() is None, s.text()
        self.ccms = s
        return int(open(portfile).read())

    def start_master(self, name, config):
        m = Service("jobscope-" + name, [JOBSCOPE, "-server", "-config", config], self.root)
        m.sock = json.load(open(config))["main"]["fcgi-socket"]
        self.masters.append(m)
        if name == "a":
            write_pid(self.root, m.p.pid)  # run.sh's cleanup knows this place
        wait_for(lambda: os.path.exists(m.sock) or m.p.poll() is not None, 20, what="jobscope's socket")
        assert m.p.poll() is None, m.text()
        return m

    def teardown(self):
        errors = []
        for m in self.masters:
            try:
                rc = m.stop()
                if rc != 0:
                    errors.append("%s exited with %s" % (m.name, rc))
            except AssertionError as e:
                errors.append(str(e))
        remove_pid(self.root)
        for s in self.services:
            s.stop(timeout=10)
        self.psql.close()
        psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.db, check=False)
        assert not errors, "; ".join(errors) + "\n" + self.a.text()[-3000:]

    # --- helpers -------------------------------------------------------------------

    def sql(self, q):
        return self.psql.query(q)

    def api(self, method, path, body=None, sock=None):
        data = json.dumps(body) if body is not None else b""
        r = fcgi_request(sock or self.a.sock, method, path, body=data,
                         headers={"Authorization": "Bearer " + self.jwt, "Content-Type": "application/json"})
        try:
            return r.status, json.loads(r.body or b"null")
        except ValueError:
            return r.status, r.text

    def start_job(self, cluster, job_id, start, resources, num_acc=0, hwthreads=0, sock=None, walltime=3600):
        job = {"jobId": job_id, "cluster": cluster, "user": "alice", "project": "p1", "startTime": start,
               "numNodes": len(resources), "resources": resources, "walltime": walltime}
        if num_acc:
            job["numAcc"] = num_acc
        if hwthreads:
            job["numHwthreads"] = hwthreads
        st, body = self.api("POST", "/api/jobs/start_job/", job, sock)
        assert st == 201, (st, body)

    def run_job(self, cluster, job_id, start, stop, resources, num_acc=0, hwthreads=0, sock=None):
        """start_job + stop_job (through the master listening on sock); the database id."""
        self.start_job(cluster, job_id, start, resources, num_acc, hwthreads, sock)
        st, body = self.api("POST", "/api/jobs/stop_job/",
                            {"jobId": job_id, "cluster": cluster, "startTime": start, "stopTime": stop,
                             "jobState": "completed"}, sock)
        assert st == 200, (st, body)
        return body["id"]

    def job(self, dbid, cols="monitoring_status"):
        return self.sql("SELECT %s FROM job WHERE id = %d" % (cols, dbid))

    def wait_status(self, dbid, want, timeout=20):
        wait_for(lambda: self.job(dbid) == str(want), timeout, 0.1,
                 what="job %d to reach monitoring_status %s (now %s, queue: %s)\n%s" % (
                     dbid, want, self.job(dbid),
                     self.sql("SELECT concat_ws('|', attempts, last_error) FROM archive_queue WHERE job_id = %d" % dbid),
                     self.a.text()[-2000:]))

    def ccms_ctl(self, **kw):
        import urllib.request
        req = urllib.request.Request("http://127.0.0.1:%d/control" % self.ccms_port, data=json.dumps(kw).encode(),
                                     method="POST")
        return json.load(urllib.request.urlopen(req, timeout=5))

    def ccms_stats(self):
        import urllib.request
        return json.load(urllib.request.urlopen("http://127.0.0.1:%d/stats" % self.ccms_port, timeout=5))

    def task_runners(self, m):
        return sorted(p for p, c in children_of(m.p.pid).items() if c == "jobscope-tasks")

    def job_dir(self, cluster, job_id, start):
        return os.path.join(self.root, "var", "job-archive", cluster, str(job_id // 1000), "%03d" % (job_id % 1000),
                            str(start))


@pytest.fixture(scope="module")
def arch():
    a = Arch()
    try:
        a.setup()
    except BaseException:
        for s in a.services + a.masters:
            try:
                s.stop(timeout=10)
            except AssertionError:
                pass
        psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % a.db, check=False)
        raise
    yield a
    a.teardown()


def pico_resources():
    return [{"hostname": "p01", "hwthreads": [0, 1, 4, 5], "accelerators": [ACC]},
            {"hostname": "p02", "hwthreads": [0, 1, 4, 5], "accelerators": [ACC]}]


def scopes(data, metric):
    return sorted(data.get(metric, {}))


# --- (a) cc-metric-store ---------------------------------------------------------------

def test_archive_from_cc_metric_store(arch):
    start = int(time.time()) - 700
    before = arch.ccms_stats()
    dbid = arch.run_job("pico", 4711, start, start + 600, pico_resources(), num_acc=2, hwthreads=8)
    t0 = time.monotonic()
    arch.wait_status(dbid, 3)
    took = time.monotonic() - t0
    stats = arch.ccms_stats()
    assert stats["errors"] == [], stats["errors"]
    assert stats["requests"] - before["requests"] == 8, stats  # one request per metric
    recorded = sum(len(json.load(open(os.path.join(DATA, m + ".json")))["queries"]) for m in stats["by_metric"])
    assert stats["queries"] - before["queries"] == recorded == 24  # every recorded query, no other
    assert stats["last_body"]["cluster"] == "pico" and stats["last_body"]["from"] == start
    assert stats["last_body"]["to"] == start + 600 and stats["last_body"]["with-data"] is True

    d = arch.job_dir("pico", 4711, start)
    files = sorted(os.listdir(d))
    assert files == ["data.json.gz", "meta.json"], files  # > 2000 bytes: gzipped
    meta = json.load(open(os.path.join(d, "meta.json")))
    assert (meta["jobId"], meta["cluster"], meta["subCluster"], meta["jobState"], meta["duration"]) == \
        (4711, "pico", "main", "completed", 600)
    assert meta["monitoringStatus"] == 3
    st = meta["statistics"]
    assert st["cpu_load"] == {"unit": {"base": ""}, "avg": 3, "min": 2, "max": 4}
    assert st["mem_used"]["unit"] == {"base": "B", "prefix": "G"} and st["mem_used"]["max"] == 28
    assert st["flops_any"]["avg"] == 40 and st["mem_bw"]["avg"] == 35 and st["acc_utilization"]["avg"] == 80
    assert st["net_bw"]["avg"] == 2.75  # p02 had an error entry: its series is missing, divided by numNodes
    with open(os.path.join(d, "data.json.gz"), "rb") as f:
        raw = gzip.decompress(f.read())
    assert len(raw) > 2000
    data = json.loads(raw)
    assert scopes(data, "cpu_load") == ["node"]          # native node: nothing finer
    assert scopes(data, "cpu_user") == ["core", "node"]  # numNodes <= 8: core scope too
    assert scopes(data, "flops_any") == ["core", "node"]
    assert scopes(data, "mem_bw") == ["node"]            # socket-native: core is finer
    assert scopes(data, "acc_utilization") == ["accelerator", "node"]
    core = data["flops_any"]["core"]
    assert core["timestep"] == 60 and core["unit"] == {"base": "F/s", "prefix": "G"}
    assert [(s["hostname"], s["id"]) for s in core["series"]] == [("p01", "0"), ("p01", "1"), ("p02", "0"), ("p02", "1")]
    acc = data["acc_utilization"]["accelerator"]["series"]
    assert [(s["hostname"], s["id"]) for s in acc] == [("p01", ACC), ("p02", ACC)]
    node = data["cpu_load"]["node"]["series"]
    assert [s["hostname"] for s in node] == ["p01", "p02"] and "id" not in node[0]
    assert node[0]["data"][3] is None and node[0]["data"][0] == 4  # missing values stay null
    assert [s["hostname"] for s in data["net_bw"]["node"]["series"]] == ["p01"]

    row = json.loads(arch.job(dbid, "json_build_object('fp', footprint, 'efp', energy_footprint, 'e', energy, "
                              "'st', statistics, 'pv', preview IS NOT NULL, 'err', archive_error)"))
    assert row["fp"] == {"cpu_load_avg": 3, "mem_used_max": 28, "flops_any_avg": 40, "mem_bw_avg": 35,
                         "acc_utilization_avg": 80}
    # cpu_power avg 150 W x 2 nodes x 600 s = 0.05 kWh
    assert row["efp"] == {"cpu_power": 0.05} and row["e"] == 0.05
    assert row["st"]["cpu_load"]["avg"] == 3 and row["pv"] is True and row["err"] is None
    assert arch.sql("SELECT count(*) FROM archive_queue") == "0"
    log = arch.a.text()
    assert "partial data" in log and "no data for metric net_bw on host p02" in log
    assert "archived to pico/4/711/%d" % start in log
    assert TOKEN not in log
    print("archived job 4711 in %.2f s after the stop" % took)


def test_store_errors_are_retried_then_given_up(arch):
    arch.ccms_ctl(status=500)
    try:
        start = int(time.time()) - 700
        dbid = arch.run_job("pico", 4712, start, start + 600, pico_resources(), num_acc=2)
        wait_for(lambda: arch.sql("SELECT attempts FROM archive_queue WHERE job_id = %d AND last_error IS NOT NULL" % dbid) == "1",
                 20, 0.1, what="the first failed attempt")
        err = arch.sql("SELECT last_error || '|' || (not_before > now() + interval '20 s') FROM archive_queue WHERE job_id = %d" % dbid)
        assert err == "metric store http://127.0.0.1:%d: HTTP 500: {\"error\": \"fixture told to answer 500\"}|true" % arch.ccms_port, err
        assert arch.job(dbid) == "1"
        # the last attempt, without waiting for the backoff
        arch.sql("UPDATE archive_queue SET attempts = 4, not_before = now() WHERE job_id = %d" % dbid)
        arch.wait_status(dbid, 2)
        why = arch.job(dbid, "archive_error")
        assert why.startswith("metric store http://127.0.0.1:%d: HTTP 500" % arch.ccms_port) and \
            why.endswith("(gave up after 5 attempts)"), why
        assert arch.sql("SELECT count(*) FROM archive_queue WHERE job_id = %d" % dbid) == "0"
        assert not os.path.exists(arch.job_dir("pico", 4712, start))
    finally:
        arch.ccms_ctl(status=0)


def test_no_repository_gives_status_2_at_once(arch):
    start = int(time.time()) - 100
    dbid = arch.run_job("lynx", 4713, start, start + 60, [{"hostname": "l001"}])
    arch.wait_status(dbid, 2, timeout=10)
    why = arch.job(dbid, "archive_error")
    assert why.startswith("no metric repository is configured for cluster lynx (subcluster a100)"), why
    assert arch.sql("SELECT count(*) FROM archive_queue WHERE job_id = %d" % dbid) == "0"


# --- (b) a task runner killed midway ----------------------------------------------------

def test_killed_task_runner_loses_nothing(arch):
    runners = arch.task_runners(arch.a)
    assert len(runners) == 1, runners
    arch.ccms_ctl(delay=30)
    try:
        before = arch.ccms_stats()["requests"]
        start = int(time.time()) - 700
        dbid = arch.run_job("pico", 4714, start, start + 600, pico_resources(), num_acc=2)
        wait_for(lambda: arch.ccms_stats()["requests"] > before, 15, 0.05, what="the archiver's first request")
        os.kill(runners[0], signal.SIGKILL)
        t0 = time.monotonic()
        # the job is still queued: the attempt counted, the row is due again at once
        assert arch.sql("SELECT attempts || '|' || (not_before <= now()) FROM archive_queue WHERE job_id = %d" % dbid) == "1|true"
        assert arch.job(dbid) == "1"
    finally:
        arch.ccms_ctl(delay=0)
    wait_for(lambda: (lambda r: r and r != runners)(arch.task_runners(arch.a)), 10, what="the master to start a new task runner")
    arch.wait_status(dbid, 3)
    assert arch.sql("SELECT count(*) FROM archive_queue") == "0"
    assert os.path.exists(os.path.join(arch.job_dir("pico", 4714, start), "data.json.gz"))
    assert "task runner %d died from signal 9" % runners[0] in arch.a.text()
    print("archived %.2f s after the kill" % (time.monotonic() - t0))


# --- (c) two masters on one database ----------------------------------------------------

def test_two_masters_one_task_lock(arch):
    cfg = arch.write_config("config-b.json", os.path.join(arch.root, "b.sock"))
    b = arch.start_master("b", cfg)
    try:
        wait_for(lambda: "standing by" in b.text(), 10, what="master b's task runner to report the lock held elsewhere")
        holders = arch.sql("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                           "WHERE l.locktype = 'advisory' AND l.classid = 0 AND l.objid = %d AND l.granted "
                           "AND d.datname = '%s'" % (TASKS_LOCK_KEY, arch.db))
        assert holders == "1"
        assert "holding the task lock" not in b.text()
        # a job stopped through master b is archived by a's runner, once
        start = int(time.time()) - 700
        dbid = arch.run_job("pico", 4715, start, start + 600, pico_resources(), num_acc=2, sock=b.sock)
        arch.wait_status(dbid, 3)
        done = "job 4715 on pico (id %d) archived to" % dbid
        assert arch.a.text().count(done) == 1 and "job 4715 on pico" not in b.text()
    finally:
        assert b.stop() == 0
        arch.masters.remove(b)


# --- periodic tasks ---------------------------------------------------------------------

def test_periodic_durations_footprints_walltime(arch):
    now = int(time.time())
    arch.start_job("pico", 4720, now - 1200, pico_resources(), num_acc=2)
    arch.start_job("pico", 4721, now - 5000, pico_resources(), walltime=600)  # past walltime + 3600 s
    arch.start_job("pico", 4722, now - 100, pico_resources())                 # too young for a footprint
    ids = {int(j): int(i) for j, i in (l.split("|") for l in arch.sql(
        "SELECT job_id || '|' || id FROM job WHERE job_id IN (4720, 4721, 4722)").split("\n"))}
    before = arch.ccms_stats()["queries"]
    log0 = arch.a.text().count("holding the task lock")
    # a reload starts a new task runner, which runs every periodic task when it takes the lock
    arch.a.p.send_signal(signal.SIGHUP)
    wait_for(lambda: arch.a.text().count("holding the task lock") > log0, 15, what="the new task runner")
    wait_for(lambda: arch.job(ids[4720], "footprint IS NOT NULL") == "t", 15, 0.1, what="the footprint of job 4720")
    row = json.loads(arch.job(ids[4720], "json_build_object('fp', footprint, 'efp', energy_footprint, 'e', energy, "
                                          "'d', duration, 's', job_state)"))
    assert row["fp"] == {"cpu_load_avg": 3, "mem_used_max": 28, "flops_any_avg": 40, "mem_bw_avg": 35,
                         "acc_utilization_avg": 80}
    # 150 W x 2 nodes x ~1200 s
    assert row["efp"] == {"cpu_power": 0.1} and row["e"] == 0.1 and row["s"] == "running"
    assert 1199 <= row["d"] <= 1230, row  # duration worker: now - startTime
    # statistics only: node queries of the footprint and energy metrics of job 4720
    assert arch.ccms_stats()["queries"] - before == 2 * 6
    assert arch.ccms_stats()["last_body"]["with-data"] is False
    assert arch.job(ids[4722], "footprint IS NULL") == "t"
    assert arch.job(ids[4721], "concat_ws('|', job_state, duration, monitoring_status, archive_error)") == \
        "failed|0|2|stopped by jobscope: still running 3600 s after its walltime ended (main.stop-jobs-exceeding-walltime)"
    assert "stopped 1 running jobs that exceeded their walltime" in arch.a.text()
    st, body = arch.api("POST", "/api/jobs/stop_job/", {"jobId": 4720, "cluster": "pico", "stopTime": now})
    assert st == 200, body
    arch.wait_status(ids[4720], 3)
    st, body = arch.api("POST", "/api/jobs/stop_job/", {"jobId": 4722, "cluster": "pico", "stopTime": now})
    assert st == 200, body
    arch.wait_status(ids[4722], 3)


# --- (d) Prometheus with a real node exporter -------------------------------------------

def which(prog):
    for d in os.environ.get("PATH", "").split(":") + ["/usr/bin", "/usr/sbin"]:
        if os.access(os.path.join(d, prog), os.X_OK):
            return os.path.join(d, prog)
    return None


def test_prometheus_node_exporter(arch):
    prom, ne = which("prometheus"), which("prometheus-node-exporter")
    if not prom or not ne:
        pytest.fail("apt-get install prometheus prometheus-node-exporter (./test.sh installs them)")
    import urllib.parse
    import urllib.request
    t_start = time.monotonic()
    ne_port = free_port()
    nes = Service("node-exporter", [ne, "--web.listen-address=127.0.0.1:%d" % ne_port,
                                    "--collector.disable-defaults", "--collector.loadavg", "--collector.meminfo",
                                    "--collector.netdev", "--collector.cpu", "--collector.diskstats"], arch.T)
    arch.services.append(nes)
    pdir = os.path.join(arch.T, "prometheus")
    os.makedirs(os.path.join(pdir, "data"))
    with open(os.path.join(pdir, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n  - job_name: node\n    static_configs:\n"
                "      - targets: ['127.0.0.1:%d']\n        labels:\n          instance: '%s'\n" % (ne_port, HOST))
    ps = Service("prometheus", [prom, "--config.file=" + os.path.join(pdir, "prometheus.yml"),
                                "--storage.tsdb.path=" + os.path.join(pdir, "data"),
                                "--web.listen-address=127.0.0.1:%d" % arch.prom_port], pdir)
    arch.services.append(ps)
    purl = "http://127.0.0.1:%d" % arch.prom_port

    def has_samples():
        assert ps.p.poll() is None, ps.text()[-3000:]
        try:
            q = urllib.parse.urlencode({"query": 'node_load1{instance="%s"}' % HOST})
            d = json.load(urllib.request.urlopen(purl + "/api/v1/query?" + q, timeout=2))
            return d["data"]["result"]
        except OSError:
            return False
    wait_for(has_samples, 30, 0.2, what="Prometheus to have node exporter samples\n" + ps.text()[-2000:])
    t_ready = time.monotonic() - t_start
    start = int(time.time())
    time.sleep(4)
    dbid = arch.run_job("local", 4716, start, start + 4, [{"hostname": HOST}])
    t_stop = time.monotonic()
    arch.wait_status(dbid, 3)
    t_archived = time.monotonic() - t_stop
    d = arch.job_dir("local", 4716, start)
    names = os.listdir(d)
    raw = open(os.path.join(d, "data.json.gz" if "data.json.gz" in names else "data.json"), "rb").read()
    data = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    load = data["cpu_load"]["node"]["series"]
    mem = data["mem_used"]["node"]["series"]
    assert [s["hostname"] for s in load] == [HOST] and data["cpu_load"]["node"]["timestep"] == 1
    vals = [v for v in load[0]["data"] if v is not None]
    assert len(vals) >= 3 and all(v >= 0 for v in vals), load
    mvals = [v for v in mem[0]["data"] if v is not None]
    # bytes scaled to the unit's prefix (GB): plausible memory sizes
    assert len(mvals) >= 3 and all(0 < v < 100000 for v in mvals), mem
    assert "flops_any" not in data  # no PromQL for it: left out, not an error
    st = json.loads(arch.job(dbid, "statistics::text"))
    assert st["mem_used"]["unit"] == {"base": "B", "prefix": "G"} and st["mem_used"]["max"] > 0
    assert json.loads(arch.job(dbid, "footprint::text"))["mem_used_max"] > 0
    print("Prometheus: samples after %.1f s, archived %.2f s after the stop, %.1f s in all" %
          (t_ready, t_archived, time.monotonic() - t_start))
    assert ps.stop() == 0
    assert nes.stop() in (0, -signal.SIGTERM)  # node exporter ends by the signal
    arch.services.remove(ps)
    arch.services.remove(nes)


def test_running_job_view_shows_live_metrics(arch):
    """The job view of a running job draws its metrics from the metric repository."""
    import base64
    import hashlib
    from jshelpers import fcgi_request

    start = int(time.time()) - 600
    arch.start_job("pico", 4799, start, pico_resources(), num_acc=2, hwthreads=8)
    dbid = int(arch.sql("SELECT id FROM job WHERE job_id = 4799 AND cluster = 'pico'"))
    arch.sql("UPDATE hpc_user SET roles = '{admin,api}' WHERE username = 'archapi'")
    sid = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    arch.sql("INSERT INTO session (id_hash, username, expires) VALUES ('\\x%s', 'archapi', now() + interval '1 hour')"
             % hashlib.sha256(sid.encode()).hexdigest())
    before = arch.ccms_stats()["requests"]
    r = fcgi_request(os.path.join(arch.root, "a.sock"), "GET", "/monitoring/job/%d" % dbid,
                     headers={"Cookie": "session=" + sid})
    body = r.body.decode()
    assert r.status == 200, body[:2000]
    assert arch.ccms_stats()["requests"] > before  # asked the store
    assert "cpu_load" in body and body.count("<svg") >= 4, body[:2000]
    assert "cannot be shown" not in body
    # a second view within a minute is served from the worker's cache
    n = arch.ccms_stats()["requests"]
    r = fcgi_request(os.path.join(arch.root, "a.sock"), "GET", "/monitoring/job/%d" % dbid,
                     headers={"Cookie": "session=" + sid})
    assert r.status == 200 and arch.ccms_stats()["requests"] == n
    arch.api("POST", "/api/jobs/stop_job/", {"jobId": 4799, "cluster": "pico", "startTime": start,
                                             "stopTime": start + 600, "jobState": "completed"})
