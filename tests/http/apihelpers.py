"""Helpers of the REST API tests (test_api*.py): JWTs minted independently of
jobscope with python3-jwt + python3-cryptography from the key pair the harness
wrote into .env, an API client, archived jobs imported through the CLI, and a
second `jobscope -server` with its own config (IP allow-list, extra clusters),
spoken to over FastCGI directly so that the client address can be chosen."""

import base64
import hashlib
import hmac
import json
import math
import os
import shutil
import subprocess
import tempfile
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import JOBSCOPE, remove_pid, run_jobscope, write_pid
from jshelpers import children_of, fcgi_request, wait_for

JOB_ID_BASE = 770000  # every job these tests create has a jobId in [770000, 780000)
TAG_PREFIX = "apitest"
REF_DIR = os.environ.get("CCBACKEND_REF_DIR", "")


def env_value(path, name):
    with open(path) as f:
        for line in f:
            if line.startswith(name + "="):
                return line.split("=", 1)[1].strip().strip('"')
    raise AssertionError("%s has no %s" % (path, name))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Tokens:
    """JWTs for the site's key pair (JWT_PRIVATE_KEY = seed || public key, standard base64)."""

    def __init__(self, envfile):
        raw = base64.b64decode(env_value(envfile, "JWT_PRIVATE_KEY"))
        assert len(raw) == 64, "JWT_PRIVATE_KEY is %d bytes" % len(raw)
        self.key = Ed25519PrivateKey.from_private_bytes(raw[:32])
        self.public_raw = base64.b64decode(env_value(envfile, "JWT_PUBLIC_KEY"))
        pub = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        assert pub == self.public_raw, "the .env key pair does not match"

    def mint(self, sub, roles, exp_in=3600, key=None, **extra):
        claims = {"roles": roles, "iat": int(time.time())}
        if sub is not None:
            claims["sub"] = sub
        if exp_in is not None:
            claims["exp"] = int(time.time()) + exp_in
        claims.update(extra)
        return jwt.encode(claims, key or self.key, algorithm="EdDSA")

    @staticmethod
    def unsigned(sub, roles):
        """alg none"""
        head = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        body = b64url(json.dumps({"sub": sub, "roles": roles, "exp": int(time.time()) + 3600}).encode())
        return head + "." + body + "."

    def hs256_with_public_key(self, sub, roles):
        """the classic key-confusion attack: HMAC with the public key as the secret"""
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = b64url(json.dumps({"sub": sub, "roles": roles, "exp": int(time.time()) + 3600}).encode())
        msg = (head + "." + body).encode()
        sig = hmac.new(base64.b64encode(self.public_raw), msg, hashlib.sha256).digest()
        return head + "." + body + "." + b64url(sig)


    def tampered(self, sub, roles, changes):
        """a valid token whose payload was changed afterwards (the signature no longer fits)"""
        head, body, sig = self.mint(sub, roles).split(".")
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        claims.update(changes)
        return head + "." + b64url(json.dumps(claims).encode()) + "." + sig


class Api:
    """Requests to the site with a token."""

    def __init__(self, js, token):
        self.js, self.token = js, token

    def __call__(self, method, path, body=None, raw=None, headers=None, token=None, **kw):
        h = {"X-Auth-Token": token or self.token}
        if body is not None:
            raw = json.dumps(body)
        if raw is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        return self.js.request(method, path, headers=h, data=raw, **kw)


def err_of(r):
    """(status, error text) of an error JSON answer; asserts the shape"""
    assert r.headers.get("Content-Type") == "application/json", (r.status_code, r.headers, r.text)
    assert r.text.endswith("\n"), repr(r.text)
    d = r.json()
    assert set(d) == {"status", "error"}, d
    return d["status"], d["error"]


def heron_payload(job_id, start, hosts=("h0001",), user="apiuser", project="apitest", **kw):
    p = {"jobId": job_id, "cluster": "heron", "user": user, "project": project, "startTime": start,
         "numNodes": len(hosts), "resources": [{"hostname": h} for h in hosts]}
    p.update(kw)
    return p


def archived_job(job_id, start, hosts=("h0001",), duration=3600, user="apiuser", project="apitest-arch",
                 tags=()):
    """meta.json and data.json of a finished heron job (node-scope metrics, cpu_load also per core)"""
    meta = {
        "jobId": job_id, "user": user, "project": project, "cluster": "heron", "subCluster": "",
        "numNodes": len(hosts), "numHwthreads": 72 * len(hosts), "shared": "none", "jobState": "completed",
        "duration": duration, "walltime": 86400, "startTime": start, "submitTime": start - 60,
        "resources": [{"hostname": h} for h in hosts], "metaData": {"jobName": "archived"}, "tags": list(tags),
    }
    steps = duration // 60 + 1
    data = {}
    for metric, unit, prefix, base in (("cpu_load", "", "", 60.0), ("flops_any", "F/s", "G", 900.0),
                                       ("mem_bw", "B/s", "G", 120.0), ("mem_used", "B", "G", 80.0)):
        series = []
        for k, h in enumerate(hosts):
            vals = [round(base * (0.5 + 0.4 * math.sin(t / 7.0 + k)), 2) for t in range(steps)]
            series.append({"hostname": h, "statistics": {"min": min(vals), "avg": round(sum(vals) / len(vals), 2),
                                                         "max": max(vals)}, "data": vals})
        u = {"base": unit}
        if prefix:
            u["prefix"] = prefix
        data[metric] = {"node": {"unit": u, "timestep": 60, "series": series}}
    # cpu_load at core scope too: the REST loader keeps "core" for one-node jobs
    data["cpu_load"]["core"] = {"unit": {"base": ""}, "timestep": 60, "series": [
        {"hostname": hosts[0], "id": str(c), "statistics": {"min": 1, "avg": 1, "max": 1}, "data": [1.0] * steps}
        for c in range(2)]}
    return meta, data


def import_jobs(js, jobs):
    """Import [(meta, data)] with `jobscope -import-job`; {jobId: database id}"""
    d = tempfile.mkdtemp(prefix="apiimport-", dir=js.T)
    pairs = []
    for meta, data in jobs:
        mp, dp = os.path.join(d, "meta%d.json" % meta["jobId"]), os.path.join(d, "data%d.json" % meta["jobId"])
        with open(mp, "w") as f:
            json.dump(meta, f)
        with open(dp, "w") as f:
            json.dump(data, f)
        pairs.append(mp + ":" + dp)
    p = run_jobscope(["-config", js.config, "-import-job", ",".join(pairs)], cwd=js.T)
    assert p.returncode == 0, p.stdout + p.stderr
    return {m["jobId"]: int(js.sql("SELECT id FROM job WHERE cluster = 'heron' AND job_id = %d" % m["jobId"]))
            for m, _ in jobs}


def archive_dir(js, cluster, job_id, start):
    return os.path.join(js.var, "job-archive", cluster, str(job_id // 1000), "%03d" % (job_id % 1000), str(start))


class Second:
    """Another `jobscope -server` on the site's database with extra main keys, extra
    auth.jwts keys and extra clusters, reached over FastCGI (no nginx: the test sets X-Real-Ip)."""

    def __init__(self, js, main_extra, clusters=None, jwts=None):
        # beside the site (T/..): run.sh stops what it finds in extra-*/site/jobscope.pid
        self.root = os.path.join(tempfile.mkdtemp(prefix="extra-", dir=os.path.dirname(js.T)), "site")
        os.makedirs(self.root)
        self.sock = os.path.join(self.root, "second.sock")
        shutil.copy(os.path.join(js.T, ".env"), os.path.join(self.root, ".env"))
        shutil.copytree(os.path.join(js.var, "job-archive"), os.path.join(self.root, "var", "job-archive"))
        for name, path in (clusters or {}).items():
            os.makedirs(os.path.join(self.root, "var", "job-archive", name))
            shutil.copy(path, os.path.join(self.root, "var", "job-archive", name, "cluster.json"))
        d = js.config_dict()
        d["main"].update({"fcgi-socket": self.sock, "workers": 1})
        d["main"].update(main_extra)
        d["auth"]["jwts"].update(jwts or {})
        with open(os.path.join(self.root, "config.json"), "w") as f:
            json.dump(d, f)
        self.logpath = os.path.join(self.root, "jobscope.log")
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        with open(self.logpath, "ab") as log:
            self.proc = subprocess.Popen([JOBSCOPE, "-server", "-config", os.path.join(self.root, "config.json")],
                                         cwd=self.root, stdout=log, stderr=subprocess.STDOUT, env=env)
        write_pid(self.root, self.proc.pid)
        wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None, 20, what="the second socket")
        assert self.proc.poll() is None, "the second jobscope exited: " + self.log()
        wait_for(lambda: "jobscope-worker" in children_of(self.proc.pid).values(), 10, what="its worker")

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def request(self, method, uri, token, ip, body=None):
        headers = {"X-Auth-Token": token, "X-Real-Ip": ip}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return fcgi_request(self.sock, method, uri, headers=headers,
                            body=json.dumps(body) if body is not None else b"")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        remove_pid(self.root)
