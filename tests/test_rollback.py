"""Issue #22: rollback you can trust, against real CKAN, PostgreSQL and Redis.

A plugin (tests/fixtures/fx_ckan_commits.py) tries every way to commit a
write. After each run every table's row count and checksum must be what it
was before, or ckansig must say "NOT rolled back" (text and JSON) and exit 1.
There is no Solr here: the search index is a stand-in that records what it is
told (tests/solr_standin.py), and the test checks it against the database.
"""

from __future__ import annotations

import json
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import FIXTURES, fake_distribution, valid_sends
from .solr_standin import Told, solr_recorder
from .test_ckan import (
    DATABASE,
    REQUIRED,
    ckan_command,
    ckansig,
    database_url,
    fresh_database,
    pytestmark,
    write_ini,
)

__all__ = ["pytestmark"]

needs_database = pytest.mark.skipif(not DATABASE and not REQUIRED, reason=(
    "no PostgreSQL for the tests: .ci/run starts one and sets CKANSIG_TEST_DATABASE"))

#: the ways that are kept inside the rolled-back transaction or refused: the
#: database must be unchanged; receivers refused a commit raise (exit 1)
HELD = {"session_commit": "ok", "connection_commit": "either", "commit_statement": "ok",
        "end_statement": "ok",
        "new_session": "error", "engine_begin": "error", "other_engine": "error",
        "commit_and_remove": "ok", "thread": "ok", "thread_joined": "ok"}
#: the ways that get past the guard: the run must say so, loudly
LOUD = ["driver_commit", "rollback_statement", "raw_connection", "thread_late"]


@pytest.fixture(scope="module")
def search_index() -> Iterator[tuple[str, Told]]:
    """The stand-in for Solr of this module's runs, and what it was told."""
    with solr_recorder() as found:
        yield found


def plugin_site_ini(folder: Path, name: str, fixture: str, entry_points: str, plugins: str,
                    solr_url: str, **settings: str) -> Path:
    """A ckan.ini on a database of its own (named for ``name``), with
    ``plugins`` from the fixture module ``fixture`` (installed with
    ``entry_points``), the search index stand-in at ``solr_url``, the tests'
    Redis, a sysadmin bob and ``settings`` (as :func:`write_ini` takes them)."""
    site = fake_distribution(folder / "site", name, entry_points)
    (site / f"{fixture}.py").write_text((FIXTURES / f"{fixture}.py").read_text())
    redis = {"ckan__redis__url": os.environ["CKANSIG_TEST_REDIS"]} \
        if os.environ.get("CKANSIG_TEST_REDIS") else {}
    ini = write_ini(folder, fresh_database(name), debug=False, plugins=plugins,
                    solr_url=solr_url, ckan__auth__create_unowned_dataset="true",
                    **{**redis, **settings})
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site),
                                                             os.environ.get("PYTHONPATH")]))
    ckan_command("-c", str(ini), "db", "init", cwd=folder)
    ckan_command("-c", str(ini), "user", "add", "bob", "email=bob@example.org",
                 "password=correct-horse-42", cwd=folder)
    ckan_command("-c", str(ini), "sysadmin", "add", "bob", cwd=folder)
    return ini


@pytest.fixture(scope="module")
def commits_ini(tmp_path_factory: pytest.TempPathFactory,
                search_index: tuple[str, Told]) -> Path:
    """A ckan.ini on a database of its own, with the committing plugin, the
    search index stand-in and the tests' Redis."""
    return plugin_site_ini(tmp_path_factory.mktemp("rollback"), "rollback", "fx_ckan_commits",
                           "[ckan.plugins]\nfx_commits = fx_ckan_commits:CommitsPlugin\n",
                           "activity fx_commits", search_index[0])


def tables(ini: Path) -> dict[str, tuple[int, str]]:
    """Every table's row count and checksum (md5 of its rows as text, sorted)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(database_url(ini))
    found = {}
    with engine.connect() as connection:
        names = connection.execute(sqlalchemy.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        for name in names:
            row = connection.execute(sqlalchemy.text(
                f'SELECT count(*), md5(coalesce(string_agg(t::text, \'|\' ORDER BY t::text), '
                f'\'\')) FROM "{name}" t')).one()
            found[name] = (int(row[0]), str(row[1]))
    engine.dispose()
    return found


def changed(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> dict:
    return {name: (before.get(name), after.get(name)) for name in set(before) | set(after)
            if before.get(name) != after.get(name)}


def fire_way(ini: Path, way: str, *args: str, code: int | None = None) -> Any:
    return ckansig("--ckan-ini", str(ini), "fire", "fx_commit", "--app", "--sender", way,
                   "--timeout", "2", *args, cwd=ini.parent, code=code)


@needs_database
@pytest.mark.parametrize("way", sorted(HELD))
def test_a_commit_that_is_held_changes_nothing(commits_ini: Path, way: str) -> None:
    before = tables(commits_ini)
    done = fire_way(commits_ini, way, "--format", "json")
    document = json.loads(done.stdout)
    valid_sends([document])
    [receiver] = document["receivers"]
    assert receiver["receiver"].endswith(f".{way}")
    expected = HELD[way]
    if expected != "either":
        assert receiver["status"] == expected, receiver
    if receiver["status"] == "error":
        assert done.returncode == 1
        if expected == "error":
            assert "ckansig refused a commit" in receiver["error"]["message"]
    else:
        assert done.returncode == 0, done.stderr[-2000:]
    database = document["database"]
    assert database["rolled_back"] is True and database["breaches"] == [], database
    assert changed(before, tables(commits_ini)) == {}
    if way == "thread_joined":  # model.Session works in a worker thread, as in CKAN
        assert receiver["result"] == "1"


@needs_database
@pytest.mark.parametrize("way", LOUD)
def test_a_commit_that_gets_past_is_said_loudly(commits_ini: Path, way: str) -> None:
    before = tables(commits_ini)
    done = fire_way(commits_ini, way, "--format", "json", code=1)
    database = json.loads(done.stdout)["database"]
    assert database["rolled_back"] is False
    [breach] = database["breaches"]
    assert breach["receiver"].endswith(f".{way}"), breach
    assert breach["message"].startswith(f"NOT rolled back: {breach['receiver']} ")
    assert breach["site"] and "fx_ckan_commits.py:" in breach["site"]
    if way == "thread_late":
        time.sleep(4)  # the thread's write lands after the run: that is the finding
    assert set(changed(before, tables(commits_ini))) == {"system_info"}  # it did persist
    _forget(commits_ini, way)
    text = fire_way(commits_ini, way, code=1).stdout
    assert "NOT rolled back: " in text and "database: rolled back" not in text
    if way == "thread_late":
        time.sleep(4)
    _forget(commits_ini, way)


def _forget(ini: Path, way: str) -> None:
    """Delete what a loud case left behind, for the next test."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(database_url(ini))
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("DELETE FROM system_info WHERE key LIKE 'fx_%'"))
    engine.dispose()


@needs_database
def test_commit_keeps_and_the_text_says_rolled_back_only_when_true(commits_ini: Path) -> None:
    before = tables(commits_ini)
    text = fire_way(commits_ini, "session_commit", code=0).stdout
    assert "database: rolled back" in text and "NOT" not in text
    assert changed(before, tables(commits_ini)) == {}
    text = fire_way(commits_ini, "session_commit", "--commit", code=0).stdout
    assert "database: committed" in text
    assert set(changed(before, tables(commits_ini))) == {"system_info"}
    _forget(commits_ini, "session_commit")


@needs_database
def test_start_up_and_login_writes_are_rolled_back(commits_ini: Path, tmp_path: Path) -> None:
    startup = commits_ini.parent / "startup.ini"
    startup.write_text("[app:main]\nuse = config:ckan.ini\nfx.write_at_startup = true\n")
    before = tables(commits_ini)
    done = ckansig("--ckan-ini", str(startup), "call", "status_show", "--user", "bob",
                   "--format", "json", cwd=commits_ini.parent)
    document = json.loads(done.stdout)
    assert document["database"]["rolled_back"] is True
    # the start-up row and bob's last_active are both gone
    assert changed(before, tables(commits_ini)) == {}


@needs_database
def test_the_search_index_follows_the_database(commits_ini: Path,
                                               search_index: tuple[str, Told]) -> None:
    before = tables(commits_ini)
    told = search_index[1]
    ini = commits_ini
    done = ckansig("--ckan-ini", str(ini), "call", "package_create", "--kw",
                   "name=indexed-then-gone", "--user", "bob", "--format", "json",
                   cwd=commits_ini.parent)
    document = json.loads(done.stdout)
    assert document["error"] is None, document["error"]
    created = document["result"]["id"]
    assert told.added[created] >= 1, "CKAN indexed the new dataset"
    assert created not in told.docs, "the rolled-back dataset is out of the index"
    assert document["database"]["search_index"]["restored"] == [
        f"{created}: removed (not in the database)"]
    # a real dataset, committed and indexed; a rolled-back purge leaves it in the index
    kept = json.loads(ckansig("--ckan-ini", str(ini), "call", "package_create", "--kw",
                              "name=stays", "--user", "bob", "--commit", "--format",
                              "json", cwd=commits_ini.parent).stdout)["result"]["id"]
    assert kept in told.docs
    purge = json.loads(ckansig("--ckan-ini", str(ini), "call", "dataset_purge", "--kw",
                               f"id={kept}", "--user", "bob", "--format", "json",
                               cwd=commits_ini.parent).stdout)
    assert purge["error"] is None and told.removed[kept] >= 1
    assert kept in told.docs, "the dataset the database still has is back in the index"
    assert purge["database"]["search_index"]["restored"] == [
        f"{kept}: reindexed from the database"]
    after = changed(before, tables(commits_ini))
    assert "package" in after  # only the --commit run changed the database


@needs_database
@pytest.mark.parametrize(("how", "command"), [
    (signal.SIGINT, ["fire", "fx_commit", "--app", "--sender", "slow", "--timeout", "0"]),
    (signal.SIGTERM, ["fire", "fx_commit", "--app", "--sender", "slow", "--timeout", "0"]),
    (signal.SIGINT, ["call", "fx_slow_write"]),
    (signal.SIGTERM, ["call", "fx_slow_write"]),
], ids=["fire-SIGINT", "fire-SIGTERM", "call-SIGINT", "call-SIGTERM"])
def test_ctrl_c_and_sigterm_during_commit_commit_nothing(commits_ini: Path, tmp_path: Path,
                                                         how: signal.Signals,
                                                         command: list[str]) -> None:
    before = tables(commits_ini)
    ready = tmp_path / "ready"
    # the code writes, says it is ready and waits: the signal arrives mid-run,
    # with --commit asked for
    process = subprocess.Popen(
        [sys.executable, "-m", "ckansig", "--ckan-ini", str(commits_ini), *command,
         "--commit"],
        cwd=commits_ini.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "FX_READY": str(ready)})
    deadline = time.monotonic() + 90
    while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(how)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (out[-2000:], err[-2000:])
    assert "Traceback" not in err
    if command[0] == "fire":  # the trace so far, then the database's fate
        assert "interrupted, nothing was committed" in out, out[-2000:]
    else:
        assert err.strip().splitlines()[-1] == (
            "ckansig: interrupted: the database was rolled back, nothing was committed")
    assert changed(before, tables(commits_ini)) == {}


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib to send one mail, which is kept."""

    mails: list[str]

    def handle(self) -> None:
        self.wfile.write(b"220 stand-in\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                body = b""
                while not body.endswith(b"\r\n.\r\n"):
                    body += self.rfile.readline()
                self.mails.append(body.decode())
                self.wfile.write(b"250 kept\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@needs_database
def test_what_is_not_undone_is_listed_per_receiver(commits_ini: Path, tmp_path: Path) -> None:
    redis_url = os.environ.get("CKANSIG_TEST_REDIS")
    if not redis_url:
        assert not REQUIRED, "CKANSIG_REQUIRE_CKAN=1 but CKANSIG_TEST_REDIS is not set"
        pytest.skip("no Redis: .ci/run starts one and sets CKANSIG_TEST_REDIS")
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete("fx_effects_key")
    handler = type("Smtp", (_Smtp,), {"mails": []})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    written = tmp_path / "written.txt"
    args = ["--ckan-ini", str(commits_ini), "fire", "fx_effects", "--app", "--kw",
            f"path={written}", "--kw", f"smtp_port={server.server_address[1]}"]
    try:
        done = ckansig(*args, "--format", "json", cwd=commits_ini.parent)
        text = ckansig(*args, cwd=commits_ini.parent).stdout
    finally:
        server.shutdown()
        server.server_close()
    effects = json.loads(done.stdout)["database"]["not_undone"]
    kinds = {effect["kind"]: effect for effect in effects}
    assert set(kinds) == {"file", "redis", "job", "mail"}, effects
    assert all(effect["receiver"] == "fx_ckan_commits.effects" for effect in effects)
    assert all("fx_ckan_commits.py:" in effect["site"] for effect in effects)
    assert kinds["file"]["detail"] == f"wrote {written}" and written.exists()
    assert kinds["redis"]["detail"] == "SET fx_effects_key"
    assert client.get("fx_effects_key") == b"value"  # not undone, as listed
    assert kinds["mail"]["detail"] == "to carol@example.org" and len(handler.mails) == 2
    # the job is removed from its queue: a rolled-back run enqueues nothing
    assert kinds["job"]["undone"] == "removed from the queue"
    job_id = kinds["job"]["detail"].split()[2]
    assert not client.exists(f"rq:job:{job_id}")
    assert all(job_id.encode() not in client.lrange(key, 0, -1)
               for key in client.keys("rq:queue:*") if client.type(key) == b"list")
    assert "not undone (outside the database):" in text
    assert "  fx_ckan_commits.effects" in text and "(removed from the queue)" in text
