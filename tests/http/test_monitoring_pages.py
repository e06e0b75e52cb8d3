"""Users, Projects, User and Tags pages and the search bar (COMPAT f, g).

The module fixture `data` adds its own users (user, manager with projects,
support), jobs on the clusters mpA and mpB (not in the test archive, so the
home page's counts stay as test_pages.py expects them) and tags, and removes
all of it again afterwards.  Every expected number below is worked out by hand
from DATASET; the short-job limit is cc-backend's default of 300 s.
"""

import csv
import html
import io
import re
import time

import pytest

from conftest import run_jobscope
from jshelpers import show, tidy_errors

NOW = int(time.time())
DAY = 86400
HOSTILE = "<script>alert(1)</script>"
HOSTILE_ESC = "&lt;script&gt;alert(1)&lt;/script&gt;"
IMG = "<img src=x onerror=alert(1)>"
IMG_ESC = "&lt;img src=x onerror=alert(1)&gt;"
FORMULA = "=cmd()"

# login name: (password, roles, real name, email, projects)
ACCOUNTS = {
    "mp_user": ("mpUser-Secret-1", "user", "Ursula User", "ursula@example.org", []),
    "mp_mgr": ("mpMgr-Secret-2", "manager", "-Max Manager", "max@example.org", ["mp_proj1", FORMULA]),
    "mp_sup": ("mpSup-Secret-3", "support", "Sue Support", None, []),
}
# users without a login: username -> real name
OTHERS = {
    "mp_other": 'Otto "O" Other, Jr.',
    HOSTILE: "<b>Evil</b> Eve",
    IMG: "@SUM(1+1)",
}
MY_USERS = {"mp_user", "mp_mgr", "mp_sup", "mp_other", HOSTILE, IMG}

# job_id, cluster, user, project, state, start, duration, nodes, hwthreads, accs, jobName
DATASET = [
    (9101, "mpA", "mp_user", "mp_proj1", "completed", NOW - 2 * DAY, 3600, 1, 4, 0, "vasp-relax"),
    (9102, "mpA", "mp_user", "mp_proj1", "completed", NOW - 3 * DAY, 120, 1, 2, 1, "quick"),
    (9103, "mpB", "mp_user", "mp_proj2", "failed", NOW - 4 * DAY, 7200, 2, 16, 2, "big"),
    (9104, "mpB", "mp_user", "mp_proj2", "completed", NOW - 60 * DAY, 1800, 1, 8, 0, "old"),
    (9105, "mpA", "mp_other", "mp_proj1", "completed", NOW - 1 * DAY, 10800, 4, 64, 0, "gromacs"),
    (9106, "mpB", "mp_other", FORMULA, "completed", NOW - 2 * DAY, 60, 1, 1, 0, "tiny"),
    (9107, "mpA", "mp_other", "mp_proj2", "running", NOW - 7200, 0, 2, 8, 4, "live"),
    (9108, "mpA", HOSTILE, HOSTILE, "completed", NOW - 1 * DAY, 900, 1, 2, 0, HOSTILE),
    (9109, "mpA", "mp_mgr", "mp_proj3", "completed", NOW - 1 * DAY, 36000, 8, 256, 0, "long"),
    (9110, "mpB", IMG, "mp_proj2", "completed", NOW - 3 * DAY, 240, 1, 1, 0, "short"),
]
MY_PROJECTS = {"mp_proj1", "mp_proj2", "mp_proj3", FORMULA, HOSTILE}

# type, name, scope, attached to job_ids
TAGS = [
    ("mp_app", "vasp", "global", [9101]),
    ("mp_app", "gromacs", "global", [9105]),
    ("mp_app", "unused", "global", []),
    ("mp_admin", "flagged", "admin", [9101]),
    ("mp_todo", "check", "mp_user", [9102]),
    ("mp_todo", "empty", "mp_user", []),
    ("mp_todo", "secret", "mp_other", [9105]),
    ("mp_hostile", HOSTILE, "global", [9108]),
]
TAG_TYPES = {t[0] for t in TAGS}


def q(s):
    """An SQL string literal."""
    return "NULL" if s is None else "'" + s.replace("'", "''") + "'"


def qarr(items):
    return "ARRAY[%s]::text[]" % ", ".join(q(i) for i in items) if items else "'{}'::text[]"


def cleanup(js):
    js.sql("DELETE FROM job WHERE cluster IN ('mpA', 'mpB') AND job_id BETWEEN 9100 AND 9199")
    js.sql("DELETE FROM tag WHERE tag_type IN (%s)" % ", ".join(q(t) for t in sorted(TAG_TYPES)))
    js.sql("DELETE FROM hpc_user WHERE username IN (%s)" % ", ".join(q(u) for u in sorted(MY_USERS)))


def login_as(js, name):
    return js.login_as(name, ACCOUNTS[name][0])


@pytest.fixture(scope="module")
def data(js):
    cleanup(js)
    for name, (pw, roles, real, email, projects) in ACCOUNTS.items():
        p = run_jobscope(["-config", js.config, "-add-user", "%s:%s:%s" % (name, roles, pw)], cwd=js.T)
        assert p.returncode == 0, "jobscope -add-user %s failed: %s%s" % (name, p.stdout, p.stderr)
        js.sql("UPDATE hpc_user SET name = %s, email = %s, projects = %s WHERE username = %s"
               % (q(real), q(email), qarr(projects), q(name)))
    for name, real in OTHERS.items():
        js.sql("INSERT INTO hpc_user (username, name, roles) VALUES (%s, %s, '{user}')" % (q(name), q(real)))
    rows = []
    for (jid, cluster, user, project, state, start, dur, nodes, hwt, acc, jname) in DATASET:
        rows.append("(%d, %s, 'main', %s, %s, %s, %d, %d, %d, %d, %d, '[]', jsonb_build_object('jobName', %s::text))"
                    % (jid, q(cluster), q(user), q(project), q(state), start, dur, nodes, hwt, acc, q(jname)))
    js.sql("INSERT INTO job (job_id, cluster, subcluster, hpc_user, project, job_state, start_time, duration, "
           "num_nodes, num_hwthreads, num_acc, resources, meta_data) VALUES " + ", ".join(rows))
    for (ttype, tname, scope, jobs) in TAGS:
        js.sql("INSERT INTO tag (tag_type, tag_name, tag_scope) VALUES (%s, %s, %s)" % (q(ttype), q(tname), q(scope)))
        for jid in jobs:
            js.sql("INSERT INTO jobtag (job_id, tag_id) SELECT j.id, t.id FROM job j, tag t WHERE j.job_id = %d "
                   "AND j.cluster IN ('mpA', 'mpB') AND t.tag_type = %s AND t.tag_name = %s AND t.tag_scope = %s"
                   % (jid, q(ttype), q(tname), q(scope)))
    clients = {name: login_as(js, name) for name in ACCOUNTS}
    clients["admin"] = js.login("admin")
    yield clients
    cleanup(js)


# --- parsing -----------------------------------------------------------------

ROW_RE = re.compile(
    r'<tr class="js-row">\s*<td class="js-key"><a href="([^"]*)">([^<]*)</a></td>\s*'
    r'(?:<td class="js-name">([^<]*)</td>\s*)?'
    r'<td class="text-end"><a href="([^"]*)">(\d+)</a></td>\s*<td class="text-end">(\d+)</td>\s*'
    r'<td class="text-end">([\d.]+)</td>\s*<td class="text-end">([\d.]+)</td>\s*<td class="text-end">([\d.]+)</td>')


def table(r, keep=None):
    """[(key, name, total, short, walltime, core h, acc h)] in page order, keys unescaped;
    only keys in keep (default: this module's users and projects)."""
    assert r.status_code == 200, show(r)
    keep = keep if keep is not None else MY_USERS | MY_PROJECTS
    out = []
    for m in ROW_RE.finditer(r.text):
        key = html.unescape(m.group(2))
        if key in keep:
            out.append((key, html.unescape(m.group(3) or ""), int(m.group(5)), int(m.group(6)),
                        m.group(7), m.group(8), m.group(9)))
    return out


def by_key(rows):
    return {r[0]: r[1:] for r in rows}


def grown(weight):
    """How much a running job's hours have grown since NOW (pytest collects all modules first,
    so a slow run may reach these tests minutes later); weight = nodes, cores or accelerators."""
    return (time.time() - NOW + 5) * weight / 3600


def approx(s, want, tol):
    return abs(float(s) - want) <= tol


def assert_tidy(html_text, what):
    rc, msgs = tidy_errors(html_text)
    assert rc in (0, 1), "tidy finds errors in %s:\n%s\n--- page ---\n%s" % (what, msgs, html_text)


# --- users and projects ------------------------------------------------------

def test_users_table_numbers(js, data):
    r = js.get("/monitoring/users/", data["admin"])
    rows = by_key(table(r))
    assert rows["mp_user"] == ("Ursula User", 4, 1, "3.53", "40.07", "4.03"), show(r)
    assert rows["mp_mgr"] == ("-Max Manager", 1, 0, "10.00", "2560.00", "0.00")
    assert rows[HOSTILE] == ("<b>Evil</b> Eve", 1, 0, "0.25", "0.50", "0.00")
    assert rows[IMG] == ("@SUM(1+1)", 1, 1, "0.07", "0.07", "0.00")
    # mp_other has a running job: its duration is now - start (7200 s and counting)
    name, total, short, wall, core, acc = rows["mp_other"]
    assert (name, total, short) == ('Otto "O" Other, Jr.', 3, 1)
    assert approx(wall, (10800 + 60 + 7200) / 3600, 0.05 + grown(1)), wall
    assert approx(core, (10800 * 64 + 60 + 7200 * 8) / 3600, 0.2 + grown(8)), core
    assert approx(acc, 7200 * 4 / 3600, 0.05 + grown(4)), acc
    assert "mp_sup" not in rows  # no jobs, no row
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>Users · jobscope</title>" in r.text
    # the row links: the user page, and the jobs behind the numbers
    assert '<a href="/monitoring/user/mp_user">mp_user</a>' in r.text, show(r)
    assert '<a href="/monitoring/jobs/?userMatch=eq&amp;user=mp_user">4</a>' in r.text, show(r)


def test_projects_table_numbers(js, data):
    r = js.get("/monitoring/projects/", data["admin"])
    rows = by_key(table(r))
    assert rows["mp_proj1"] == ("", 3, 1, "4.03", "196.07", "0.03"), show(r)
    assert rows[FORMULA] == ("", 1, 1, "0.02", "0.02", "0.00")
    assert rows[HOSTILE] == ("", 1, 0, "0.25", "0.50", "0.00")
    assert rows["mp_proj3"] == ("", 1, 0, "10.00", "2560.00", "0.00")
    _, total, short, wall, core, acc = rows["mp_proj2"]
    assert (total, short) == (4, 1)
    assert approx(wall, (7200 + 1800 + 7200 + 240) / 3600, 0.05 + grown(1)), wall
    assert approx(core, (7200 * 16 + 1800 * 8 + 7200 * 8 + 240) / 3600, 0.1 + grown(8)), core
    assert approx(acc, (7200 * 2 + 7200 * 4) / 3600, 0.05 + grown(4)), acc
    assert "<title>Projects · jobscope</title>" in r.text
    assert 'href="/monitoring/jobs/?projectMatch=eq&amp;project=%3Dcmd%28%29"' in r.text, show(r)
    assert ">Name</a>" not in r.text  # no name column for projects


def test_cluster_and_start_time_filters(js, data):
    a = data["admin"]
    r = js.get("/monitoring/users/?cluster=mpA", a)
    rows = by_key(table(r))
    assert rows["mp_user"] == ("Ursula User", 2, 1, "1.03", "4.07", "0.03"), show(r)
    assert rows["mp_other"][1:3] == (2, 0)
    assert IMG not in rows  # only on mpB
    assert '<option value="mpA" selected>mpA</option>' in r.text, show(r)
    r = js.get("/monitoring/users/?startTime=last30d", a)
    rows = by_key(table(r))
    assert rows["mp_user"] == ("Ursula User", 3, 1, "3.03", "36.07", "4.03"), show(r)
    assert '<option value="last30d" selected>last30d</option>' in r.text
    r = js.get("/monitoring/users/?startTime=%d-%d" % (NOW - 61 * DAY, NOW - 59 * DAY), a)
    assert table(r) == [("mp_user", "Ursula User", 1, 0, "0.50", "4.00", "0.00")], show(r)
    r = js.get("/monitoring/projects/?cluster=mpB&state=completed", a)
    assert by_key(table(r)) == {
        "mp_proj2": ("", 2, 1, "0.57", "4.07", "0.00"),
        FORMULA: ("", 1, 1, "0.02", "0.02", "0.00"),
    }, show(r)
    # a bad filter is the job list's 400
    r = js.get("/monitoring/users/?startTime=yesterday", a)
    assert r.status_code == 400 and "startTime" in r.text, show(r)


def test_name_filters(js, data):
    a = data["admin"]
    keys = [k for k, *_ in table(js.get("/monitoring/users/?user=MP_", a))]
    assert set(keys) == {"mp_user", "mp_mgr", "mp_other"}  # contains, case-insensitive
    r = js.get("/monitoring/users/?name=ursula", a)
    assert [k for k, *_ in table(r, keep=None)] == ["mp_user"], show(r)
    assert all(html.unescape(m.group(2)) == "mp_user" for m in ROW_RE.finditer(r.text)), show(r)
    assert 'name="name" value="ursula"' in r.text
    keys = [k for k, *_ in table(js.get("/monitoring/projects/?project=PROJ", a))]
    assert set(keys) == {"mp_proj1", "mp_proj2", "mp_proj3"}
    keys = [k for k, *_ in table(js.get("/monitoring/projects/?project=mp_proj1&projectMatch=eq", a))]
    assert keys == ["mp_proj1"]
    # the other parameters ride along in the form
    r = js.get("/monitoring/projects/?project=x&state=failed&sort=project", a)
    assert '<input type="hidden" name="state" value="failed">' in r.text, show(r)
    assert '<input type="hidden" name="sort" value="project">' in r.text


def test_sorting(js, data):
    a = data["admin"]

    def order(path):
        return [k for k, *_ in table(js.get(path, a))]
    # default: total jobs descending, ties by name
    assert order("/monitoring/projects/") == ["mp_proj2", "mp_proj1", HOSTILE, FORMULA, "mp_proj3"]
    assert order("/monitoring/projects/?sort=totalJobs&order=asc") == [HOSTILE, FORMULA, "mp_proj3", "mp_proj1", "mp_proj2"]
    assert order("/monitoring/projects/?sort=project&order=desc") == ["mp_proj3", "mp_proj2", "mp_proj1", FORMULA, HOSTILE]
    assert order("/monitoring/projects/?sort=totalCoreHours&order=desc") == ["mp_proj3", "mp_proj1", "mp_proj2", HOSTILE, FORMULA]
    assert order("/monitoring/projects/?sort=shortJobs&order=desc") == [FORMULA, "mp_proj1", "mp_proj2", HOSTILE, "mp_proj3"]
    # byte order ("C" collation): "<i" < "<s" < "m"; names too: "-" < "<" < "@" < "O" < "U"
    assert order("/monitoring/users/?sort=user&order=asc") == [IMG, HOSTILE, "mp_mgr", "mp_other", "mp_user"]
    assert order("/monitoring/users/?sort=name&order=asc") == ["mp_mgr", HOSTILE, IMG, "mp_other", "mp_user"]
    assert order("/monitoring/users/?sort=totalWalltime&order=desc") == ["mp_mgr", "mp_other", "mp_user", HOSTILE, IMG]
    assert order("/monitoring/users/?sort=totalAccHours&order=desc") == ["mp_other", "mp_user", IMG, HOSTILE, "mp_mgr"]
    # header links: the current column turns round, the others start descending (names ascending)
    r = js.get("/monitoring/users/?cluster=mpA&sort=totalJobs&order=desc", a)
    assert 'href="/monitoring/users/?cluster=mpA&amp;sort=totalJobs&amp;order=asc">Total Jobs</a>' in r.text, show(r)
    assert 'href="/monitoring/users/?cluster=mpA&amp;sort=totalCoreHours&amp;order=desc">Total Core Hours</a>' in r.text
    assert 'href="/monitoring/users/?cluster=mpA&amp;sort=user&amp;order=asc">Username</a>' in r.text
    assert 'aria-sort="descending"' in r.text
    # the sort column is a whitelist
    for bad in ("job.id", "totalJobs;drop table job", "name"):
        r = js.get("/monitoring/projects/", a, params={"sort": bad})
        assert r.status_code == 400 and "invalid value for sort" in r.text, show(r)
    r = js.get("/monitoring/users/?order=sideways", a)
    assert r.status_code == 400, show(r)


def test_csv_export(js, data):
    a = data["admin"]
    r = js.get("/monitoring/projects/?cluster=mpB&format=csv", a)
    assert r.status_code == 200, show(r)
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == 'attachment; filename="projects.csv"'
    lines = r.text.split("\r\n")
    assert lines[0] == ('"Project","Total Jobs","Short Jobs","Total Walltime [h]","Total Core Hours",'
                        '"Total Accelerator Hours"')
    assert lines[-1] == ""
    rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(r.text)) if row}
    # formula injection neutralised
    assert rows["'" + FORMULA] == ["1", "1", "0.02", "0.02", "0.00"], r.text
    assert '"\'=cmd()",1,1,0.02,0.02,0.00' in lines
    assert rows["mp_proj2"] == ["3", "1", "2.57", "36.07", "4.00"], r.text
    assert FORMULA not in rows
    # users: the name column, quotes doubled, separators inside quotes, same row order as the page
    r = js.get("/monitoring/users/?format=csv&sort=user&order=asc", a)
    assert r.headers["Content-Disposition"] == 'attachment; filename="users.csv"', show(r)
    assert r.text.startswith('"User","Name","Total Jobs","Short Jobs","Total Walltime [h]","Total Core Hours",'
                             '"Total Accelerator Hours"\r\n')
    assert '"mp_other","Otto ""O"" Other, Jr.",3,1,' in r.text
    assert '"' + IMG + '","\'@SUM(1+1)",1,1,0.07,0.07,0.00\r\n' in r.text
    assert '"mp_mgr","\'-Max Manager",1,0,10.00,2560.00,0.00\r\n' in r.text
    assert '"mp_user","Ursula User",4,1,3.53,40.07,4.03\r\n' in r.text
    got = [row[0] for row in csv.reader(io.StringIO(r.text)) if row and row[0] in MY_USERS]
    assert got == [IMG, HOSTILE, "mp_mgr", "mp_other", "mp_user"]
    # the page links to the export with its own filters
    r = js.get("/monitoring/users/?cluster=mpA", a)
    assert 'href="/monitoring/users/?cluster=mpA&amp;format=csv"' in r.text, show(r)
    r = js.get("/monitoring/users/?format=xml", a)
    assert r.status_code == 400, show(r)


def test_role_visibility_of_the_tables(js, data):
    u, m, s = data["mp_user"], data["mp_mgr"], data["mp_sup"]
    for path in ("/monitoring/users/", "/monitoring/projects/", "/monitoring/projects/?format=csv"):
        r = js.get(path, u)
        assert r.status_code == 403, show(r)
        assert "mp_other" not in r.text
    # the navbar offers Users and Projects to manager and above only
    r = js.get("/monitoring/tags/", u)
    assert 'href="/monitoring/users/"' not in r.text and 'href="/monitoring/projects/"' not in r.text, show(r)
    assert 'href="/monitoring/jobs/">Jobs</a>' in r.text and 'href="/monitoring/user/mp_user">My jobs</a>' in r.text
    assert 'href="/monitoring/tags/">Tags</a>' in r.text and 'action="/search"' in r.text
    for c in (m, s):
        r = js.get("/monitoring/tags/", c)
        assert 'href="/monitoring/users/">Users</a>' in r.text and 'href="/monitoring/projects/">Projects</a>' in r.text
    # a manager sees own jobs and the jobs of the managed projects (mp_proj1, =cmd()): 9101 9102 9105 9106 9109
    r = js.get("/monitoring/users/", m)
    everyone = [html.unescape(x.group(2)) for x in ROW_RE.finditer(r.text)]
    assert sorted(everyone) == ["mp_mgr", "mp_other", "mp_user"], show(r)
    rows = by_key(table(r))
    assert rows["mp_user"] == ("Ursula User", 2, 1, "1.03", "4.07", "0.03")
    assert rows["mp_other"] == ('Otto "O" Other, Jr.', 2, 1, "3.02", "192.02", "0.00")
    assert rows["mp_mgr"] == ("-Max Manager", 1, 0, "10.00", "2560.00", "0.00")
    r = js.get("/monitoring/projects/", m)
    everyone = {html.unescape(x.group(2)): int(x.group(5)) for x in ROW_RE.finditer(r.text)}
    assert everyone == {"mp_proj1": 3, FORMULA: 1, "mp_proj3": 1}, show(r)
    r = js.get("/monitoring/users/?format=csv", m)
    assert {row[0] for row in csv.reader(io.StringIO(r.text)) if row} == {"User", "mp_mgr", "mp_other", "mp_user"}, r.text
    # support sees everything
    rows = by_key(table(js.get("/monitoring/users/", s)))
    assert set(rows) == MY_USERS - {"mp_sup"}
    # logged out: the login page
    r = js.get("/monitoring/users/")
    assert r.status_code == 401 and 'action="/login"' in r.text, show(r)


# --- the user page -----------------------------------------------------------

USERSTATS_RE = re.compile(r'<table class="table table-sm w-auto js-userstats">.*?<tbody>\s*<tr>(.*?)</tr>', re.S)


def user_stats(r):
    m = USERSTATS_RE.search(r.text)
    assert m, show(r)
    return re.findall(r'<td class="text-end">([^<]*)</td>', m.group(1))


def test_user_page_own(js, data):
    u = data["mp_user"]
    r = js.get("/monitoring/user/mp_user", u)
    assert r.status_code == 200, show(r)
    assert "<title>User mp_user · jobscope</title>" in r.text
    assert '<dd class="col-sm-10 js-name">Ursula User</dd>' in r.text, show(r)
    assert '<a href="mailto:ursula@example.org">ursula@example.org</a>' in r.text
    assert user_stats(r) == ["4", "1", "3.53", "40.07", "4.03"]
    # the distributions: two SVG histograms over the same 4 jobs
    assert r.text.count("<svg") >= 2
    assert "Duration distribution: 10 bins, total 4" in r.text, show(r)
    assert "Number of nodes distribution: 9 bins, total 4" in r.text
    # the job list holds exactly the user's jobs
    assert "4 jobs match." in r.text
    for jid in (9101, 9102, 9103, 9104):
        assert ">%d</a>" % jid in r.text
    assert ">9105</a>" not in r.text
    # the page's filters apply to everything on it
    r = js.get("/monitoring/user/mp_user?cluster=mpA", u)
    assert user_stats(r) == ["2", "1", "1.03", "4.07", "0.03"], show(r)
    assert "2 jobs match." in r.text and "total 2" in r.text
    # the user= parameter cannot widen the page to somebody else
    r = js.get("/monitoring/user/mp_user?user=mp_other", u)
    assert user_stats(r) == ["4", "1", "3.53", "40.07", "4.03"], show(r)


def test_user_page_visibility(js, data):
    u, m, s, a = data["mp_user"], data["mp_mgr"], data["mp_sup"], data["admin"]
    # a plain user: somebody else's page and no page at all look the same
    r1 = js.get("/monitoring/user/mp_other", u)
    r2 = js.get("/monitoring/user/nobody_here", u)
    assert r1.status_code == 404 and r2.status_code == 404, show(r1)
    assert "Otto" not in r1.text
    msg = re.compile(r'<p class="lead">([^<]*)</p>')
    assert msg.search(r1.text).group(1) == msg.search(r2.text).group(1)
    # a manager: users with jobs in the managed projects, and only those jobs counted
    r = js.get("/monitoring/user/mp_user", m)
    assert r.status_code == 200, show(r)
    assert user_stats(r) == ["2", "1", "1.03", "4.07", "0.03"]
    assert "2 jobs match." in r.text
    assert js.get("/monitoring/user/mp_mgr", m).status_code == 200
    assert js.get("/monitoring/user/%3Cimg%20src=x%20onerror=alert(1)%3E", m).status_code == 404
    assert js.get("/monitoring/user/mp_sup", m).status_code == 404  # exists, but no jobs of the manager's
    # support and admin: everybody who exists
    r = js.get("/monitoring/user/mp_other", s)
    assert r.status_code == 200 and user_stats(r)[:2] == ["3", "1"], show(r)
    assert js.get("/monitoring/user/mp_sup", a).status_code == 200  # a user without jobs
    r = js.get("/monitoring/user/nobody_here", a)
    assert r.status_code == 404, show(r)


def test_user_page_escapes(js, data):
    r = js.get("/monitoring/user/%3Cimg%20src=x%20onerror=alert(1)%3E", data["mp_sup"])
    assert r.status_code == 200, show(r)
    assert IMG not in r.text and "<img src=x" not in r.text
    assert "<title>User %s · jobscope</title>" % IMG_ESC in r.text, show(r)
    assert '<dd class="col-sm-10 js-username">%s</dd>' % IMG_ESC in r.text
    assert user_stats(r) == ["1", "1", "0.07", "0.07", "0.00"]
    # the form posts back to this page, percent-encoded
    assert 'action="/monitoring/user/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E"' in r.text
    assert_tidy(r.text, "user page of %r" % IMG)


# --- tags ----------------------------------------------------------------------

TAG_RE = re.compile(r'<a class="btn btn-outline-primary btn-sm js-tag" href="/monitoring/jobs/\?tag=(\d+)">([^<]*) '
                    r'<span class="badge text-bg-\w+">([^<]*)</span> <span class="badge text-bg-light js-count">(\d+)</span></a>')
TYPE_RE = re.compile(r'<h2 class="h5">([^<]*)</h2>')


def tags(js, client):
    r = js.get("/monitoring/tags/", client)
    assert r.status_code == 200, show(r)
    out = set()
    # walk the page: each tag belongs to the last type heading before it
    pos = [(m.start(), "type", m) for m in TYPE_RE.finditer(r.text)] + \
          [(m.start(), "tag", m) for m in TAG_RE.finditer(r.text)]
    cur = None
    for _, kind, m in sorted(pos, key=lambda x: x[0]):
        if kind == "type":
            cur = html.unescape(m.group(1))
        elif cur in TAG_TYPES:
            out.add((cur, html.unescape(m.group(2)), html.unescape(m.group(3)), int(m.group(4))))
    return r, out


def test_tags_page_by_role(js, data):
    everything = {
        ("mp_app", "vasp", "global", 1), ("mp_app", "gromacs", "global", 1), ("mp_app", "unused", "global", 0),
        ("mp_admin", "flagged", "admin", 1), ("mp_todo", "check", "mp_user", 1), ("mp_todo", "empty", "mp_user", 0),
        ("mp_todo", "secret", "mp_other", 1), ("mp_hostile", HOSTILE, "global", 1),
    }
    _, got = tags(js, data["admin"])
    assert got == everything
    _, got = tags(js, data["mp_sup"])
    assert got == everything
    # a user: global tags on own jobs, own private tags (also unused); no admin tags, nobody else's
    r, got = tags(js, data["mp_user"])
    assert got == {("mp_app", "vasp", "global", 1), ("mp_todo", "check", "mp_user", 1),
                   ("mp_todo", "empty", "mp_user", 0)}, show(r)
    assert "flagged" not in r.text and "secret" not in r.text and "unused" not in r.text
    # a manager: global tags on jobs of the managed projects; mp_user's private tag is not the manager's
    r, got = tags(js, data["mp_mgr"])
    assert got == {("mp_app", "vasp", "global", 1), ("mp_app", "gromacs", "global", 1)}, show(r)
    # grouped by type, linked to the job list
    r = js.get("/monitoring/tags/", data["admin"])
    tid = js.sql("SELECT id FROM tag WHERE tag_type = 'mp_app' AND tag_name = 'vasp'")
    assert 'href="/monitoring/jobs/?tag=%s">vasp ' % tid in r.text, show(r)
    assert r.text.count('<h2 class="h5">mp_app</h2>') == 1
    assert "<title>Tags · jobscope</title>" in r.text


# --- search ----------------------------------------------------------------------

@pytest.mark.parametrize("term,location", [
    ("jobId:9101", "/monitoring/jobs/?jobId=9101"),
    ("  jobId: 9101 ", "/monitoring/jobs/?jobId=9101"),
    ("9101", "/monitoring/jobs/?jobId=9101"),
    ("jobName:vasp relax", "/monitoring/jobs/?jobName=vasp%20relax&startTime=last30d"),
    ("projectId:mp_proj1", "/monitoring/jobs/?projectMatch=eq&project=mp_proj1"),
    ("projectId:a&b=c", "/monitoring/jobs/?projectMatch=eq&project=a%26b%3Dc"),
    ("arrayJobId:77", "/monitoring/jobs/?arrayJobId=77&startTime=last30d"),
    ("username:mp_user", "/monitoring/users/?user=mp_user&startTime=last30d"),
    ("name:Ursula", "/monitoring/users/?name=Ursula"),
    ("mp_other", "/monitoring/user/mp_other"),
    ("mp_sup", "/monitoring/user/mp_sup"),
    ("ursula", "/monitoring/users/?name=ursula"),
    ("mp_proj2", "/monitoring/jobs/?projectMatch=eq&project=mp_proj2"),
    ("=cmd()", "/monitoring/jobs/?projectMatch=eq&project=%3Dcmd%28%29"),
    ("no-such-thing", "/monitoring/jobs/?jobName=no-such-thing&startTime=last30d"),
    ("foo:bar", "/monitoring/jobs/?jobName=foo%3Abar&startTime=last30d"),
    (HOSTILE, "/monitoring/jobs/?userMatch=eq&user=%3Cscript%3Ealert%281%29%3C%2Fscript%3E"),
    ("jobName:" + HOSTILE, "/monitoring/jobs/?jobName=%3Cscript%3Ealert%281%29%3C%2Fscript%3E&startTime=last30d"),
    (IMG, "/monitoring/user/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E"),
    ("", "/monitoring/jobs/"),
    ("   ", "/monitoring/jobs/"),
    ("jobId:", "/monitoring/jobs/"),
])
def test_search_as_admin(js, data, term, location):
    r = js.get("/search", data["admin"], params={"searchId": term})
    assert (r.status_code, r.headers.get("Location")) == (302, location), show(r)


@pytest.mark.parametrize("who,term,location", [
    # a plain user: only oneself is a user; others' names and projects fall through to a job name search
    ("mp_user", "mp_user", "/monitoring/user/mp_user"),
    ("mp_user", "mp_other", "/monitoring/jobs/?jobName=mp_other&startTime=last30d"),
    ("mp_user", "Ursula", "/monitoring/jobs/?jobName=Ursula&startTime=last30d"),
    ("mp_user", "mp_proj2", "/monitoring/jobs/?projectMatch=eq&project=mp_proj2"),
    ("mp_user", "mp_proj3", "/monitoring/jobs/?jobName=mp_proj3&startTime=last30d"),
    ("mp_user", "jobId:9105", "/monitoring/jobs/?jobId=9105"),
    # a manager: users and projects with jobs the manager may see
    ("mp_mgr", "mp_user", "/monitoring/user/mp_user"),
    ("mp_mgr", IMG, "/monitoring/jobs/?jobName=%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E&startTime=last30d"),
    ("mp_mgr", "otto", "/monitoring/users/?name=otto"),
    ("mp_mgr", "mp_proj2", "/monitoring/jobs/?jobName=mp_proj2&startTime=last30d"),
    ("mp_mgr", "username:x", "/monitoring/users/?user=x&startTime=last30d"),
    ("mp_sup", "name:eve", "/monitoring/users/?name=eve"),
])
def test_search_by_role(js, data, who, term, location):
    r = js.get("/search", data[who], params={"searchId": term})
    assert (r.status_code, r.headers.get("Location")) == (302, location), show(r)


def test_search_needs_rights_and_login(js, data):
    for term in ("username:mp_other", "name:Otto"):
        r = js.get("/search", data["mp_user"], params={"searchId": term})
        assert r.status_code == 403, show(r)
        assert "Missing Access Rights" in r.text
        assert "Location" not in r.headers
        assert_tidy(r.text, "search 403")
    r = js.get("/search", params={"searchId": "mp_user"})
    assert r.status_code == 401 and 'action="/login"' in r.text, show(r)
    r = js.get("/search", data["admin"], params={"searchId": "x" * 300})
    assert r.status_code == 400, show(r)


# --- escaping and markup -----------------------------------------------------------

def test_hostile_strings_are_escaped(js, data):
    a = data["admin"]
    for path in ("/monitoring/users/", "/monitoring/projects/", "/monitoring/tags/",
                 "/monitoring/users/?user=%3Cscript%3E", "/monitoring/user/mp_user?cluster=%3Cscript%3E"):
        r = js.get(path, a)
        assert r.status_code == 200, show(r)
        assert "<script" not in r.text and "<b>Evil" not in r.text and "<img" not in r.text.replace(
            '<img src="/static/img/logo.svg"', ""), "%s%s" % (path, show(r))
    r = js.get("/monitoring/users/", a)
    assert ">%s</a>" % HOSTILE_ESC in r.text and "&lt;b&gt;Evil&lt;/b&gt; Eve" in r.text, show(r)
    # a username with '/' has no user page of its own: the link goes to its jobs
    assert 'href="/monitoring/jobs/?userMatch=eq&amp;user=%3Cscript%3Ealert%281%29%3C%2Fscript%3E"' in r.text
    r = js.get("/monitoring/projects/", a)
    assert ">%s</a>" % HOSTILE_ESC in r.text, show(r)
    r = js.get("/monitoring/tags/", a)
    assert ">%s <span" % HOSTILE_ESC in r.text, show(r)
    r = js.get("/monitoring/users/?user=%3Cscript%3E", a)
    assert 'value="&lt;script&gt;"' in r.text, show(r)


def test_pages_pass_tidy(js, data):
    pages = [
        ("admin", "/monitoring/users/"), ("admin", "/monitoring/projects/"), ("admin", "/monitoring/tags/"),
        ("admin", "/monitoring/users/?cluster=mpA&sort=name&order=asc&state=running"),
        ("admin", "/monitoring/projects/?project=nothing-matches"),
        ("admin", "/monitoring/user/mp_user"), ("admin", "/monitoring/user/mp_sup"),
        ("mp_mgr", "/monitoring/users/"), ("mp_mgr", "/monitoring/projects/"), ("mp_mgr", "/monitoring/tags/"),
        ("mp_user", "/monitoring/user/mp_user"), ("mp_user", "/monitoring/tags/"),
        ("mp_user", "/monitoring/user/mp_other"), ("mp_user", "/monitoring/users/"),
        ("mp_sup", "/monitoring/user/mp_other"), ("mp_sup", "/monitoring/tags/"),
    ]
    for who, path in pages:
        r = js.get(path, data[who])
        assert r.status_code in (200, 403, 404), show(r)
        assert r.headers["Content-Type"] == "text/html; charset=utf-8", show(r)
        assert_tidy(r.text, "%s as %s" % (path, who))
