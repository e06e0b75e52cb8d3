"""LDAP (auth.ldap): login, sync-user-on-login, -sync-ldap, the periodic sync and a
directory that is down, against a real slapd (tests/lib/slapd.py) with the test
directory tests/data/ldap/directory.ldif.

The module runs its own site (jobscope + nginx, database jobscope_ldap_<pid>)
whose config.json has an auth.ldap section and whose .env has
LDAP_ADMIN_PASSWORD.  Tests that change the LDAP settings reload it (SIGHUP)
through the `configured` fixture; tests that change the directory put it back.
"""

import json
import os
import re
import resource
import shutil
import socket
import sys
import time

import pytest
import requests

from conftest import SRCDIR, USERS, PsqlSession, Site, run_jobscope, tmp_root
from jshelpers import show, wait_for

sys.path.insert(0, os.path.join(SRCDIR, "tests", "lib"))
import slapd as slapdlib  # noqa: E402

PW = {
    "ada": "ada-Secret-1",
    "grace": "grace-Secret-2",
    "we*ird(user)\\,x": "weird-Secret-3",
    '#x+y"q"<a>;b=c': "meta-Secret-4",
    "jürgen": "juergen-Secret-5",
    "leaver": "leaver-Secret-6",
    "carol": "carol-Secret-7",
    "twin": "twin-Secret-8",
    "nogecos": "nogecos-Secret-10",
    "disabled": "disabled-Secret-11",
    "outsider": "outsider-Secret-12",
}
WEIRD, META = "we*ird(user)\\,x", '#x+y"q"<a>;b=c'
CAROL_LOCAL_PW = "carol-Local-1"
NAMED = ["ada", "grace", WEIRD, META, "jürgen", "leaver", "twin", "nogecos"]  # in user-base, matching the filter
LEAVER_LDIF = """dn: uid=leaver,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
objectClass: posixAccount
uid: leaver
cn: Leaving Soon
sn: Soon
uidNumber: 10006
gidNumber: 10000
homeDirectory: /home/u10006
gecos: Leaving Soon
userPassword: leaver-Secret-6
"""


def ldap_section(url):
    return {
        "url": url,
        "user-base": slapdlib.PEOPLE,
        "search-dn": slapdlib.READER_DN,
        "user-bind": "uid={username},%s" % slapdlib.PEOPLE,
        "user-filter": "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))",
        "username-attr": "gecos",
        "uid-attr": "uid",
    }


class LdapSite(Site):
    """The suite's Site with its own database and an auth.ldap section."""

    def __init__(self, root, ldap, ca):
        super().__init__(root)
        self.ca = ca
        self.db = "jobscope_ldap_%d" % os.getpid()
        self.psql = PsqlSession(self.db)
        self.ldap = dict(ldap)

    def config_dict(self):
        d = super().config_dict()
        d["auth"]["ldap"] = dict(self.ldap)
        return d

    def write_config(self, d=None, raw=None):
        super().write_config(d, raw)
        env = os.path.join(self.T, ".env")
        if os.path.exists(env) and not re.search(r"^LDAP_ADMIN_PASSWORD=", open(env).read(), re.M):
            with open(env, "a") as f:
                f.write('LDAP_ADMIN_PASSWORD="%s"\n' % slapdlib.READER_PW)
                # libldap reads its TLS_CACERT setting from the environment, which .env fills
                f.write('LDAPTLS_CACERT="%s"\n' % self.ca)


@pytest.fixture(scope="module")
def directory():
    s = slapdlib.Slapd(os.path.join(tmp_root(), "slapd"))
    try:
        s.setup()
    except BaseException:
        s.cleanup()
        raise
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def ls(js, directory):
    # below extra-*/site, where run.sh looks for jobscope.pid files left behind
    site = LdapSite(os.path.join(tmp_root(), "extra-ldap", "site"), ldap_section(directory.url), directory.ca)
    os.makedirs(os.path.dirname(site.T))
    try:
        site.setup()
        p = run_jobscope(["-config", site.config, "-add-user", "carol:user:" + CAROL_LOCAL_PW], cwd=site.T)
        assert p.returncode == 0, p.stderr
    except BaseException:
        try:
            site.teardown()
        finally:
            print("jobscope log:\n" + site.log_tail(80))
        raise
    yield site
    site.teardown()


@pytest.fixture
def configured(ls):
    """configured(**settings): auth.ldap with these changes, reloaded; put back afterwards."""
    base = dict(ls.ldap)

    def apply(**kw):
        ls.ldap = dict(base)
        for k, v in kw.items():
            k = k.replace("_", "-")
            if v is None:
                ls.ldap.pop(k, None)
            else:
                ls.ldap[k] = v
        ls.write_config()
        assert ls.hup_and_wait(), ls.log_tail()
    yield apply
    if ls.ldap != base:
        ls.ldap = base
        ls.write_config()
        assert ls.hup_and_wait(), ls.log_tail()


@pytest.fixture
def up(directory):
    """The directory runs at the start and at the end of the test."""
    if not directory.running():
        directory.start()
    yield directory
    if not directory.running():
        directory.start()


def sync(ls, extra=None, env=None, timeout=120):
    """jobscope -sync-ldap with the site's config (auth.ldap changed by extra)."""
    d = ls.config_dict()
    d["auth"]["ldap"].update(extra or {})
    path = os.path.join(ls.T, "sync-config.json")
    with open(path, "w") as f:
        json.dump(d, f)
    return run_jobscope(["-config", path, "-sync-ldap"], cwd=ls.T, env=env, timeout=timeout)


def ldap_users(ls):
    """{username: (roles, name)} of the auth source LDAP rows, bulk users left out."""
    out = {}
    rows = ls.sql("SELECT json_agg(json_build_array(username, roles, name)) FROM hpc_user "
                  "WHERE auth_source = 1 AND username NOT LIKE 'bulk%'")
    for u, roles, name in json.loads(rows or "null") or []:
        out[u] = (roles, name)
    return out


def snapshot(ls):
    return (ls.sql("SELECT string_agg(username || ':' || auth_source || ':' || array_to_string(roles, ',') || ':' || "
                   "coalesce(name, '-'), '|' ORDER BY username) FROM hpc_user"), ls.sessions())


# The login rate limit (5 failures per 15 minutes per address and name) is not what these tests are
# about, and they fail many logins from 127.0.0.1: its buckets are emptied before every attempt.
NO_RATE_LIMIT = ("DO $$ BEGIN IF to_regclass('login_attempt') IS NOT NULL THEN DELETE FROM login_attempt; "
                 "END IF; END $$")


def login(ls, username, password, client=None):
    ls.sql(NO_RATE_LIMIT)
    c = client or requests.Session()
    _, token = ls.login_form(c)
    r = ls.post("/login", c, data={"username": username, "password": password, "csrf_token": token}, timeout=60)
    return c, r


def logs_since(text_before, text_now):
    return text_now[len(text_before):]


def assert_logged_in(ls, c, r, username):
    assert r.status_code == 302 and r.headers["Location"] == "/", show(r)
    assert c.cookies.get("session"), show(r)
    home = ls.get("/", c)
    assert home.status_code == 200, show(home)
    assert ls.sessions(username) >= 1


def assert_refused(r):
    assert r.status_code == 401, show(r)
    assert "Invalid username or password." in r.text, show(r)


@pytest.fixture
def synced(ls, up):
    """The directory's users are in the database (a -sync-ldap run)."""
    p = sync(ls)
    assert p.returncode == 0, p.stdout + p.stderr
    return ls


# --- -sync-ldap ---------------------------------------------------------------------------


def test_sync_adds_directory_users(ls, up):
    ls.sql("DELETE FROM hpc_user WHERE auth_source = 1")
    p = sync(ls)
    assert p.returncode == 0, p.stdout + p.stderr
    # 300 bulk users + the 8 named ones + carol; the reader's limit is 250 a search: paged results work
    assert "LDAP sync: 309 users in the directory: 308 added, 0 deleted" in p.stdout, p.stdout
    assert "1 left alone because a local account has the name" in p.stdout, p.stdout
    assert "added LDAP user ada (Ada Lovelace)\n" in p.stdout, p.stdout
    assert "added LDAP user %s (Weird User)\n" % WEIRD in p.stdout, p.stdout
    users = ldap_users(ls)
    assert users == {
        "ada": (["user"], "Ada Lovelace"),
        "grace": (["user"], "Grace Hopper"),
        WEIRD: (["user"], "Weird User"),
        META: (["user"], "Meta Chars"),
        "jürgen": (["user"], "Juergen Mueller"),
        "leaver": (["user"], "Leaving Soon"),
        "twin": (["user"], "Twin One"),
        "nogecos": (["user"], None),
    }, users
    assert ls.sql("SELECT count(*) FROM hpc_user WHERE auth_source = 1 AND username LIKE 'bulk%'") == "300"
    assert ls.sql("SELECT count(*) FROM hpc_user WHERE auth_source = 1 AND password IS NOT NULL") == "0"
    # the local carol stays local; the filter and the base keep disabled and outsider out
    assert ls.sql("SELECT auth_source FROM hpc_user WHERE username = 'carol'") == "0"
    assert ls.sql("SELECT count(*) FROM hpc_user WHERE username IN ('disabled', 'outsider')") == "0"
    # again: nothing to do
    p = sync(ls)
    assert p.returncode == 0, p.stderr
    assert "LDAP sync: 309 users in the directory: 0 added, 0 deleted" in p.stdout, p.stdout
    assert "added" not in p.stdout.replace("0 added", ""), p.stdout


def test_vanished_user_kept_or_deleted(ls, synced, directory):
    c, r = login(ls, "leaver", PW["leaver"])
    assert_logged_in(ls, c, r, "leaver")
    directory.delete("uid=leaver," + slapdlib.PEOPLE)
    try:
        before = snapshot(ls)
        p = sync(ls, {"sync-del-old-users": False})
        assert p.returncode == 0, p.stderr
        assert "0 added, 0 deleted, 1 no longer in the directory kept (sync-del-old-users is off)" in p.stdout, p.stdout
        assert snapshot(ls) == before
        assert ls.get("/", c).status_code == 200
        # still known as an LDAP user, but the directory no longer lets it in
        _, r = login(ls, "leaver", PW["leaver"])
        assert_refused(r)

        p = sync(ls, {"sync-del-old-users": True})
        assert p.returncode == 0, p.stderr
        assert "deleted LDAP user leaver (no longer in the directory)\n" in p.stdout, p.stdout
        assert "308 users in the directory: 0 added, 1 deleted" in p.stdout, p.stdout
        assert "leaver" not in ldap_users(ls)
        assert ls.sessions("leaver") == 0
        assert ls.get("/", c).status_code == 401, "the session of a deleted user still works"
        # only LDAP rows go: the local users are all there
        for name in ("admin", "alice", "carol", USERS["meta"][0]):
            assert ls.sql("SELECT count(*) FROM hpc_user WHERE username = '%s'" % name.replace("'", "''")) == "1", name
        assert len(ldap_users(ls)) == len(NAMED) - 1
    finally:
        directory.add(LEAVER_LDIF)
    p = sync(ls)
    assert "added LDAP user leaver (Leaving Soon)" in p.stdout, p.stdout


@pytest.mark.parametrize("change,says", [
    ({"user-filter": None}, "auth.ldap.user-filter: required"),
    ({"url": ""}, "auth.ldap.url: required"),
    ({"user-bind": "uid=x,ou=people,dc=example,dc=org"}, "auth.ldap.user-bind: expected a DN with \"{username}\""),
    ({"url": "http://127.0.0.1:389"}, "auth.ldap.url: expected ldap://host[:port] (plain) or ldaps://host[:port] (TLS)"),
    ({"uid-attr": "uid)(cn=*"}, "auth.ldap.uid-attr: expected an attribute name"),
    ({"sync-interval": "often"}, "auth.ldap.sync-interval: expected a duration"),
    ({"no-such-key": 1}, "auth.ldap.no-such-key: unknown key"),
], ids=["no-filter", "empty-url", "bind-without-placeholder", "http-url", "bad-attr", "bad-interval", "unknown-key"])
def test_bad_ldap_config_is_refused(ls, change, says):
    d = ls.config_dict()
    for k, v in change.items():
        if v is None:
            d["auth"]["ldap"].pop(k)
        else:
            d["auth"]["ldap"][k] = v
    path = os.path.join(ls.T, "bad-config.json")
    with open(path, "w") as f:
        json.dump(d, f)
    for args in (["-sync-ldap"], ["-server"]):
        p = run_jobscope(["-config", path] + args, cwd=ls.T)
        assert p.returncode == 1, (args, p.stdout, p.stderr)
        assert says in p.stderr, (args, p.stderr)
        assert path in p.stderr, p.stderr


def test_sync_ldap_flag_in_help(ls):
    p = run_jobscope(["-help"], cwd=ls.T)
    assert p.returncode == 0 and "-sync-ldap" in p.stdout, p.stdout


def test_sync_without_ldap_section_or_password(ls, up):
    d = ls.config_dict()
    del d["auth"]["ldap"]
    path = os.path.join(ls.T, "no-ldap.json")
    with open(path, "w") as f:
        json.dump(d, f)
    p = run_jobscope(["-config", path, "-sync-ldap"], cwd=ls.T)
    assert p.returncode == 1 and "has no auth.ldap section" in p.stderr, p.stderr
    # an empty LDAP_ADMIN_PASSWORD would be an anonymous bind: refused before binding
    before = snapshot(ls)
    p = sync(ls, env={"LDAP_ADMIN_PASSWORD": ""})
    assert p.returncode == 1, p.stdout
    assert "LDAP_ADMIN_PASSWORD is not set" in p.stderr, p.stderr
    assert snapshot(ls) == before
    # a wrong one: the directory says so, nothing changes
    p = sync(ls, env={"LDAP_ADMIN_PASSWORD": "wrong"})
    assert p.returncode == 1, p.stdout
    assert 'bind as search-dn "cn=reader,dc=example,dc=org"' in p.stderr and "Invalid credentials" in p.stderr, p.stderr
    assert snapshot(ls) == before


# --- login ---------------------------------------------------------------------------------


def test_ldap_login(ls, synced):
    c, r = login(ls, "ada", PW["ada"])
    assert_logged_in(ls, c, r, "ada")
    assert ">Ada Lovelace</span>" in ls.get("/", c).text  # the display name from gecos
    log = ls.log_text()
    assert 'user "ada" logged in' in log


@pytest.mark.parametrize("password", ["wrong", PW["ada"] + " ", PW["ada"].upper(), PW["grace"]])
def test_ldap_login_wrong_password(ls, synced, password):
    before = snapshot(ls)
    c, r = login(ls, "ada", password)
    assert_refused(r)
    assert "session" not in c.cookies
    assert snapshot(ls) == before


def test_ldap_user_never_uses_a_local_hash(ls, synced):
    """A bcrypt hash on an LDAP row (copied from alice) does not open it: LDAP users bind."""
    ls.sql("UPDATE hpc_user SET password = (SELECT password FROM hpc_user WHERE username = 'alice') WHERE username = 'ada'")
    try:
        _, r = login(ls, "ada", USERS["user"][1])
        assert_refused(r)
        c, r = login(ls, "ada", PW["ada"])
        assert_logged_in(ls, c, r, "ada")
    finally:
        ls.sql("UPDATE hpc_user SET password = NULL WHERE username = 'ada'")


def test_local_users_unaffected(ls, synced):
    c, r = login(ls, USERS["user"][0], USERS["user"][1])
    assert_logged_in(ls, c, r, "alice")
    # carol is local here and in the directory: her local password counts, the directory's does not
    c, r = login(ls, "carol", CAROL_LOCAL_PW)
    assert_logged_in(ls, c, r, "carol")
    _, r = login(ls, "carol", PW["carol"])
    assert_refused(r)


@pytest.mark.parametrize("name", [WEIRD, META, "jürgen", "nogecos"])
def test_metacharacter_users_log_in(ls, synced, directory, name):
    c, r = login(ls, name, PW[name])
    assert_logged_in(ls, c, r, name)
    _, r = login(ls, name, "wrong")
    assert_refused(r)


def test_bind_dn_is_escaped(ls, synced, directory):
    """The bind DN carries the RFC 4514 escapes; slapd logs the DN it was asked for."""
    mark = len(directory.log_text())
    c, r = login(ls, WEIRD, PW[WEIRD])
    assert_logged_in(ls, c, r, WEIRD)
    c, r = login(ls, META, PW[META])
    assert_logged_in(ls, c, r, META)
    log = directory.log_text()[mark:]
    binds = re.findall(r'BIND dn="([^"]*)"', log)
    assert "uid=we*ird(user)\\5C\\2Cx,ou=people,dc=example,dc=org" in binds, binds
    assert "uid=\\23x\\2By\\22q\\22\\3Ca\\3E\\3Bb\\3Dc,ou=people,dc=example,dc=org" in binds, binds


INJECTIONS = ["*", "*)(uid=*", "admin)(|(uid=*", "ada)(uid=ada", "ada*", "*)(objectClass=*", "ad*a",
              "ada,ou=people,dc=example,dc=org", "uid=ada,ou=people,dc=example,dc=org", "ada\\", "ada)",
              "cn=reader,dc=example,dc=org", "ADA", " ada", "ada "]


@pytest.mark.parametrize("sync_on_login", [False, True], ids=["plain", "sync-user-on-login"])
def test_injection_usernames_fail_and_change_nothing(ls, synced, configured, directory, sync_on_login):
    configured(sync_user_on_login=sync_on_login)
    keep = login(ls, "ada", PW["ada"])[0]
    before = snapshot(ls)
    mark = len(directory.log_text())
    for name in INJECTIONS:
        for pw in (PW["ada"], slapdlib.READER_PW, "x"):
            c, r = login(ls, name, pw)
            assert_refused(r)
            assert "session" not in c.cookies, name
    assert snapshot(ls) == before
    assert ls.get("/", keep).status_code == 200
    if sync_on_login:
        # every name reached the directory as one escaped filter value
        log = directory.log_text()[mark:]
        filters = re.findall(r'SRCH base="[^"]*" scope=2 deref=0 filter="([^"]*)"', log)
        assert any("(uid=\\2A\\29\\28uid=\\2A)" in f for f in filters), filters
        assert not any(f.endswith("(uid=*))") for f in filters), filters


def test_empty_password_never_reaches_the_directory(ls, synced, directory):
    mark = len(directory.log_text())
    before = snapshot(ls)
    c = requests.Session()
    _, token = ls.login_form(c)
    r = ls.post("/login", c, data={"username": "ada", "password": "", "csrf_token": token})
    assert r.status_code == 400, show(r)
    assert snapshot(ls) == before
    time.sleep(0.2)
    assert "uid=ada," not in directory.log_text()[mark:]


# --- sync-user-on-login and update-user-on-login ------------------------------------------------


def test_sync_user_on_login_creates_the_user(ls, up, configured):
    ls.sql("DELETE FROM hpc_user WHERE username IN ('grace', 'twin', 'GRACE')")
    # off: an unknown user does not get in, even with the right password
    _, r = login(ls, "grace", PW["grace"])
    assert_refused(r)
    assert ls.sql("SELECT count(*) FROM hpc_user WHERE username = 'grace'") == "0"

    configured(sync_user_on_login=True)
    before = snapshot(ls)
    # a wrong password creates nothing (cc-backend would add the row before the bind)
    _, r = login(ls, "grace", "wrong")
    assert_refused(r)
    # two entries, excluded by the filter, outside user-base, another spelling, unknown: nothing
    for name in ("twin", "disabled", "outsider", "GRACE", "nobody"):
        _, r = login(ls, name, PW.get(name.lower(), "x"))
        assert_refused(r)
    assert snapshot(ls) == before
    assert "several entries under ou=people,dc=example,dc=org match" in ls.log_text()
    # the right password: created, then logged in
    c, r = login(ls, "grace", PW["grace"])
    assert_logged_in(ls, c, r, "grace")
    assert ls.sql("SELECT auth_source || ' ' || array_to_string(roles, ',') || ' ' || name FROM hpc_user "
                  "WHERE username = 'grace'") == "1 user Grace Hopper"
    assert 'user "grace" added from the directory at first login (sync-user-on-login)' in ls.log_text()
    # a second login finds the user
    c, r = login(ls, "grace", PW["grace"])
    assert_logged_in(ls, c, r, "grace")
    # the metacharacter user too
    ls.sql("DELETE FROM hpc_user WHERE username = '%s'" % WEIRD.replace("'", "''"))
    c, r = login(ls, WEIRD, PW[WEIRD])
    assert_logged_in(ls, c, r, WEIRD)
    assert ldap_users(ls)[WEIRD] == (["user"], "Weird User")
    # local users are not looked up in the directory
    c, r = login(ls, "carol", CAROL_LOCAL_PW)
    assert_logged_in(ls, c, r, "carol")


def test_update_user_on_login(ls, synced, configured, directory):
    def rename(gecos):
        directory.modify("dn: uid=ada,%s\nchangetype: modify\nreplace: gecos\ngecos: %s\n" % (slapdlib.PEOPLE, gecos))
    rename("Ada King")
    try:
        c, r = login(ls, "ada", PW["ada"])
        assert_logged_in(ls, c, r, "ada")
        assert ldap_users(ls)["ada"][1] == "Ada Lovelace"  # off: the name stays
        configured(update_user_on_login=True)
        c, r = login(ls, "ada", PW["ada"])
        assert_logged_in(ls, c, r, "ada")
        assert ldap_users(ls)["ada"][1] == "Ada King"
    finally:
        rename("Ada Lovelace")
        ls.sql("UPDATE hpc_user SET name = 'Ada Lovelace' WHERE username = 'ada'")


# --- periodic sync ------------------------------------------------------------------------------


def test_periodic_sync(ls, synced, configured, directory):
    ldif = ("dn: uid=newbie,%s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: newbie\ncn: New Bie\n"
            "sn: Bie\nuidNumber: 10100\ngidNumber: 10000\nhomeDirectory: /home/newbie\ngecos: New Bie\n"
            "userPassword: newbie-Secret-13\n" % slapdlib.PEOPLE)
    directory.add(ldif)
    try:
        assert ls.sql("SELECT count(*) FROM hpc_user WHERE username = 'newbie'") == "0"
        configured(sync_interval="1s")
        wait_for(lambda: ls.sql("SELECT count(*) FROM hpc_user WHERE username = 'newbie'") == "1", 20,
                 what="the task runner's sync to add newbie")
        assert ldap_users(ls)["newbie"] == (["user"], "New Bie")
        assert "LDAP sync: 310 users in the directory: 1 added, 0 deleted" in ls.log_text()
        c, r = login(ls, "newbie", "newbie-Secret-13")
        assert_logged_in(ls, c, r, "newbie")
        # gone from the directory, kept (sync-del-old-users off), then deleted when it is on
        directory.delete("uid=newbie," + slapdlib.PEOPLE)
        mark = len(ls.log_text())
        wait_for(lambda: "1 no longer in the directory kept" in ls.log_text()[mark:], 20, what="a sync that keeps newbie")
        assert ls.sql("SELECT count(*) FROM hpc_user WHERE username = 'newbie'") == "1"
        configured(sync_interval="1s", sync_del_old_users=True)
        wait_for(lambda: ls.sql("SELECT count(*) FROM hpc_user WHERE username = 'newbie'") == "0", 20,
                 what="the task runner's sync to delete newbie")
        assert 'LDAP sync: deleted user "newbie" (no longer in the directory)' in ls.log_text()
    finally:
        if "newbie" in directory.search("(uid=newbie)", ["uid"]):
            directory.delete("uid=newbie," + slapdlib.PEOPLE)
        ls.sql("DELETE FROM hpc_user WHERE username = 'newbie'")


# --- TLS -----------------------------------------------------------------------------------------


def test_ldaps_sync_and_login(ls, synced, configured, directory):
    p = sync(ls, {"url": directory.tls_url}, env={"LDAPTLS_CACERT": directory.ca})
    assert p.returncode == 0, p.stderr
    assert "LDAP sync: 309 users in the directory: 0 added, 0 deleted" in p.stdout, p.stdout
    configured(url=directory.tls_url)
    mark = len(directory.log_text())
    c, r = login(ls, "ada", PW["ada"])
    assert_logged_in(ls, c, r, "ada")
    _, r = login(ls, "ada", "wrong")
    assert_refused(r)
    log = directory.log_text()[mark:]
    assert "ACCEPT from IP=127.0.0.1" in log and "(IP=127.0.0.1:%d)" % directory.tls_port in log, log[-2000:]
    assert "TLS established" in log, log[-2000:]


def test_ldaps_untrusted_certificate(ls, synced, directory):
    """A certificate the CA list does not vouch for: no connection, nothing changes."""
    before = snapshot(ls)
    p = sync(ls, {"url": directory.tls_url, "sync-del-old-users": True},
             env={"LDAPTLS_CACERT": "/etc/ssl/certs/ca-certificates.crt"})
    assert p.returncode == 1, p.stdout
    assert "jobscope: -sync-ldap: LDAP server %s: TLS handshake failed" % directory.tls_url in p.stderr, p.stderr
    assert "trusted through TLS_CACERT in ldap.conf or LDAPTLS_CACERT" in p.stderr, p.stderr
    assert snapshot(ls) == before


def test_ldaps_host_name_is_checked(ls, synced, directory):
    """The certificate is for 127.0.0.1 only: the same server as "localhost" is refused."""
    url = "ldaps://localhost:%d" % directory.tls_port
    before = snapshot(ls)
    p = sync(ls, {"url": url, "sync-del-old-users": True}, env={"LDAPTLS_CACERT": directory.ca})
    assert p.returncode == 1, p.stdout
    assert "jobscope: -sync-ldap: LDAP server %s: TLS handshake failed" % url in p.stderr, p.stderr
    assert snapshot(ls) == before


def test_ldaps_server_that_does_not_answer(ls, up):
    """TCP accepted, TLS never answered: the handshake ends after 10 s, without spinning on the CPU."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    port = s.getsockname()[1]
    try:
        before = snapshot(ls)
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        p = sync(ls, {"url": "ldaps://127.0.0.1:%d" % port, "sync-del-old-users": True}, timeout=60)
        took = time.monotonic() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert p.returncode == 1, p.stdout
        assert "LDAP server ldaps://127.0.0.1:%d did not complete the TLS handshake within 10 s" % port in p.stderr, p.stderr
        assert 9 < took < 25, "took %.1f s" % took
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        assert cpu < 5, "the wait cost %.1f s of CPU" % cpu
        assert snapshot(ls) == before
    finally:
        s.close()


def test_plain_ldap_to_the_tls_port_fails_cleanly(ls, synced, directory):
    p = sync(ls, {"url": "ldap://127.0.0.1:%d" % directory.tls_port})
    assert p.returncode == 1, p.stdout
    assert "127.0.0.1:%d" % directory.tls_port in p.stderr, p.stderr


# --- the directory is down ----------------------------------------------------------------------


def test_directory_down(ls, synced, configured, directory):
    configured(sync_user_on_login=True)
    url = directory.url
    directory.stop()
    try:
        before = snapshot(ls)
        mark = len(ls.log_text())
        for name in ("ada", "grace-unknown"):
            t0 = time.monotonic()
            c, r = login(ls, name, PW.get(name, "x"))
            assert time.monotonic() - t0 < 12, "the refused login took %.1f s" % (time.monotonic() - t0)
            assert_refused(r)
        log = ls.log_text()[mark:]
        assert ('LDAP login of user "ada" from 127.0.0.1 impossible: LDAP server %s unreachable: '
                "Can't contact LDAP server" % url) in log, log
        assert 'LDAP login of user "grace-unknown"' in log and "unreachable" in log, log
        assert PW["ada"] not in log
        # local accounts keep working
        c, r = login(ls, USERS["user"][0], USERS["user"][1])
        assert_logged_in(ls, c, r, "alice")
        # the sync fails, and deletes nothing, even with sync-del-old-users
        p = sync(ls, {"sync-del-old-users": True})
        assert p.returncode == 1, p.stdout
        assert "jobscope: -sync-ldap: LDAP server %s unreachable: Can't contact LDAP server" % url in p.stderr, p.stderr
        after = snapshot(ls)
        assert after[0] == before[0]
    finally:
        directory.start()
    c, r = login(ls, "ada", PW["ada"])
    assert_logged_in(ls, c, r, "ada")


def test_directory_that_does_not_answer(ls, up):
    """A server that accepts the connection and never answers: the operation timeout (30 s) ends it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    port = s.getsockname()[1]
    try:
        before = snapshot(ls)
        t0 = time.monotonic()
        p = sync(ls, {"url": "ldap://127.0.0.1:%d" % port, "sync-del-old-users": True}, timeout=90)
        took = time.monotonic() - t0
        assert p.returncode == 1, p.stdout
        assert "LDAP server ldap://127.0.0.1:%d did not answer" % port in p.stderr, p.stderr
        assert "within 30 s" in p.stderr, p.stderr
        assert 25 < took < 50, "took %.1f s" % took
        assert snapshot(ls) == before
    finally:
        s.close()
