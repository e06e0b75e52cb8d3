"""The command line: flags, exit codes and messages; config and schema checks at start."""

import json
import os
import re
import shutil
import stat

import pytest
import requests

from conftest import psql, run_jobscope
from jshelpers import csrf_from


@pytest.fixture
def scratch(tmp_path, js):
    """An empty working directory with a valid .env and config.json (the site's database)."""
    shutil.copy(os.path.join(js.T, ".env"), tmp_path / ".env")
    d = js.config_dict()
    d["main"]["fcgi-socket"] = str(tmp_path / "cli.sock")
    (tmp_path / "config.json").write_text(json.dumps(d))
    (tmp_path / "var").mkdir()
    shutil.copytree(os.path.join(js.var, "job-archive"), tmp_path / "var" / "job-archive")
    return tmp_path


def one_line(text):
    lines = [l for l in text.splitlines() if l.strip() and not l.startswith("==")]  # ASan notes start with ==
    assert len(lines) == 1, "expected one line, got %r" % text
    return lines[0]


def test_version(scratch):
    p = run_jobscope(["-version"], cwd=scratch)
    assert p.returncode == 0, p.stderr
    assert re.match(r"jobscope \d+\.\d+", p.stdout), p.stdout
    assert re.search(r"^database schema version \d+$", p.stdout, re.M), p.stdout
    assert "job archive version 3" in p.stdout
    # -version needs neither config nor database
    p2 = run_jobscope(["-config", "/nonexistent/config.json", "--version"], cwd=scratch)
    assert (p2.returncode, p2.stdout) == (0, p.stdout)


def test_help(scratch):
    p = run_jobscope(["-help"], cwd=scratch)
    assert p.returncode == 0
    for flag in ("-config", "-server", "-migrate-db", "-add-user", "-version", "-init"):
        assert flag in p.stdout, p.stdout


@pytest.mark.parametrize("args,says", [
    (["-nosuchflag"], "unknown flag -nosuchflag"),
    (["--nosuchflag=1"], "unknown flag -nosuchflag"),
    (["-loglevel", "loud"], "-loglevel expects"),
    (["-loglevel=loud"], "-loglevel expects"),
    (["-server=maybe"], "-server expects true or false"),
    (["-config"], "flag -config needs a value"),
    (["server"], "unexpected argument \"server\""),
    (["-"], "unexpected argument"),
])
def test_bad_flags_exit_2_with_one_line(scratch, args, says):
    p = run_jobscope(args, cwd=scratch)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    line = one_line(p.stderr)
    assert says in line, line
    assert p.stdout == ""


def test_no_server_flag(scratch):
    p = run_jobscope(["-config", "config.json"], cwd=scratch)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "No errors, server flag not set"


@pytest.mark.parametrize("main,named", [
    ({"no-such-key": 1}, "main.no-such-key: unknown key"),
    ({"workers": "two"}, "main.workers: expected an integer"),
    ({"workers": 0}, "main.workers: expected 1 to 1024"),
    ({"session-max-age": "a week"}, "main.session-max-age: expected a duration"),
    ({"max-body-size": 10}, "main.max-body-size"),
    ({"db-config": {"typo": 1}}, "main.db-config.typo: unknown key"),
])
def test_bad_config_stops_startup(scratch, main, named):
    d = json.loads((scratch / "config.json").read_text())
    d["main"].update(main)
    (scratch / "config.json").write_text(json.dumps(d))
    for args in (["-config", "config.json", "-server"], ["-config", "config.json", "-migrate-db"]):
        p = run_jobscope(args, cwd=scratch, timeout=30)
        assert p.returncode == 1, (args, p.returncode, p.stdout, p.stderr)
        line = one_line(p.stderr)
        assert "config.json" in line and named in line, line
    assert not (scratch / "cli.sock").exists()


def test_unknown_section_and_bad_json(scratch):
    (scratch / "config.json").write_text('{"mian": {}}')
    p = run_jobscope(["-config", "config.json", "-server"], cwd=scratch, timeout=30)
    assert p.returncode == 1 and "mian: unknown section" in p.stderr, p.stderr
    (scratch / "config.json").write_text('{"main": {"workers": 2,}}')
    p = run_jobscope(["-config", "config.json", "-server"], cwd=scratch, timeout=30)
    assert p.returncode == 1 and "config.json" in one_line(p.stderr), p.stderr


def test_missing_env(scratch):
    (scratch / ".env").unlink()
    p = run_jobscope(["-config", "config.json", "-server"], cwd=scratch, timeout=30)
    assert p.returncode == 1, p.stderr
    assert ".env" in one_line(p.stderr) and "SESSION_KEY" in p.stderr, p.stderr


def test_bad_session_key(scratch):
    (scratch / ".env").write_text("SESSION_KEY=\"not base64!\"\n")
    p = run_jobscope(["-config", "config.json", "-server"], cwd=scratch, timeout=30)
    assert p.returncode == 1 and "SESSION_KEY" in one_line(p.stderr), p.stderr


@pytest.fixture
def scratch_db(js):
    name = js.db + "_cli"
    psql('CREATE DATABASE "%s"' % name)
    yield name
    psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name, check=False)


def test_schema_version_checks(scratch, scratch_db):
    d = json.loads((scratch / "config.json").read_text())
    d["main"]["db"] = "dbname=" + scratch_db
    (scratch / "config.json").write_text(json.dumps(d))
    # an empty database: -server refuses and says what to do
    p = run_jobscope(["-config", "config.json", "-server"], cwd=scratch, timeout=30)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "-migrate-db" in one_line(p.stderr) and "version 0" in p.stderr, p.stderr
    # migrated: fine (without -server it stops after the checks)
    p = run_jobscope(["-config", "config.json", "-migrate-db"], cwd=scratch)
    assert p.returncode == 0 and "now at version" in p.stdout, (p.stdout, p.stderr)
    p = run_jobscope(["-config", "config.json", "-migrate-db"], cwd=scratch)
    assert p.returncode == 0 and "nothing to do" in p.stdout, (p.stdout, p.stderr)
    p = run_jobscope(["-config", "config.json"], cwd=scratch)
    assert p.returncode == 0, p.stderr
    # a database of a newer jobscope
    psql("UPDATE schema_migrations SET version = 99", db=scratch_db)
    p = run_jobscope(["-config", "config.json", "-server"], cwd=scratch, timeout=30)
    assert p.returncode == 1, (p.stdout, p.stderr)
    line = one_line(p.stderr)
    assert "99" in line and "-migrate-db" in line, line
    assert not (scratch / "cli.sock").exists()
    p = run_jobscope(["-config", "config.json", "-migrate-db"], cwd=scratch)
    assert p.returncode == 1 and "newer" in p.stdout, (p.stdout, p.stderr)
    assert psql("SELECT version FROM schema_migrations", db=scratch_db) == "99"
    # and one marked dirty
    psql("UPDATE schema_migrations SET version = 1, dirty = true", db=scratch_db)
    p = run_jobscope(["-config", "config.json", "-server"], cwd=scratch, timeout=30)
    assert p.returncode == 1 and "dirty" in one_line(p.stderr), p.stderr


def test_unreachable_database(scratch):
    d = json.loads((scratch / "config.json").read_text())
    d["main"]["db"] = "dbname=jobscope_http_does_not_exist connect_timeout=5"
    (scratch / "config.json").write_text(json.dumps(d))
    p = run_jobscope(["-config", "config.json", "-server"], cwd=scratch, timeout=30)
    assert p.returncode == 1, p.stderr
    assert 'jobscope: cannot connect to PostgreSQL (main.db "dbname=jobscope_http_does_not_exist' in p.stderr, p.stderr
    assert "does not exist" in p.stderr


def test_add_and_del_user(js, scratch):
    n = js.sql("SELECT count(*) FROM hpc_user")
    p = run_jobscope(["-config", "config.json", "-add-user", "cli-bob:manager,support:pw-1"], cwd=scratch)
    assert p.returncode == 0 and "added user cli-bob" in p.stdout, p.stderr
    assert js.sql("SELECT roles FROM hpc_user WHERE username = 'cli-bob'") == "{manager,support}"
    assert js.sql("SELECT password LIKE '$2%' FROM hpc_user WHERE username = 'cli-bob'") == "t"
    p = run_jobscope(["-config", "config.json", "-add-user", "cli-bob:user:pw-2"], cwd=scratch)
    assert p.returncode == 1 and "exists already" in one_line(p.stderr), p.stderr
    for spec, says in (("nocolon", "expects NAME:ROLE"), ("x:wizard:pw", "roles must be"), ("x:user:", "password is required"),
                       (":user:pw", "1 to 100 characters"), ("x:user,:pw", "roles must be")):
        p = run_jobscope(["-config", "config.json", "-add-user", spec], cwd=scratch)
        assert p.returncode == 2 and says in one_line(p.stderr), (spec, p.stderr)
    p = run_jobscope(["-config", "config.json", "-add-user", "cli-api:api:"], cwd=scratch)
    assert p.returncode == 0, p.stderr  # an api-only user needs no password
    for name in ("cli-bob", "cli-api"):
        p = run_jobscope(["-config", "config.json", "-del-user", name], cwd=scratch)
        assert p.returncode == 0, p.stderr
    p = run_jobscope(["-config", "config.json", "-del-user", "cli-bob"], cwd=scratch)
    assert p.returncode == 1 and "no user cli-bob" in one_line(p.stderr), p.stderr
    assert js.sql("SELECT count(*) FROM hpc_user") == n


def test_del_user_ends_sessions(js, scratch):
    p = run_jobscope(["-config", "config.json", "-add-user", "cli-carol:user:pw-carol"], cwd=scratch)
    assert p.returncode == 0, p.stderr
    c = requests.Session()
    token = csrf_from(js.get("/login", c).text)
    r = js.post("/login", c, data={"username": "cli-carol", "password": "pw-carol", "csrf_token": token})
    assert r.status_code == 302
    assert js.get("/", c).status_code == 200
    p = run_jobscope(["-config", "config.json", "-del-user", "cli-carol"], cwd=scratch)
    assert p.returncode == 0, p.stderr
    assert js.sessions("cli-carol") == 0
    assert js.get("/", c).status_code == 401


def test_init(tmp_path):
    p = run_jobscope(["-init"], cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    env = (tmp_path / ".env").read_text()
    assert stat.S_IMODE(os.stat(tmp_path / ".env").st_mode) == 0o600
    for key in ("JWT_PUBLIC_KEY", "JWT_PRIVATE_KEY", "SESSION_KEY"):
        assert re.search(r'^%s="[A-Za-z0-9+/=]+"$' % key, env, re.M), env
    assert (tmp_path / "var" / "job-archive" / "version.txt").read_text() == "3\n"
    assert json.loads((tmp_path / "config.json").read_text())["archive"]["path"] == "./var/job-archive"
    # a second -init refuses and changes nothing
    p = run_jobscope(["-init"], cwd=tmp_path)
    assert p.returncode == 1 and "nothing done" in p.stderr, p.stderr
    assert (tmp_path / ".env").read_text() == env
    # two -init runs make different keys
    other = tmp_path / "other"
    other.mkdir()
    assert run_jobscope(["-init"], cwd=other).returncode == 0
    assert (other / ".env").read_text() != env
