"""The job list and the job view: archive data imported with `jobscope -import-job`,
hostile strings everywhere, a corrupt data file, filters against a known dataset,
and a real headless Chromium rendering the job view and its SVG plots."""

import gzip
import json
import math
import os
import shutil
import subprocess
import time

import pytest

from conftest import BUILDDIR, run_jobscope
from jshelpers import show, tidy_errors, wait_for

HOSTILE = "<script>alert(1)</script>"
NOW = int(time.time())


def heron_job(job_id, start, nodes, user, project, name, script, tags, duration=3600, state="completed"):
    hosts = ["h%04d" % (i + 1) for i in range(nodes)]
    meta = {
        "jobId": job_id, "user": user, "project": project, "cluster": "heron", "subCluster": "",
        "numNodes": nodes, "numHwthreads": nodes * 72, "shared": "none", "jobState": state,
        "duration": duration, "walltime": 86400, "startTime": start, "submitTime": start - 60,
        "resources": [{"hostname": h} for h in hosts],
        "metaData": {"jobName": name, "jobScript": script, "slurmInfo": "JobId=%d\nPartition=<b>work</b>" % job_id},
        "tags": tags,
    }
    steps = duration // 60 + 1
    data = {}
    # a few node-scope metrics with phases; one NaN gap
    for metric, unit, prefix, base in (("cpu_load", "", "", 60.0), ("flops_any", "F/s", "G", 900.0),
                                       ("mem_bw", "B/s", "G", 120.0), ("mem_used", "B", "G", 80.0),
                                       ("cpu_power", "W", "", 250.0)):
        series = []
        for k, h in enumerate(hosts):
            vals = [round(base * (0.5 + 0.4 * math.sin(t / 7.0 + k)) + k, 2) for t in range(steps)]
            if len(vals) > 10:
                vals[5] = None
            nums = [v for v in vals if v is not None]
            series.append({"hostname": h, "statistics": {"min": min(nums), "avg": round(sum(nums) / len(nums), 2),
                                                         "max": max(nums)}, "data": vals})
        unit_obj = {"base": unit}
        if prefix:
            unit_obj["prefix"] = prefix
        data[metric] = {"node": {"unit": unit_obj, "timestep": 60, "series": series}}
    return meta, data


@pytest.fixture(scope="module")
def jobs(js):
    """Import three heron jobs through the CLI; corrupt the data file of the third."""
    d = os.path.join(js.T, "import")
    os.makedirs(d, exist_ok=True)
    specs = [
        (9001, NOW - 7200, 2, "carol", "proj-a", HOSTILE + " sim", "#!/bin/bash\necho '</pre>" + HOSTILE + "'\n",
         [{"type": "app", "name": "<img src=x onerror=alert(1)>"}]),
        (9002, NOW - 5400, 4, "dave", "proj-b", "lammps-run", "#!/bin/bash\nsrun lmp\n", []),
        (9003, NOW - 3600, 1, "carol", "proj-a", "broken", "#!/bin/bash\n", []),
    ]
    pairs = []
    for s in specs:
        meta, data = heron_job(*s)
        mp, dp = os.path.join(d, "meta%d.json" % s[0]), os.path.join(d, "data%d.json" % s[0])
        with open(mp, "w") as f:
            json.dump(meta, f)
        with open(dp, "w") as f:
            json.dump(data, f)
        pairs.append("%s:%s" % (mp, dp))
    p = run_jobscope(["-config", js.config, "-import-job", ",".join(pairs)], cwd=js.T)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "3 imported, 0 failed" in p.stdout, p.stdout
    ids = {}
    for s in specs:
        ids[s[0]] = int(js.sql("SELECT id FROM job WHERE job_id = %d AND cluster = 'heron'" % s[0]))
    # corrupt the third job's data file (it is gzipped: more than 2000 bytes)
    key = os.path.join(js.var, "job-archive", "heron", "9", "003", str(NOW - 3600))
    gz = os.path.join(key, "data.json.gz")
    assert os.path.exists(gz), os.listdir(key)
    with open(gz, "r+b") as f:
        f.seek(20)
        f.write(b"\x00garbage\xff" * 8)
    yield ids
    # leave the site as other modules expect it (the home page counts jobs per cluster)
    js.sql("DELETE FROM job WHERE cluster = 'heron' AND job_id IN (9001, 9002, 9003)")
    shutil.rmtree(os.path.join(js.var, "job-archive", "heron", "9"), ignore_errors=True)


def test_import_wrote_archive_and_rows(js, jobs):
    row = js.sql("SELECT concat_ws('|', subcluster, num_nodes, duration, monitoring_status, "
                 "footprint ? 'flops_any_avg', energy > 0) FROM job WHERE id = %d" % jobs[9002])
    assert row == "main|4|3600|3|t|t", row
    # the duplicate is refused and changes nothing
    meta = os.path.join(js.T, "import", "meta9002.json")
    p = run_jobscope(["-config", js.config, "-import-job", meta + ":" + os.path.join(js.T, "import", "data9002.json")], cwd=js.T)
    assert p.returncode == 1 and "exists already" in p.stdout, p.stdout
    assert js.sql("SELECT count(*) FROM job WHERE job_id = 9002") == "1"


def test_job_view_renders_plots_escaped_and_valid(js, jobs):
    c = js.login("admin")
    r = js.get("/monitoring/job/%d" % jobs[9001], c)
    assert r.status_code == 200, show(r)
    html = r.text
    assert html.count("<svg") >= 6, "expected the metric grid, footprint and roofline"
    assert HOSTILE not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; sim" in html
    assert "&lt;/pre&gt;&lt;script&gt;" in html  # the job script, escaped inside <pre>
    assert "Partition=&lt;b&gt;work&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the tag
    rc, msg = tidy_errors(html)
    assert rc < 2, msg
    # zoom links re-render the same job at a finer range
    assert "from=" in html and "to=" in html
    z = js.get("/monitoring/job/%d?from=600&to=1800&scope=node" % jobs[9001], c)
    assert z.status_code == 200 and "zoomed to" in z.text, show(z)


def test_corrupt_data_is_an_error_card_on_that_page_only(js, jobs):
    c = js.login("admin")
    r = js.get("/monitoring/job/%d" % jobs[9003], c)
    assert r.status_code == 200, show(r)
    assert "cannot be read" in r.text and "data.json" in r.text
    rc, msg = tidy_errors(r.text)
    assert rc < 2, msg
    ok = js.get("/monitoring/job/%d" % jobs[9002], c)
    assert ok.status_code == 200 and ok.text.count("<svg") >= 6
    assert "cannot be read" not in ok.text


def test_unknown_or_foreign_job_is_404(js, jobs):
    admin = js.login("admin")
    assert js.get("/monitoring/job/99999999", admin).status_code == 404
    assert js.get("/monitoring/job/abc", admin).status_code == 404
    # alice (role user) may not see carol's job: 404, not 403
    alice = js.login("user")
    r = js.get("/monitoring/job/%d" % jobs[9001], alice)
    assert r.status_code == 404, show(r)


def count_rows(html):
    return html.count('class="js-jobinfo"')


def test_list_filters_against_the_dataset(js, jobs):
    c = js.login("admin")
    # every case is restricted to this module's jobs (projects proj-a, proj-b)
    mine = "&project=proj-&projectMatch=startsWith"
    cases = [
        ("?jobId=9001", 1),
        ("?user=carol", 2),
        ("?user=carol&user=dave&userMatch=in", 3),
        ("?numNodes=2-4", 2),
        ("?numNodes=lessthan-1", 1),  # to=1: at most one node
        ("?duration=morethan-3599", 3),
        ("?jobName=lammps", 1),
        ("?node=h0004", 1),
        ("?node=h000&nodeMatch=contains", 3),
        ("?stat=flops_any_avg-1-100000", 3),
        ("?stat=flops_any_avg-100000-200000", 0),
        ("?startTime=last24h", 3),
        ("?startTime=%d-%d" % (NOW - 6000, NOW - 5000), 1),
        ("?state=completed", 3),
        ("?state=failed", 0),
        ("?arrayJobId=5", 0),
        ("?cluster=lynx", 0),
    ]
    cases = [(q + mine, n) for q, n in cases] + [("?project=proj-b", 1), ("?project=roj-a&projectMatch=contains", 2)]
    for q, n in cases:
        r = js.get("/monitoring/jobs/" + q, c)
        assert r.status_code == 200, show(r)
        assert count_rows(r.text) == n, "%s: %d rows, expected %d" % (q, count_rows(r.text), n)
    # sorting by nodes: 9002 (4) before 9001 (2) before 9003 (1)
    r = js.get("/monitoring/jobs/?cluster=heron&sort=numNodes&order=desc", c)
    order = [r.text.index(">%d<" % j) for j in (9002, 9001, 9003)]
    assert order == sorted(order)
    # paging: one per page, next link leads to the next job
    r = js.get("/monitoring/jobs/?cluster=heron&jobId=9001&jobId=9002&jobId=9003&itemsPerPage=10", c)
    assert count_rows(r.text) == 3
    rc, msg = tidy_errors(r.text)
    assert rc < 2, msg


def test_hostile_filter_values_are_refused_or_escaped(js, jobs):
    c = js.login("admin")
    before = js.sql("SELECT count(*) FROM job")
    for q in ("?user=%27%20OR%20%271%27%3D%271", "?project=x%27%3B%20DROP%20TABLE%20job%3B--",
              "?jobName=%25", "?node=%27%29%20OR%20true--", "?cluster=%22%3E%3Cscript%3E"):
        r = js.get("/monitoring/jobs/" + q, c)
        assert r.status_code == 200, show(r)
        assert count_rows(r.text) == 0, q
        assert "<script>" not in r.text
    for q in ("?sort=flops_any_avg%27--", "?state=running%27", "?numNodes=1-x", "?stat=a%27_avg-1-2",
              "?itemsPerPage=7", "?jobId=1%20OR%201"):
        r = js.get("/monitoring/jobs/" + q, c)
        assert r.status_code == 400, q + ": " + show(r)
    r = js.get("/monitoring/jobs/?jobName=" + "%3Cscript%3Ealert(1)%3C%2Fscript%3E", c)
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in r.text
    assert js.sql("SELECT count(*) FROM job") == before


def chromium():
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    return None


def test_headless_chromium_renders_the_job_view(js, jobs):
    """A real browser with the session cookie: the page loads, every SVG has a size, screenshot saved."""
    import websocket  # Debian's python3-websocket

    exe = chromium()
    assert exe, "chromium is not installed (./test.sh installs it)"
    c = js.login("admin")
    port = js.nginx.port
    out_dir = os.environ.get("JOBSCOPE_TEST_OUTPUT") or os.path.join(BUILDDIR, "tests", "output")
    os.makedirs(out_dir, exist_ok=True)
    profile = os.path.join(js.T, "chromium-profile")
    dbg = str(__import__("jshelpers").free_port())
    proc = subprocess.Popen([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync",
                             "--user-data-dir=" + profile, "--remote-debugging-port=" + dbg,
                             "--window-size=1500,2000", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import urllib.request

        def targets():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%s/json" % dbg, timeout=2) as f:
                    return [t for t in json.load(f) if t.get("type") == "page"]
            except OSError:
                return None
        pages = wait_for(targets, 30, 0.2, what="chromium's DevTools endpoint")
        ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30)
        seq = [0]

        def cdp(method, **params):
            seq[0] += 1
            ws.send(json.dumps({"id": seq[0], "method": method, "params": params}))
            while True:
                msg = json.loads(ws.recv())
                if msg.get("id") == seq[0]:
                    assert "error" not in msg, msg
                    return msg.get("result", {})

        cdp("Network.enable")
        cdp("Page.enable")
        cdp("Network.setCookie", name="session", value=c.cookies.get("session"), domain="127.0.0.1",
            path="/", httpOnly=True)
        url = "http://127.0.0.1:%d/monitoring/job/%d" % (port, jobs[9002])
        cdp("Page.navigate", url=url)

        def loaded():
            r = cdp("Runtime.evaluate", expression="document.readyState", returnByValue=True)
            return r["result"].get("value") == "complete"
        wait_for(loaded, 30, 0.2, what="the job view to load in chromium")
        title = cdp("Runtime.evaluate", expression="document.title", returnByValue=True)["result"]["value"]
        assert "Job 9002" in title, title
        sizes = cdp("Runtime.evaluate", returnByValue=True, expression=(
            "Array.from(document.querySelectorAll('svg')).map(s => {const b = s.getBoundingClientRect();"
            " return [b.width, b.height, s.querySelectorAll('path,polyline,rect,circle').length];})"))["result"]["value"]
        assert len(sizes) >= 6, sizes
        for w, h, shapes in sizes:
            assert w > 50 and h > 20 and shapes > 0, sizes
        shot = cdp("Page.captureScreenshot", format="png")
        import base64
        path = os.path.join(out_dir, "job-view.png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        assert os.path.getsize(path) > 20000
        print("screenshot: %s" % path)
        ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
