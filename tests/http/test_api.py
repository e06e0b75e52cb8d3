"""The REST API (COMPAT a.1-a.5, f): every /api, /userapi and metric-store
endpoint jobscope serves, with cc-backend's bodies, status codes and messages,
through the real nginx.  Tokens are minted here with python3-jwt from the
harness's .env key pair (and one with `jobscope -jwt`).  State changes are
checked in the database.  Everything created here has a jobId in
[770000, 780000), tags of type apitest*, users apitest*, and is removed at the
end of the module (other suites count the harness's jobs)."""

import itertools
import json
import os
import re
import shutil
import threading
import time

import pytest

from apihelpers import (JOB_ID_BASE, REF_DIR, Api, Second, Tokens, archive_dir, archived_job, err_of,
                        heron_payload, import_jobs)
from conftest import run_jobscope
from jshelpers import FcgiConn, fcgi_params, fcgi_request, show

NOW = int(time.time())
_ids = itertools.count(JOB_ID_BASE + 1)
NODES = ["h0901", "h0902", "h0903", "h0904", "h0905", "h1001", "x9999", "l001"]


def new_id():
    return next(_ids)


@pytest.fixture(scope="module")
def tok(js):
    return Tokens(os.path.join(js.T, ".env"))


@pytest.fixture(scope="module")
def api(js, tok):
    """an api-only token (cc-slurm-adapter, scripts)"""
    return Api(js, tok.mint("apibot", ["api"]))


@pytest.fixture(scope="module")
def admin(js, tok):
    return Api(js, tok.mint("admin", ["admin", "api"]))


@pytest.fixture(scope="module", autouse=True)
def cleanup(js):
    yield
    js.sql("DELETE FROM job WHERE job_id >= %d AND job_id < %d" % (JOB_ID_BASE, JOB_ID_BASE + 10000))
    js.sql("DELETE FROM job WHERE cluster = 'fritz' AND job_id = 123000")
    js.sql("DELETE FROM tag WHERE tag_type LIKE 'apitest%'")
    js.sql("DELETE FROM node WHERE hostname IN (%s)" % ", ".join("'%s'" % h for h in NODES))
    js.sql("DELETE FROM hpc_user WHERE username LIKE 'apitest%'")
    for l1 in range(JOB_ID_BASE // 1000, JOB_ID_BASE // 1000 + 10):
        shutil.rmtree(os.path.join(js.var, "job-archive", "heron", str(l1)), ignore_errors=True)


def start(api, payload, status=201):
    r = api("POST", "/api/jobs/start_job/", payload)
    assert r.status_code == status, show(r)
    return r


def db_id(js, job_id, cluster="heron"):
    return int(js.sql("SELECT id FROM job WHERE cluster = '%s' AND job_id = %d ORDER BY id DESC LIMIT 1"
                      % (cluster, job_id)))


# ------------------------------------------------------------------ start_job


def test_start_job_minimal(js, api):
    jid = new_id()
    r = start(api, heron_payload(jid, NOW - 600, hosts=("h0001", "h0002"), numHwthreads=144))
    assert r.headers["Content-Type"] == "application/json"
    assert r.text == '{"msg":"success"}\n'
    # at once in the job table (no job_cache), with what the server decides
    row = js.sql("SELECT concat_ws('|', subcluster, job_state, shared, monitoring_status, num_nodes, duration, "
                 "resources::text) FROM job WHERE job_id = %d" % jid)
    assert row == 'main|running|none|1|2|0|[{"hostname": "h0001"}, {"hostname": "h0002"}]', row


def test_start_job_put_and_subcluster_by_host(js, api):
    jid = new_id()
    r = api("PUT", "/api/jobs/start_job/", heron_payload(jid, NOW - 600, hosts=("h1001",)))
    assert r.status_code == 201, show(r)
    assert js.sql("SELECT subcluster FROM job WHERE job_id = %d" % jid) == "bigmem"


def test_start_job_with_tags(js, api):
    jid = new_id()
    start(api, heron_payload(jid, NOW - 600, tags=[{"type": "apitest-app", "name": "vasp"},
                                                   {"type": "apitest-class", "name": "hot", "scope": "admin"}]))
    rows = js.sql("SELECT string_agg(t.tag_type || ':' || t.tag_name || ':' || t.tag_scope, ',' ORDER BY t.tag_type) "
                  "FROM jobtag jt JOIN tag t ON t.id = jt.tag_id JOIN job j ON j.id = jt.job_id WHERE j.job_id = %d" % jid)
    assert rows == "apitest-app:vasp:global,apitest-class:hot:admin", rows


def test_start_job_tag_scope_not_writable_leaves_no_job(js, api):
    jid = new_id()
    r = start(api, heron_payload(jid, NOW, tags=[{"type": "apitest-app", "name": "x", "scope": "alice"}]), 500)
    status, msg = err_of(r)
    assert status == "Internal Server Error"
    assert msg.startswith("adding tag to new job ") and msg.endswith(
        " failed: cannot write tag scope with current authorization"), msg
    # better than upstream: one transaction, so no half-created job stays behind
    assert js.sql("SELECT count(*) FROM job WHERE job_id = %d" % jid) == "0"


def test_start_job_reference_payload_shape_of_cc_slurm_adapter(js, api):
    """exactly what cc-slurm-adapter serialises: the whole Go struct, zero values included"""
    jid = new_id()
    p = {"cluster": "heron", "subCluster": "", "partition": "work", "project": "apitest", "user": "apiuser",
         "shared": "single_user", "jobState": "", "resources": [{"hostname": "h0003", "hwthreads": [0, 1, 2]}],
         "energyFootprint": None, "footprint": None, "metaData": {"jobName": "slurm", "jobScript": "#!/bin/sh\n"},
         "concurrentJobs": {"items": None, "count": 0}, "energy": 0, "arrayJobId": 0, "walltime": 3600,
         "jobId": jid, "duration": 0, "smt": 1, "numAcc": 0, "numHwthreads": 3, "numNodes": 1,
         "statistics": None, "submitTime": NOW - 700, "startTime": NOW - 600}
    start(api, p)
    row = js.sql("SELECT concat_ws('|', job_state, shared, cluster_partition, walltime, meta_data->>'jobName', "
                 "statistics IS NULL, submit_time) FROM job WHERE job_id = %d" % jid)
    assert row == "running|single_user|work|3600|slurm|t|%d" % (NOW - 700), row


def test_start_job_case_insensitive_keys_and_legacy_exclusive(js, api):
    for excl, shared in ((0, "multi_user"), (1, "none"), (2, "single_user")):
        jid = new_id()
        p = {"JOBID": jid, "Cluster": "heron", "USER": "apiuser", "project": "apitest", "StartTime": NOW - 500,
             "numnodes": 1, "Resources": [{"HostName": "h0004"}], "exclusive": excl}
        start(api, p)
        assert js.sql("SELECT shared FROM job WHERE job_id = %d" % jid) == shared


@pytest.mark.parametrize("payload, message", [
    ({"foo": 1}, 'parsing request body failed: json: unknown field "foo"'),
    ({"numNodes": "2"}, "parsing request body failed: numNodes: expected an integer, got a string"),
    ({"resources": [{"hostname": "h0001", "gpu": 1}]}, 'parsing request body failed: json: unknown field "gpu"'),
    ({"shared": "maybe"}, 'parsing request body failed: shared: expected none, single_user or multi_user, got "maybe"'),
    ({"cluster": "nosuch"}, "no such cluster: nosuch"),
    ({"resources": [{"hostname": "x9999"}]}, "ARCHIVE/CLUSTERCONFIG > no subcluster found for cluster heron and host x9999"),
    ({"resources": [], "numNodes": 0}, "ARCHIVE/CLUSTERCONFIG > job without any resources/hosts"),
    ({"subCluster": "gpu"}, "ARCHIVE/CLUSTERCONFIG > already assigned subcluster gpu unkown (cluster: heron)"),
    ({"subCluster": "main", "resources": []}, "'resources' and 'user' should not be empty"),
    ({"user": ""}, "'resources' and 'user' should not be empty"),
    ({"numNodes": 0}, "'numNodes', 'numAcc' or 'numHWThreads' invalid"),
    ({"numAcc": -1}, "'numNodes', 'numAcc' or 'numHWThreads' invalid"),
    ({"numHwthreads": -4}, "'numNodes', 'numAcc' or 'numHWThreads' invalid"),
    ({"numNodes": 2}, "len(resources) does not equal numNodes (1 vs 2)"),
    ({"monitoringStatus": 7}, "monitoringStatus: expected 0, 1, 2 or 3, got 7"),
    ({"numNodes": 1, "resources": [{"hostname": "h0001"}, {"hostname": "h0002"}]},
     "len(resources) does not equal numNodes (2 vs 1)"),
])
def test_start_job_bad_requests(js, api, payload, message):
    jid = new_id()
    p = heron_payload(jid, NOW)
    p.update(payload)
    r = start(api, p, 400)
    assert err_of(r) == ("Bad Request", message)
    assert js.sql("SELECT count(*) FROM job WHERE job_id = %d" % jid) == "0"


@pytest.mark.parametrize("raw, message", [
    ("", "parsing request body failed: EOF"),
    ("{", "parsing request body failed: line 1, column 2: unexpected end of input"),
    ("[1]", "parsing request body failed: expected a JSON object, got an array"),
    ('{"jobId": 1} x', None),
    ('{"a":' * 40 + "1" + "}" * 40, None),
    (b'{"user": "\xff"}', None),
])
def test_start_job_malformed_json(api, raw, message):
    r = api("POST", "/api/jobs/start_job/", raw=raw)
    assert r.status_code == 400, show(r)
    status, msg = err_of(r)
    assert msg.startswith("parsing request body failed: "), msg
    if message:
        assert msg == message


def test_start_job_duplicates_24h_one_sided(js, api):
    jid = new_id()
    t0 = NOW - 3 * 86400
    start(api, heron_payload(jid, t0))
    first = db_id(js, jid)
    # within 24 h after: a duplicate
    r = start(api, heron_payload(jid, t0 + 86399), 422)
    assert err_of(r) == ("Unprocessable Entity",
                         "a job with that jobId, cluster and startTime already exists: dbid: %d, jobid: %d" % (first, jid))
    # the very same start (UNIQUE key territory) is a 422 too, not upstream's 500
    r = start(api, heron_payload(jid, t0), 422)
    assert err_of(r)[1].endswith("dbid: %d, jobid: %d" % (first, jid))
    # upstream's one-sided rule: an existing job that starts LATER also counts, however much later
    r = start(api, heron_payload(jid, t0 - 10 * 86400), 422)
    assert "dbid: %d" % first in err_of(r)[1]
    # 24 h or more after: a new job (jobIds are reused by schedulers)
    start(api, heron_payload(jid, t0 + 86400))
    # another cluster does not collide
    start(api, dict(heron_payload(jid, t0), cluster="lynx", resources=[{"hostname": "l001"}]))
    assert js.sql("SELECT count(*) FROM job WHERE job_id = %d" % jid) == "3"


def start_at_once(api, bodies):
    """POST each body to start_job from its own thread, all released together;
    [(status, text)] in the order they answered"""
    results = []
    barrier = threading.Barrier(len(bodies))

    def one(body):
        barrier.wait()
        r = api("POST", "/api/jobs/start_job/", raw=body)
        results.append((r.status_code, r.text))

    threads = [threading.Thread(target=one, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_start_job_concurrent_identical_starts(js, api):
    jid = new_id()
    p = json.dumps(heron_payload(jid, NOW - 100, hosts=("h0005",)))
    results = start_at_once(api, [p] * 16)
    codes = sorted(c for c, _ in results)
    assert codes == [201] + [422] * 15, results
    assert js.sql("SELECT count(*) FROM job WHERE job_id = %d" % jid) == "1"
    dbid = db_id(js, jid)
    for c, text in results:
        if c == 422:
            assert json.loads(text)["error"] == ("a job with that jobId, cluster and startTime already exists: "
                                                 "dbid: %d, jobid: %d" % (dbid, jid)), text


def test_start_job_concurrent_starts_within_24h(js, api):
    """the same jobId started at once with 16 different startTimes, all within 24 h of each
    other: the UNIQUE key cannot tell, only the lock and the duplicate check after it can"""
    jid = new_id()
    t0 = NOW - 2 * 86400
    results = start_at_once(api, [json.dumps(heron_payload(jid, t0 + 60 * k, hosts=("h0006",)))
                                  for k in range(16)])
    codes = sorted(c for c, _ in results)
    assert codes == [201] + [422] * 15, results
    assert js.sql("SELECT count(*) FROM job WHERE job_id = %d" % jid) == "1"
    dbid = db_id(js, jid)
    for c, text in results:
        if c == 422:
            assert json.loads(text)["error"].endswith("dbid: %d, jobid: %d" % (dbid, jid)), text


def test_start_job_reference_payload(js, api, second):
    """cc-backend's configs/startJobPayload.json and stopJobPayload.json, unchanged (cluster fritz)"""
    if second.fritz is None:
        msg = "reference payload test skipped: CCBACKEND_REF_DIR (%r) has no cc-backend/configs" % REF_DIR
        print(msg)
        pytest.skip(msg)
    with open(os.path.join(REF_DIR, "cc-backend", "configs", "startJobPayload.json")) as f:
        payload = json.load(f)
    r = second.request("POST", "/api/jobs/start_job/", second.token, "10.1.2.3", payload)
    assert r.status == 201, r
    assert json.loads(r.text) == {"msg": "success"}
    row = js.sql("SELECT concat_ws('|', subcluster, num_hwthreads, requested_memory, walltime, meta_data->>'jobName') "
                 "FROM job WHERE cluster = 'fritz' AND job_id = 123000")
    assert row == "main|72|128000|86400|ams_pipeline", row
    with open(os.path.join(REF_DIR, "cc-backend", "configs", "stopJobPayload.json")) as f:
        stop = json.load(f)
    r = api("POST", "/api/jobs/stop_job/", stop)
    assert r.status_code == 200, show(r)
    j = r.json()
    assert (j["jobState"], j["duration"], j["cluster"], j["jobId"]) == ("completed", 1649763839 - 1649723812, "fritz", 123000)


# ------------------------------------------------------------------- stop_job


def queued_or_taken(js, dbid):
    """the stop queued the job: the row is in archive_queue, or the task runner took it already"""
    return js.sql("SELECT (EXISTS (SELECT 1 FROM archive_queue WHERE job_id = %d) OR "
                  "(SELECT monitoring_status <> 1 FROM job WHERE id = %d))" % (dbid, dbid)) == "t"


def test_stop_job(js, api):
    jid = new_id()
    t0 = NOW - 1000
    start(api, heron_payload(jid, t0, hosts=("h0001",), metaData={"jobName": "x"}))
    dbid = db_id(js, jid)
    # a running job reports duration = now - startTime
    r = api("GET", "/api/jobs/%d?all-metrics=true" % dbid)
    assert r.json()["Meta"]["duration"] >= 1000
    assert r.json()["Data"] is None  # running, and no metric store: no data (upstream: an empty 200)
    # no startTime and no cluster: the newest job of that jobId
    r = api("POST", "/api/jobs/stop_job/", {"jobId": jid, "stopTime": t0 + 600, "jobState": "failed"})
    assert r.status_code == 200, show(r)
    assert r.headers["Content-Type"] == "application/json" and r.text.endswith("}\n")
    j = r.json()
    assert (j["id"], j["jobId"], j["jobState"], j["duration"], j["startTime"], j["monitoringStatus"]) == \
        (dbid, jid, "failed", 600, t0, 1), j
    assert j["concurrentJobs"] == {"items": None, "count": 0} and j["statistics"] is None
    assert js.sql("SELECT job_state || '|' || duration FROM job WHERE id = %d" % dbid) == "failed|600"
    assert queued_or_taken(js, dbid)
    # a second stop: 422 with upstream's words
    r = api("POST", "/api/jobs/stop_job/", {"jobId": jid, "cluster": "heron", "startTime": t0, "stopTime": t0 + 700})
    assert err_of(r) == ("Unprocessable Entity",
                         "jobId %d (id %d) on heron : job has already been stopped (state is: failed)" % (jid, dbid))
    assert r.status_code == 422


def test_stop_job_default_state_and_monitoring_disabled(js, api):
    jid = new_id()
    start(api, heron_payload(jid, NOW - 100, monitoringStatus=0))
    dbid = db_id(js, jid)
    r = api("PUT", "/api/jobs/stop_job/", {"jobId": jid, "cluster": "heron", "startTime": NOW - 100, "stopTime": NOW})
    assert r.status_code == 200, show(r)
    assert r.json()["jobState"] == "completed" and "monitoringStatus" not in r.json()
    # monitoring disabled: nothing to archive, nothing queued
    assert js.sql("SELECT count(*) FROM archive_queue WHERE job_id = %d" % dbid) == "0"
    assert js.sql("SELECT job_state FROM job WHERE id = %d" % dbid) == "completed"


def test_stop_job_errors(js, api):
    jid = new_id()
    start(api, heron_payload(jid, NOW - 100))
    dbid = db_id(js, jid)
    r = api("POST", "/api/jobs/stop_job/", {"jobId": jid, "stopTime": NOW - 200})
    assert r.status_code == 400
    assert err_of(r) == ("Bad Request", "jobId %d (id %d) on heron : stopTime %d must be larger/equal than startTime %d"
                         % (jid, dbid, NOW - 200, NOW - 100))
    r = api("POST", "/api/jobs/stop_job/", {"jobId": jid, "stopTime": NOW, "jobState": "exploded"})
    assert r.status_code == 400
    assert err_of(r)[1] == 'jobId %d (id %d) on heron : invalid requested job state: "exploded"' % (jid, dbid)
    r = api("POST", "/api/jobs/stop_job/", {"jobId": jid + 5000, "stopTime": NOW})
    assert r.status_code == 404
    assert err_of(r) == ("Not Found", "finding job failed: sql: no rows in result set")
    r = api("POST", "/api/jobs/stop_job/", {"jobId": jid, "cluster": "lynx", "stopTime": NOW})
    assert r.status_code == 404
    r = api("POST", "/api/jobs/stop_job/", {"cluster": "heron", "stopTime": NOW})
    assert r.status_code == 400 and err_of(r)[1] == "the field 'jobId' is required"
    r = api("POST", "/api/jobs/stop_job/", {"jobId": jid, "stopTime": NOW, "exitCode": 0})
    assert r.status_code == 400 and err_of(r)[1] == 'parsing request body failed: json: unknown field "exitCode"'
    r = api("POST", "/api/jobs/stop_job/", {"jobId": str(jid), "stopTime": NOW})
    assert r.status_code == 400 and err_of(r)[1] == "parsing request body failed: jobId: expected an integer, got a string"
    # nothing of that changed the job
    assert js.sql("SELECT job_state FROM job WHERE id = %d" % dbid) == "running"


# ------------------------------------------------------------------ job lists


@pytest.fixture(scope="module")
def listed(js, api):
    """five jobs of project apitest-list: three running, two stopped, one with metadata"""
    jobs = []
    for k in range(5):
        jid = new_id()
        t = NOW - 10000 + k * 1000
        start(api, heron_payload(jid, t, project="apitest-list", hosts=("h%04d" % (10 + k),),
                                 metaData={"jobName": "list%d" % k}))
        jobs.append((jid, t))
    for jid, t in jobs[:2]:
        r = api("POST", "/api/jobs/stop_job/", {"jobId": jid, "stopTime": t + 60})
        assert r.status_code == 200, show(r)
    return jobs


def test_jobs_list(js, api, listed):
    r = api("GET", "/api/jobs/?project=apitest-list")
    assert r.status_code == 200, show(r)
    d = r.json()
    assert list(d) == ["jobs", "items", "page"] and d["items"] == 25 and d["page"] == 1
    assert [j["jobId"] for j in d["jobs"]] == [jid for jid, _ in reversed(listed)]  # start_time DESC
    assert all(j["metaData"] is None for j in d["jobs"])  # without with-metadata
    # the adapter's poll: with-metadata is a presence flag, "false" loads it too
    r = api("GET", "/api/jobs/?state=running&items-per-page=9999999&page=1&with-metadata=false&project=apitest-list")
    d = r.json()
    assert d["items"] == 9999999
    assert [j["jobId"] for j in d["jobs"]] == [jid for jid, _ in reversed(listed[2:])]
    assert [j["metaData"] for j in d["jobs"]] == [{"jobName": "list%d" % k} for k in (4, 3, 2)]
    assert all(j["duration"] > 0 and j["jobState"] == "running" for j in d["jobs"])
    # state is repeatable; cluster; start-time a-b inclusive
    r = api("GET", "/api/jobs/?state=completed&state=running&cluster=heron&project=apitest-list&start-time=%d-%d"
            % (listed[1][1], listed[3][1]))
    assert [j["jobId"] for j in r.json()["jobs"]] == [listed[3][0], listed[2][0], listed[1][0]]
    r = api("GET", "/api/jobs/?cluster=lynx&project=apitest-list")
    assert r.json()["jobs"] == []
    # paging
    r = api("GET", "/api/jobs/?project=apitest-list&items-per-page=2&page=2")
    d = r.json()
    assert (d["items"], d["page"], [j["jobId"] for j in d["jobs"]]) == (2, 2, [listed[2][0], listed[1][0]])
    r = api("GET", "/api/jobs/?project=apitest-list&items-per-page=2&page=99")
    assert r.json()["jobs"] == []


@pytest.mark.parametrize("query, message", [
    ("foo=1", "invalid query parameter: foo"),
    ("startTime=1-2", "invalid query parameter: startTime"),
    ("state=exploded", "invalid query parameter value: state"),
    ("state=out-of-memory", "invalid query parameter value: state"),
    ("start-time=1-2-3", "invalid query parameter value: startTime"),
    ("start-time=17", "invalid query parameter value: startTime"),
    ("start-time=a-2", 'strconv.ParseInt: parsing "a": invalid syntax'),
    ("page=x", 'strconv.Atoi: parsing "x": invalid syntax'),
    ("page=0", "invalid query parameter value: page"),
    ("items-per-page=0", "invalid query parameter value: items-per-page"),
    ("items-per-page=1.5", 'strconv.Atoi: parsing "1.5": invalid syntax'),
])
def test_jobs_list_bad_parameters(api, query, message):
    r = api("GET", "/api/jobs/?" + query)
    assert r.status_code == 400, show(r)
    assert err_of(r) == ("Bad Request", message)


def test_jobs_list_statistics_only_when_archived(js, api, archived):
    r = api("GET", "/api/jobs/?project=apitest-arch")
    jobs = {j["id"]: j for j in r.json()["jobs"]}
    a = jobs[archived["id"]]
    assert a["monitoringStatus"] == 3 and a["jobState"] == "completed"
    assert set(a["statistics"]) >= {"cpu_load", "flops_any", "mem_bw", "mem_used"}, a["statistics"]
    assert a["statistics"]["cpu_load"]["unit"] == {"base": ""}


def test_used_nodes(js, api, listed):
    r = api("GET", "/api/jobs/used_nodes?ts=%d" % (NOW + 10))
    assert r.status_code == 200, show(r)
    used = r.json()["usedNodes"]
    hosts = used["heron"]
    assert hosts == sorted(set(hosts))
    assert {"h0012", "h0013", "h0014"} <= set(hosts) and not {"h0010", "h0011"} & set(hosts)
    # started after ts: not in use yet at ts
    r = api("GET", "/api/jobs/used_nodes?ts=%d" % listed[3][1])
    assert "h0013" not in r.json()["usedNodes"]["heron"] and "h0012" in r.json()["usedNodes"]["heron"]
    r = api("GET", "/api/jobs/used_nodes?ts=0")
    assert r.text == '{"usedNodes":{}}\n'
    r = api("GET", "/api/jobs/used_nodes")
    assert err_of(r) == ("Bad Request", "missing required query parameter: ts") and r.status_code == 400
    r = api("GET", "/api/jobs/used_nodes?ts=soon")
    assert r.status_code == 400
    assert err_of(r)[1] == 'invalid timestamp format: strconv.ParseInt: parsing "soon": invalid syntax'


# ------------------------------------------------------- single jobs and data


@pytest.fixture(scope="module")
def archived(js):
    """one finished job imported into the archive and the database (monitoringStatus 3)"""
    jid = new_id()
    t = NOW - 7200
    meta, data = archived_job(jid, t, tags=[{"type": "apitest-old", "name": "kept"}])
    ids = import_jobs(js, [(meta, data)])
    return {"jobId": jid, "start": t, "id": ids[jid], "dir": archive_dir(js, "heron", jid, t)}


def read_meta(archived):
    with open(os.path.join(archived["dir"], "meta.json")) as f:
        return json.load(f)


def test_get_job(js, api, archived):
    r = api("GET", "/api/jobs/%d" % archived["id"])
    assert r.status_code == 200, show(r)
    d = r.json()
    assert list(d) == ["Meta", "Data"] and d["Data"] is None
    m = d["Meta"]
    assert (m["id"], m["jobId"], m["metaData"], m["duration"]) == (archived["id"], archived["jobId"], {"jobName": "archived"}, 3600)
    assert [(t["type"], t["name"], t["scope"]) for t in m["tags"]] == [("apitest-old", "kept", "global")]
    # all metrics: core scope for a one-node job where a metric has it, else what there is
    r = api("GET", "/api/jobs/%d?all-metrics=true" % archived["id"])
    data = r.json()["Data"]
    assert sorted(data) == ["cpu_load", "flops_any", "mem_bw", "mem_used"]
    assert list(data["cpu_load"]) == ["core"] and list(data["mem_bw"]) == ["node"]
    s = data["mem_bw"]["node"]
    assert s["timestep"] == 60 and s["unit"] == {"base": "B/s", "prefix": "G"} and len(s["series"][0]["data"]) == 61


def test_get_job_errors(api):
    r = api("GET", "/api/jobs/abc")
    assert r.status_code == 400
    assert err_of(r)[1] == 'integer expected in path for id: strconv.ParseInt: parsing "abc": invalid syntax'
    r = api("GET", "/api/jobs/999999999")
    assert r.status_code == 422
    assert err_of(r) == ("Unprocessable Entity", "finding job with db id 999999999 failed: sql: no rows in result set")


def test_post_job_metrics(api, archived):
    r = api("POST", "/api/jobs/%d" % archived["id"], ["mem_used", "cpu_load", "nosuch"])
    assert r.status_code == 200, show(r)
    d = r.json()
    assert d["Meta"]["id"] == archived["id"]
    assert [(x["name"], x["scope"]) for x in d["Data"]] == [("cpu_load", "core"), ("mem_used", "node")]
    assert list(d["Data"][0]) == ["metric", "name", "scope"]
    assert d["Data"][1]["metric"]["series"][0]["hostname"] == "h0001"
    r = api("POST", "/api/jobs/%d" % archived["id"], raw="null")
    assert len(r.json()["Data"]) == 4
    r = api("POST", "/api/jobs/%d" % archived["id"], raw="")
    assert r.status_code == 400 and err_of(r)[1] == "decoding request failed: EOF"
    r = api("POST", "/api/jobs/%d" % archived["id"], {"metric": "x"})
    assert r.status_code == 400 and err_of(r)[1].startswith("decoding request failed: ")


def test_job_metrics_envelope(js, api, archived):
    r = api("GET", "/api/jobs/metrics/%d?metric=cpu_load&metric=mem_bw&scope=node" % archived["id"])
    assert r.status_code == 200, show(r)
    d = r.json()
    assert d["error"] is None
    assert [(m["name"], m["scope"]) for m in d["data"]["jobMetrics"]] == [("cpu_load", "node"), ("mem_bw", "node")]
    assert list(d["data"]["jobMetrics"][0]) == ["name", "scope", "metric"]
    r = api("GET", "/api/jobs/metrics/%d" % archived["id"])
    assert [(m["name"], m["scope"]) for m in r.json()["data"]["jobMetrics"]] == [
        ("cpu_load", "core"), ("cpu_load", "node"), ("flops_any", "node"), ("mem_bw", "node"), ("mem_used", "node")]
    r = api("GET", "/api/jobs/metrics/999999999")
    assert r.status_code == 200 and r.json() == {"data": None, "error": {"message": "sql: no rows in result set"}}
    jid = new_id()
    start(api, heron_payload(jid, NOW - 50))
    r = api("GET", "/api/jobs/metrics/%d" % db_id(js, jid))
    assert r.status_code == 200 and r.json()["data"] is None and "running" in r.json()["error"]["message"]
    r = api("GET", "/api/jobs/metrics/%d?scope=rack" % archived["id"])
    assert r.status_code == 400 and r.text == "rack is not a valid MetricScope\n"


# ------------------------------------------------------------------------ tags


def tags_of(js, dbid):
    return js.sql("SELECT coalesce(string_agg(t.tag_type || ':' || t.tag_name || ':' || t.tag_scope, ',' "
                  "ORDER BY t.tag_type, t.tag_name), '') FROM jobtag jt JOIN tag t ON t.id = jt.tag_id "
                  "WHERE jt.job_id = %d" % dbid)


def test_tag_job_running(js, api):
    jid = new_id()
    start(api, heron_payload(jid, NOW - 10))
    dbid = db_id(js, jid)
    r = api("POST", "/api/jobs/tag_job/%d" % dbid, [{"type": "apitest-t", "name": "a"},
                                                    {"type": "apitest-t", "name": "b", "scope": "admin"}])
    assert r.status_code == 200, show(r)
    j = r.json()
    assert [(t["type"], t["name"], t["scope"]) for t in j["tags"]] == [("apitest-t", "a", "global"), ("apitest-t", "b", "admin")]
    assert all(isinstance(t["id"], int) and t["id"] > 0 for t in j["tags"])
    r = api("PATCH", "/api/jobs/tag_job/%d" % dbid, [{"type": "apitest-t", "name": "c"}])
    assert r.status_code == 200
    # the api-only token reads global and its own tags, not admin ones (COMPAT f)
    assert [t["name"] for t in r.json()["tags"]] == ["a", "c"]
    assert tags_of(js, dbid) == "apitest-t:a:global,apitest-t:b:admin,apitest-t:c:global"
    # a tag the job has already: upstream's 500, and nothing changes (all-or-nothing)
    r = api("POST", "/api/jobs/tag_job/%d" % dbid, [{"type": "apitest-t", "name": "d"}, {"type": "apitest-t", "name": "a"}])
    assert r.status_code == 500
    assert err_of(r)[1] == "adding tag failed: the job already has the tag (name, type, scope): a, apitest-t, global"
    assert tags_of(js, dbid) == "apitest-t:a:global,apitest-t:b:admin,apitest-t:c:global"
    # scopes: someone else's private scope no; the token user's own yes
    r = api("POST", "/api/jobs/tag_job/%d" % dbid, [{"type": "apitest-t", "name": "p", "scope": "alice"}])
    assert r.status_code == 500
    assert err_of(r) == ("Internal Server Error", "adding tag failed: cannot write tag scope with current authorization")
    r = api("POST", "/api/jobs/tag_job/%d" % dbid, [{"type": "apitest-t", "name": "p", "scope": "apibot"}])
    assert r.status_code == 200 and r.json()["tags"][-1]["scope"] == "apibot"
    # removal: private tags are skipped, global and admin ones go
    r = api("DELETE", "/api/jobs/tag_job/%d" % dbid, [{"type": "apitest-t", "name": "p", "scope": "apibot"},
                                                      {"type": "apitest-t", "name": "a", "scope": "global"},
                                                      {"type": "apitest-t", "name": "b", "scope": "admin"}])
    assert r.status_code == 200, show(r)
    assert [t["name"] for t in r.json()["tags"]] == ["c", "p"]
    assert tags_of(js, dbid) == "apitest-t:c:global,apitest-t:p:apibot"
    r = api("DELETE", "/api/jobs/tag_job/%d" % dbid, [{"type": "apitest-t", "name": "zzz", "scope": "global"}])
    assert r.status_code == 500
    assert err_of(r)[1] == "removing tag failed: tag does not exist (name, type, scope): zzz, apitest-t, global"


def test_tag_job_errors(api):
    r = api("POST", "/api/jobs/tag_job/x1", [])
    assert r.status_code == 400 and err_of(r)[1] == 'parsing job ID failed: strconv.ParseInt: parsing "x1": invalid syntax'
    r = api("POST", "/api/jobs/tag_job/999999999", [])
    assert r.status_code == 404 and err_of(r) == ("Not Found", "finding job failed: sql: no rows in result set")
    r = api("DELETE", "/api/jobs/tag_job/999999999", [])
    assert r.status_code == 404


def test_tag_job_bad_body(js, api, listed):
    dbid = db_id(js, listed[4][0])
    for raw, part in (("{}", "body: expected an array of tags, got an object"),
                      ('[{"type": "apitest-t", "name": "a", "color": "red"}]', 'json: unknown field "color"'),
                      ('[{"type": 1, "name": "a"}]', "type: expected a string, got an integer"),
                      ('[{"type": "", "name": "a"}]', "type and name must not be empty"),
                      ("", "EOF")):
        r = api("POST", "/api/jobs/tag_job/%d" % dbid, raw=raw)
        assert r.status_code == 400, show(r)
        assert err_of(r)[1].startswith("decoding request failed: ") and part in err_of(r)[1], err_of(r)


def test_tag_finished_job_rewrites_meta_json(js, api, admin, archived):
    r = api("POST", "/api/jobs/tag_job/%d" % archived["id"], [{"type": "apitest-new", "name": "n1"}])
    assert r.status_code == 200, show(r)
    assert [(t["type"], t["name"]) for t in r.json()["tags"]] == [("apitest-old", "kept"), ("apitest-new", "n1")]
    meta = read_meta(archived)
    assert meta["tags"] == [{"type": "apitest-old", "name": "kept", "scope": "global"},
                            {"type": "apitest-new", "name": "n1", "scope": "global"}], meta["tags"]
    assert meta["jobId"] == archived["jobId"] and meta["statistics"]  # the rest is kept
    r = admin("DELETE", "/api/jobs/tag_job/%d" % archived["id"], [{"type": "apitest-new", "name": "n1", "scope": "global"}])
    assert r.status_code == 200, show(r)
    assert read_meta(archived)["tags"] == [{"type": "apitest-old", "name": "kept", "scope": "global"}]


def test_delete_tags(js, api, admin, archived):
    jid = new_id()
    start(api, heron_payload(jid, NOW - 10, tags=[{"type": "apitest-del", "name": "g"},
                                                  {"type": "apitest-del", "name": "a", "scope": "admin"}]))
    r = api("POST", "/api/jobs/tag_job/%d" % archived["id"], [{"type": "apitest-del", "name": "g"}])
    assert r.status_code == 200
    assert {"type": "apitest-del", "name": "g", "scope": "global"} in read_meta(archived)["tags"]
    r = admin("DELETE", "/api/tags/", [{"type": "apitest-del", "name": "g", "scope": "global"},
                                       {"type": "apitest-del", "name": "a", "scope": "admin"},
                                       {"type": "apitest-del", "name": "mine", "scope": "admin2"}])
    assert r.status_code == 200, show(r)
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.text == "Deleted Tags from DB: 2 successfull of 3 requested\n"
    assert js.sql("SELECT count(*) FROM tag WHERE tag_type = 'apitest-del'") == "0"
    assert {"type": "apitest-del", "name": "g", "scope": "global"} not in read_meta(archived)["tags"]
    r = api("DELETE", "/api/tags/", [{"type": "apitest-del", "name": "g", "scope": "global"}])
    assert r.status_code == 500
    assert err_of(r)[1] == "removing tag failed: tag does not exist (name, type, scope): g, apitest-del, global"
    r = api("DELETE", "/api/tags/", {"type": "x"})
    assert r.status_code == 400


# ------------------------------------------------------------------- edit_meta


def test_edit_meta(js, api, archived):
    r = api("PATCH", "/api/jobs/edit_meta/%d" % archived["id"], {"key": "message", "value": "check <this>"})
    assert r.status_code == 200, show(r)
    assert r.json()["metaData"] == {"jobName": "archived", "message": "check <this>"}
    assert js.sql("SELECT meta_data->>'message' FROM job WHERE id = %d" % archived["id"]) == "check <this>"
    assert read_meta(archived)["metaData"] == {"jobName": "archived", "message": "check <this>"}
    # by jobId / cluster / startTime
    r = api("PATCH", "/api/jobs/edit_meta/", {"jobId": archived["jobId"], "cluster": "heron", "startTime": archived["start"],
                                             "payload": {"key": "jobName", "value": "renamed"}})
    assert r.status_code == 200, show(r)
    assert r.json()["metaData"]["jobName"] == "renamed" and read_meta(archived)["metaData"]["jobName"] == "renamed"


def test_edit_meta_running_and_errors(js, api):
    jid = new_id()
    start(api, heron_payload(jid, NOW - 10))
    dbid = db_id(js, jid)
    r = api("PATCH", "/api/jobs/edit_meta/%d" % dbid, {"key": "jobScript", "value": "#!/bin/sh"})
    assert r.status_code == 200 and r.json()["metaData"] == {"jobScript": "#!/bin/sh"}
    r = api("PATCH", "/api/jobs/edit_meta/zz", {"key": "a", "value": "b"})
    assert r.status_code == 400 and err_of(r)[1].startswith("parsing job ID failed: ")
    r = api("PATCH", "/api/jobs/edit_meta/999999999", {"key": "a", "value": "b"})
    assert r.status_code == 404 and err_of(r)[1] == "finding job failed: sql: no rows in result set"
    r = api("PATCH", "/api/jobs/edit_meta/%d" % dbid, {"key": "a", "value": 1})
    assert r.status_code == 400 and err_of(r)[1] == "decoding request failed: value: expected a string, got an integer"
    r = api("PATCH", "/api/jobs/edit_meta/", {"cluster": "heron", "payload": {"key": "a", "value": "b"}})
    assert r.status_code == 400 and err_of(r)[1] == "the field 'jobId' is required"
    r = api("PATCH", "/api/jobs/edit_meta/", {"jobId": jid, "startTime": 1, "payload": {"key": "a", "value": "b"}})
    assert r.status_code == 422 and err_of(r) == ("Unprocessable Entity", "finding job failed: sql: no rows in result set")
    r = api("PATCH", "/api/jobs/edit_meta/", {"jobId": jid, "payload": {"key": "a", "value": "b", "x": 1}})
    assert r.status_code == 400 and err_of(r)[1] == 'parsing request body failed: json: unknown field "x"'


# ------------------------------------------------------------------ delete_job


def test_delete_job_by_id_and_body(js, api):
    a, b = new_id(), new_id()
    start(api, heron_payload(a, NOW - 10))
    start(api, heron_payload(b, NOW - 10))
    ida = db_id(js, a)
    r = api("DELETE", "/api/jobs/delete_job/%d" % ida)
    assert r.status_code == 200 and r.json() == {"msg": "Successfully deleted job %d" % ida}
    assert js.sql("SELECT count(*) FROM job WHERE id = %d" % ida) == "0"
    r = api("DELETE", "/api/jobs/delete_job/%d" % ida)  # gone already: still 200, as upstream
    assert r.status_code == 200
    r = api("DELETE", "/api/jobs/delete_job/nine")
    assert r.status_code == 400 and err_of(r)[1] == 'integer expected in path for id: strconv.ParseInt: parsing "nine": invalid syntax'
    idb = db_id(js, b)
    r = api("DELETE", "/api/jobs/delete_job/", {"jobId": b, "cluster": "heron", "startTime": NOW - 10})
    assert r.status_code == 200 and r.json() == {"msg": "Successfully deleted job %d" % idb}
    r = api("DELETE", "/api/jobs/delete_job/", {"jobId": b})
    assert r.status_code == 422 and err_of(r)[1] == "finding job failed: sql: no rows in result set"
    r = api("DELETE", "/api/jobs/delete_job/", {"cluster": "heron"})
    assert r.status_code == 400 and err_of(r)[1] == "the field 'jobId' is required"
    r = api("DELETE", "/api/jobs/delete_job/", {"jobId": b, "user": "x"})
    assert r.status_code == 400 and err_of(r)[1] == 'parsing request body failed: json: unknown field "user"'


def test_delete_job_before(js, api):
    # the harness's rows (start_time 0) would go too: keep them aside and put them back
    js.sql("DROP TABLE IF EXISTS apitest_keep_job, apitest_keep_jobtag")
    js.sql("CREATE TABLE apitest_keep_job AS SELECT * FROM job WHERE start_time < 1000000 AND "
           "NOT (job_id >= %d AND job_id < %d)" % (JOB_ID_BASE, JOB_ID_BASE + 10000))
    js.sql("CREATE TABLE apitest_keep_jobtag AS SELECT jt.* FROM jobtag jt JOIN apitest_keep_job k ON k.id = jt.job_id")
    try:
        base = 100000  # start times far in the past: only the rows made here are that old
        made = {}
        for name, tags in (("plain", []), ("app", [{"type": "app", "name": "apitest-vasp"}]),
                           ("user", [{"type": "apitest-user", "name": "x"}])):
            jid = new_id()
            start(api, heron_payload(jid, base, tags=tags))
            made[name] = jid
        cnt = lambda: int(js.sql("SELECT count(*) FROM job WHERE job_id IN (%s)" % ",".join(map(str, made.values()))))
        r = api("DELETE", "/api/jobs/delete_job_before/%d?omit-tagged=sometimes" % (base + 1))
        assert r.status_code == 400 and err_of(r)[1] == "omit-tagged must be one of: none, all, user"
        r = api("DELETE", "/api/jobs/delete_job_before/yesterday")
        assert r.status_code == 400 and err_of(r)[1].startswith("integer expected in path for ts: ")
        r = api("DELETE", "/api/jobs/delete_job_before/%d" % base)  # strictly before
        assert r.status_code == 200 and cnt() == 3
        r = api("DELETE", "/api/jobs/delete_job_before/%d?omit-tagged=all" % (base + 1))
        assert r.status_code == 200 and cnt() == 2
        assert r.json()["msg"].startswith("Successfully deleted ") and r.json()["msg"].endswith(" jobs")
        r = api("DELETE", "/api/jobs/delete_job_before/%d?omit-tagged=user" % (base + 1))
        assert r.status_code == 200 and cnt() == 1  # the app-tagged job went, the user-tagged one stays
        assert js.sql("SELECT count(*) FROM job WHERE job_id = %d" % made["user"]) == "1"
        r = api("DELETE", "/api/jobs/delete_job_before/%d?omit-tagged=none" % (base + 1))
        assert r.status_code == 200 and cnt() == 0
    finally:
        js.sql("INSERT INTO job SELECT * FROM apitest_keep_job ON CONFLICT DO NOTHING")
        js.sql("INSERT INTO jobtag SELECT * FROM apitest_keep_jobtag ON CONFLICT DO NOTHING")
        js.sql("DROP TABLE apitest_keep_job, apitest_keep_jobtag")


# ------------------------------------------------------------ clusters, users


def test_clusters(js, api):
    r = api("GET", "/api/clusters/")
    assert r.status_code == 200, show(r)
    names = [c["name"] for c in r.json()["clusters"]]
    assert names == ["heron", "lynx"], names
    heron = r.json()["clusters"][0]
    assert [s["name"] for s in heron["subClusters"]] == ["main", "bigmem"] and heron["metricConfig"]
    r = api("GET", "/api/clusters/?cluster=lynx")
    assert [c["name"] for c in r.json()["clusters"]] == ["lynx"]
    r = api("GET", "/api/clusters/?cluster=nope")
    assert r.status_code == 400 and err_of(r) == ("Bad Request", "unknown cluster: nope")


def test_users(js, api, admin):
    r = api("GET", "/api/users/")
    assert r.status_code == 403 and err_of(r) == ("Forbidden", "only admins are allowed to fetch a list of users")
    # a token as `jobscope -jwt` makes it (the admin user has admin and api)
    p = run_jobscope(["-config", js.config, "-jwt", "admin"], cwd=js.T)
    assert p.returncode == 0, p.stderr
    cli = Api(js, p.stdout.strip())
    r = cli("GET", "/api/users/")
    assert r.status_code == 200, show(r)
    users = {u["username"]: u for u in r.json()}
    a = users["admin"]
    assert list(a) == ["username", "name", "email", "roles", "projects", "authType", "authSource"]
    assert (sorted(a["roles"]), a["projects"], a["authType"], a["authSource"]) == (["admin", "api"], [], 0, 0)
    assert users["alice"]["roles"] == ["user"]
    r = admin("GET", "/api/users/?not-just-user=true")
    special = [u["username"] for u in r.json()]
    assert "admin" in special and "alice" not in special


def test_user_update(js, api, admin):
    js.sql("INSERT INTO hpc_user (username, roles, auth_source) VALUES ('apitest-u', '{user}', 0)")
    roles = lambda: js.sql("SELECT array_to_string(roles, ',') || '|' || array_to_string(projects, ',') "
                           "FROM hpc_user WHERE username = 'apitest-u'")
    r = api("POST", "/api/user/apitest-u", {"add-role": "manager"})
    assert r.status_code == 403 and err_of(r)[1] == "only admins are allowed to update a user"
    r = admin("POST", "/api/user/apitest-u", {"add-role": "Manager"})
    assert r.status_code == 200 and r.json() == {"msg": "Add Role Success for user apitest-u"}
    assert roles() == "user,manager|"
    r = admin("POST", "/api/user/apitest-u", {"add-role": "manager"})
    assert r.status_code == 422 and err_of(r) == ("Unprocessable Entity", "adding role failed: user apitest-u already has role manager")
    r = admin("POST", "/api/user/apitest-u", {"add-role": "wizard"})
    assert r.status_code == 422 and err_of(r)[1] == "adding role failed: supplied role is no valid option : wizard"
    r = admin("POST", "/api/user/apitest-u", {"add-project": "p1"})
    assert r.status_code == 200 and r.json()["msg"] == "Add Project Success for user apitest-u"
    r = admin("POST", "/api/user/apitest-u", {"add-project": "p1"})
    assert r.status_code == 422 and err_of(r)[1] == "adding project failed: user 'apitest-u' already manages project 'p1'"
    assert roles() == "user,manager|p1"
    r = admin("POST", "/api/user/apitest-u", {"remove-role": "manager"})
    assert r.status_code == 422 and err_of(r)[1].startswith(
        "removing role failed: cannot remove role 'manager' while user apitest-u still has assigned project(s) : ")
    # form fields, as upstream's handler reads them
    r = admin("POST", "/api/user/apitest-u", raw="remove-project=p1",
              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and r.json()["msg"] == "Remove Project Success for user apitest-u"
    r = admin("POST", "/api/user/apitest-u", {"remove-project": "p1"})
    assert r.status_code == 422 and err_of(r)[1] == "removing project failed: user 'apitest-u': Cannot remove project 'p1' - Does not match"
    r = admin("POST", "/api/user/apitest-u", {"remove-role": "manager"})
    assert r.status_code == 200 and r.json()["msg"] == "Remove Role Success for user apitest-u"
    r = admin("POST", "/api/user/apitest-u", {"remove-role": "manager"})
    assert r.status_code == 422 and err_of(r)[1] == "removing role failed: role already deleted for user 'apitest-u': manager"
    r = admin("POST", "/api/user/apitest-u", {"add-project": "p2"})
    assert r.status_code == 422 and err_of(r)[1] == "adding project failed: user 'apitest-u' is not a manager"
    assert roles() == "user|"
    r = admin("POST", "/api/user/apitest-u", {})
    assert r.status_code == 400 and err_of(r)[1] == ("no operation specified: must provide add-role, remove-role, "
                                                   "add-project, or remove-project")
    r = admin("POST", "/api/user/apitest-nobody", {"add-role": "user"})
    assert r.status_code == 422 and err_of(r)[1] == "adding role failed: sql: no rows in result set"


# ------------------------------------------------------------------ nodestate


def node_rows(js):
    return js.sql("SELECT string_agg(n.hostname || ':' || n.subcluster || ':' || s.node_state || ':' || s.health_state "
                  "|| ':' || s.cpus_allocated || ':' || s.memory_allocated || ':' || s.gpus_allocated || ':' || "
                  "s.jobs_running, ',' ORDER BY n.hostname, s.id) FROM node n JOIN node_state s ON s.node_id = n.id "
                  "WHERE n.hostname IN (%s)" % ", ".join("'%s'" % h for h in NODES))


def test_nodestate(js, api):
    body = {"cluster": "heron", "nodes": [
        {"hostname": "h0901", "states": ["ALLOCATED", "idle"], "cpusAllocated": 72, "memoryAllocated": 256000,
         "gpusAllocated": 0, "jobsRunning": 2},
        {"hostname": "h0902", "states": ["reserved", "mixed"]},
        {"hostname": "h0903", "states": ["idle", "down"]},
        {"hostname": "h0904", "states": ["mixed", "DRAIN"]},
        {"hostname": "h0905", "states": ["drain", "planned"]},
        {"hostname": "h1001", "states": ["Idle"]},
        {"hostname": "x9999", "states": ["idle"]},  # in no subcluster: skipped
        {"hostname": "h0902", "states": ["idle"]},  # listed twice: the first entry counts
    ]}
    r = api("POST", "/api/nodestate/", body)
    assert r.status_code == 200, show(r)
    assert r.text == ""
    assert node_rows(js) == ",".join([
        "h0901:main:allocated:failed:72:256000:0:2", "h0902:main:reserved:failed:0:0:0:0",
        "h0903:main:down:full:0:0:0:0", "h0904:main:mixed:failed:0:0:0:0", "h0905:main:unknown:failed:0:0:0:0",
        "h1001:bigmem:idle:failed:0:0:0:0"])
    ts = int(js.sql("SELECT max(time_stamp) FROM node_state s JOIN node n ON n.id = s.node_id WHERE n.hostname = 'h0901'"))
    assert abs(ts - time.time()) < 60
    # append-only history: a second push adds rows; PUT works too
    r = api("PUT", "/api/nodestate/", {"cluster": "heron", "nodes": [{"hostname": "h0901", "states": ["idle"]}]})
    assert r.status_code == 200
    assert js.sql("SELECT string_agg(s.node_state, ',' ORDER BY s.id) FROM node_state s JOIN node n ON n.id = s.node_id "
                  "WHERE n.hostname = 'h0901'") == "allocated,idle"
    assert js.sql("SELECT count(*) FROM node WHERE hostname = 'h0901'") == "1"
    for bad, msg in (({"cluster": "heron", "nodes": [{"hostname": "h0901", "state": "idle"}]},
                      'parsing request body failed: nodes[0]: json: unknown field "state"'),
                     ({"cluster": "heron", "nodes": {}}, "parsing request body failed: nodes: expected an array, got an object"),
                     ({"cluster": "heron", "nodes": [], "x": 1}, 'parsing request body failed: json: unknown field "x"')):
        r = api("POST", "/api/nodestate/", bad)
        assert r.status_code == 400 and err_of(r)[1] == msg, show(r)


# ---------------------------------------------------------------- auth, roles


@pytest.fixture(scope="module")
def role_tokens(tok):
    return {
        "api": tok.mint("apibot", ["api"]),
        "admin+api": tok.mint("admin", ["admin", "api"]),
        "user+api": tok.mint("alice", ["user", "api"]),
        "manager+api": tok.mint("mona", ["manager", "api"]),
        "support+api": tok.mint("sam", ["support", "api"]),
        "user": tok.mint("alice", ["user"]),
        "admin": tok.mint("admin", ["admin"]),
        "none": tok.mint("nobody", []),
    }


# who passes which group (COMPAT a.1), quirks included
GATES = {
    "/api/jobs/?items-per-page=1": {"api", "admin+api"},
    "/userapi/jobs/?items-per-page=1": {"api", "admin+api", "user+api", "manager+api", "support+api"},
    "/api/healthcheck": {"api", "admin+api", "user+api", "manager+api"},
}


@pytest.mark.parametrize("path", sorted(GATES))
def test_role_gates(js, role_tokens, path):
    for who, token in sorted(role_tokens.items()):
        if path == "/api/healthcheck":
            r = js.request("POST", path, headers={"X-Auth-Token": token, "Content-Type": "application/json"},
                           data=json.dumps({"cluster": "heron", "nodes": []}))
        else:
            r = js.request("GET", path, headers={"X-Auth-Token": token})
        if who in GATES[path]:
            assert r.status_code == 200, (who, show(r))
        else:
            assert r.status_code == 401, (who, show(r))
            assert err_of(r) == ("Unauthorized", "unauthorized"), who


def test_healthcheck_is_nodestate(js, role_tokens):
    r = js.request("POST", "/api/healthcheck/", headers={"X-Auth-Token": role_tokens["user+api"]},
                   data=json.dumps({"cluster": "heron", "nodes": [{"hostname": "h0902", "states": ["down"]}]}))
    assert r.status_code == 200 and r.text == "", show(r)
    assert js.sql("SELECT s.node_state || ':' || s.health_state FROM node_state s JOIN node n ON n.id = s.node_id "
                  "WHERE n.hostname = 'h0902' ORDER BY s.id DESC LIMIT 1") == "down:full"


def test_userapi_visibility(js, api, role_tokens):
    mine, theirs = new_id(), new_id()
    start(api, heron_payload(mine, NOW - 30, user="alice", project="apitest-vis"))
    start(api, heron_payload(theirs, NOW - 20, user="bob", project="apitest-vis"))
    alice = Api(js, role_tokens["user+api"])
    r = alice("GET", "/userapi/jobs/?project=apitest-vis")
    assert [j["jobId"] for j in r.json()["jobs"]] == [mine]
    r = api("GET", "/userapi/jobs/?project=apitest-vis")  # an api-only token sees all
    assert [j["jobId"] for j in r.json()["jobs"]] == [theirs, mine]
    support = Api(js, role_tokens["support+api"])
    assert len(support("GET", "/userapi/jobs/?project=apitest-vis").json()["jobs"]) == 2
    r = alice("GET", "/userapi/jobs/%d" % db_id(js, mine))
    assert r.status_code == 200 and r.json()["Meta"]["user"] == "alice"
    r = alice("GET", "/userapi/jobs/%d" % db_id(js, theirs))
    assert r.status_code == 422
    assert err_of(r)[1] == "finding job with db id %d failed: sql: no rows in result set" % db_id(js, theirs)
    r = alice("POST", "/userapi/jobs/%d" % db_id(js, theirs), ["cpu_load"])
    assert r.status_code == 422
    r = alice("GET", "/userapi/jobs/metrics/%d" % db_id(js, theirs))
    assert r.json() == {"data": None, "error": {"message": "sql: no rows in result set"}}
    # the user API has no write endpoints
    r = alice("POST", "/userapi/jobs/start_job/", heron_payload(new_id(), NOW))
    assert r.status_code == 404


def test_bad_tokens(js, tok):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    cases = {
        "alg none": Tokens.unsigned("apibot", ["api"]),
        "HS256 with the public key": tok.hs256_with_public_key("apibot", ["api"]),
        "expired": tok.mint("apibot", ["api"], exp_in=-10),
        "foreign key": tok.mint("apibot", ["api"], key=Ed25519PrivateKey.generate()),
        "no sub": tok.mint(None, ["api"]),
        "not yet valid": tok.mint("apibot", ["api"], nbf=int(time.time()) + 3600),
        "garbage": "a.b.c",
    }
    for what, t in cases.items():
        for path in ("/api/jobs/", "/userapi/jobs/", "/api/healthcheck"):
            r = js.request("POST" if "health" in path else "GET", path, headers={"X-Auth-Token": t})
            assert r.status_code == 401, (what, path, show(r))
            status, msg = err_of(r)
            assert status == "Unauthorized" and msg, (what, msg)
    assert err_of(js.get("/api/jobs/", headers={"X-Auth-Token": cases["expired"]}))[1] == "token is expired"
    assert err_of(js.get("/api/jobs/", headers={"X-Auth-Token": cases["no sub"]}))[1] == "token has no subject"
    assert err_of(js.get("/api/jobs/", headers={"X-Auth-Token": cases["alg none"]}))[1] == "unsupported signing method none"
    r = js.get("/api/jobs/")
    assert r.status_code == 401 and err_of(r) == ("Unauthorized", "no user for secured check")


def test_token_headers(js, api):
    for headers in ({"X-AUTH-TOKEN": api.token}, {"x-auth-token": api.token}, {"Authorization": "Bearer " + api.token}):
        r = js.get("/api/jobs/?items-per-page=1", headers=headers)
        assert r.status_code == 200, (headers, show(r))


def test_unknown_api_paths_and_methods(js, api):
    r = api("GET", "/api/jobs/start_job/")
    assert r.status_code == 405
    r = api("GET", "/api/nosuch/")
    assert r.status_code == 404 and err_of(r) == ("Resource not found", "the requested endpoint does not exist")


# ---------------------------------------------------- second server: allow-list


@pytest.fixture(scope="module")
def second(js, tok):
    """jobscope with api-allowed-ips, and cc-backend's fritz cluster when the reference is there"""
    fritz = os.path.join(REF_DIR, "cc-backend", "pkg", "archive", "testdata", "archive", "fritz", "cluster.json")
    have = bool(REF_DIR) and os.path.exists(fritz) and os.path.exists(
        os.path.join(REF_DIR, "cc-backend", "configs", "startJobPayload.json"))
    s = Second(js, {"api-allowed-ips": ["10.1.2.3", "192.0.2.7"]}, {"fritz": fritz} if have else None)
    s.token = tok.mint("apibot", ["api"])
    s.fritz = fritz if have else None
    yield s
    s.stop()


def test_ip_allow_list(second, role_tokens):
    r = second.request("GET", "/api/jobs/?items-per-page=1", second.token, "10.1.2.3")
    assert r.status == 200, r
    r = second.request("GET", "/api/jobs/?items-per-page=1", second.token, "10.9.9.9")
    assert r.status == 401, r
    assert json.loads(r.text) == {"status": "Unauthorized", "error": "unknown ip: 10.9.9.9"}
    # the allow-list guards the main /api group only
    r = second.request("GET", "/userapi/jobs/?items-per-page=1", role_tokens["user+api"], "10.9.9.9")
    assert r.status == 200, r
    r = second.request("POST", "/api/healthcheck", second.token, "10.9.9.9", {"cluster": "heron", "nodes": []})
    assert r.status == 200, r


def test_large_answer_over_fastcgi_is_whole(js, api):
    """Answers over 8 KB go out as FastCGI stdout records of up to 64 KB in one writev (the
    last 4 KB through libfcgi): a job of 200 KB of job script comes back whole and in order,
    straight from the socket, through nginx, and again and again on a kept connection."""
    script = "".join("#SBATCH --comment=line-%06d\n" % i for i in range(7000))  # about 200 KB
    start(api, heron_payload(JOB_ID_BASE + 9400, 1700000000, metaData={"jobScript": script}))
    uri = "/api/jobs/%d" % db_id(js, JOB_ID_BASE + 9400)
    via_nginx = api("GET", uri)
    assert via_nginx.status_code == 200, show(via_nginx)
    assert via_nginx.json()["Meta"]["metaData"]["jobScript"] == script
    # the job runs: its duration grows between the requests, the rest stays byte for byte
    def steady(body):
        return re.sub(rb'"duration":[0-9]+', b'"duration":_', body)
    direct = fcgi_request(js.sock, "GET", uri, headers={"X-Auth-Token": api.token})
    assert direct.status == 200 and len(direct.body) > 3 * 65536, len(direct.body)
    assert steady(direct.body).count(b'"duration":_') == 1
    assert json.loads(direct.body)["Meta"]["metaData"]["jobScript"] == script
    assert steady(direct.body) == steady(via_nginx.content)
    c = FcgiConn(js.sock, timeout=10)
    try:
        for _ in range(3):
            c.begin(fcgi_params("GET", uri, {"X-Auth-Token": api.token}), keep=True)
            c.stdin(b"")
            r = c.response(close=False)
            assert r.status == 200 and steady(r.body) == steady(direct.body)
    finally:
        c.s.close()
