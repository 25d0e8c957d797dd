"""Integration tests against a real CKAN install (pytest marker ``ckan``).

They run where the ``ckan`` package is importable (``.ci/run`` builds a
virtualenv with ``pip install "ckan[requirements]==2.12.0"`` for them) and
are skipped, with the reason shown, elsewhere; with CKANSIG_REQUIRE_CKAN=1
(as in CI) a missing CKAN is a failure, never a skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import valid_sends

try:
    import ckan  # noqa: F401

    HAVE_CKAN = True
except ImportError:
    HAVE_CKAN = False

REQUIRED = os.environ.get("CKANSIG_REQUIRE_CKAN") == "1"

try:
    import ckanext.demo  # noqa: F401  (examples/ckanext-demo, installed by .ci/run)

    HAVE_DEMO = True
except ImportError:
    HAVE_DEMO = False

needs_demo = pytest.mark.skipif(not HAVE_DEMO and not REQUIRED, reason=(
    "examples/ckanext-demo is not installed here (pip install -e examples/ckanext-demo)"))

pytestmark = [
    pytest.mark.ckan,
    pytest.mark.skipif(not HAVE_CKAN and not REQUIRED, reason=(
        "CKAN is not installed here; .ci/run runs these in a CKAN 2.12 virtualenv "
        "(pip install 'ckan[requirements]==2.12.0')")),
]


def ckansig(*args: str, cwd: Path, env: dict[str, str] | None = None,
            code: int | None = 0) -> subprocess.CompletedProcess[str]:
    """The console script; ``code`` is the exit code it must give (None: any)."""
    done = subprocess.run([sys.executable, "-m", "ckansig", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=120,
                          env={**os.environ, **(env or {})})
    assert code is None or done.returncode == code, (
        done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    return done


def release() -> tuple[int, int]:
    import ckan

    major, minor = ckan.__version__.split(".")[:2]
    return int(major), int(minor)


@pytest.fixture(scope="session")
def base_ini(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ckan.ini as CKAN generates it (``ckan generate config``)."""
    return generated_ini(tmp_path_factory.mktemp("ckan") / "base.ini")


def generated_ini(path: Path) -> Path:
    ckan_command = Path(sys.executable).parent / "ckan"
    subprocess.run([str(ckan_command), "generate", "config", str(path)], check=True,
                   capture_output=True, timeout=120)
    return path


def child_ini(folder: Path, base: Path, plugins: str, extra: str = "") -> Path:
    """An ini that inherits ``base`` (``use = config:``) and names ``plugins``."""
    path = folder / "ckan.ini"
    path.write_text(f"[app:main]\nuse = config:{os.path.relpath(base, folder)}\n"
                    f"ckan.plugins = {plugins}\n{extra}")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "plugins.toml").write_text(
        '[ckansig]\nplugins = ["example_isignal", "activity"]\n')
    return tmp_path


def test_ckan_is_installed() -> None:
    assert HAVE_CKAN, "CKANSIG_REQUIRE_CKAN=1 but the ckan package is not importable"


def test_namespaces_are_ckans_own() -> None:
    from ckan.lib import signals as real

    from ckansig import signals

    assert signals.REAL_CKAN
    assert signals.ckan is real.ckan and signals.ckanext is real.ckanext
    assert signals.user_created is real.user_created
    assert signals.action_succeeded is real.action_succeeded


def test_list_shows_real_plugins(project: Path) -> None:
    document = json.loads(ckansig("list", "--format", "json", "--subscribed",
                                  cwd=project).stdout)
    assert document["errors"] == []
    signals = {(s["namespace"], s["name"]): s for s in document["signals"]}
    number = signals[("ckanext", "isignal_number")]["receivers"]
    assert {(r["receiver"], r["sender"], r["plugin"]) for r in number} == {
        ("ckanext.example_isignal.plugin.x2", None, "example_isignal"),
        ("ckanext.example_isignal.plugin.x10", 10, "example_isignal"),
    }
    assert all("site-packages" in r["file"] and r["line"] > 0 for r in number)
    activity = signals[("ckan", "action_succeed")]["receivers"]
    # what the release's activity plugin subscribes: 14 actions on 2.10, 17 from 2.11
    from ckan.lib.signals import action_succeeded
    from ckanext.activity.plugin import ActivityPlugin

    wired = ActivityPlugin().get_signal_subscriptions()[action_succeeded]
    assert len(wired) in (14, 17)
    assert {(r["sender"], r["receiver"].rsplit(".", 1)[1]) for r in activity} == {
        (entry["sender"], entry["receiver"].__name__) for entry in wired}
    assert {r["plugin"] for r in activity} == {"activity"}
    assert {"package_create", "user_update", "group_delete"} <= {r["sender"] for r in activity}


@pytest.mark.parametrize(("sender", "results"), [("10", ["20", "100"]), ("5", ["10"])])
def test_fire_example_isignal(project: Path, sender: str, results: list[str]) -> None:
    document = json.loads(ckansig("fire", "isignal_number", "--sender", sender,
                                  "--format", "json", cwd=project).stdout)
    assert sorted(r["result"] for r in document["receivers"]) == sorted(results)
    assert {r["status"] for r in document["receivers"]} == {"ok"}


def test_doctor_uses_the_installed_release(project: Path) -> None:
    import ckan

    document = json.loads(ckansig("doctor", "--format", "json", cwd=project).stdout)
    assert document["ckan_version"] == ".".join(ckan.__version__.split(".")[:2])
    found = {(p["id"], p["receiver"]) for p in document["problems"]}
    # isignal_number has no provider; x2(sender) and x10(sender) take no **kwargs,
    # which nothing says is wrong (nothing sends it): pedantic, shown with --strict
    assert found == {("SIG011", None)}
    assert document["summary"]["hidden"] == 2
    strict = json.loads(ckansig("doctor", "--format", "json", "--strict", cwd=project).stdout)
    assert {(p["id"], p["severity"], p["receiver"]) for p in strict["problems"]} == {
        ("SIG011", "warning", None),
        ("SIG006", "pedantic", "ckanext.example_isignal.plugin.x2"),
        ("SIG006", "pedantic", "ckanext.example_isignal.plugin.x10")}


def test_plugins_from_a_ckan_ini(tmp_path: Path) -> None:
    (tmp_path / "base.ini").write_text(textwrap.dedent("""\
        [DEFAULT]
        debug = false

        [app:main]
        use = egg:ckan
        ckan.plugins = example_isignal
            activity
        """))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ckan.ini").write_text(textwrap.dedent("""\
        [app:main]
        use = config:../base.ini
        """))
    ini = str(tmp_path / "sub" / "ckan.ini")
    by_option = json.loads(ckansig("--ckan-ini", ini, "list", "--format", "json",
                                   "--subscribed", cwd=tmp_path).stdout)
    by_env = json.loads(ckansig("list", "--format", "json", "--subscribed", cwd=tmp_path,
                                env={"CKAN_INI": ini}).stdout)
    for document in (by_option, by_env):
        plugins = {r["plugin"] for s in document["signals"] for r in s["receivers"]}
        assert plugins == {"example_isignal", "activity"}


def test_a_plugin_that_fails_to_import(tmp_path: Path, project: Path) -> None:
    from .conftest import fake_distribution

    site = fake_distribution(tmp_path / "site", "fx_broken",
                             "[ckan.plugins]\nfx_broken = fx_broken:Plugin\n")
    (site / "fx_broken.py").write_text("import fx_optional_dependency\n")
    (project / "plugins.toml").write_text(
        '[ckansig]\nplugins = ["fx_broken", "example_isignal"]\n')
    env = {"PYTHONPATH": str(site)}
    done = ckansig("list", "--format", "json", "--subscribed", cwd=project, env=env, code=1)
    document = json.loads(done.stdout)
    (error,) = document["errors"]
    assert error["plugin"] == "fx_broken" and error["missing_module"] == "fx_optional_dependency"
    assert any(s["name"] == "isignal_number" for s in document["signals"])
    fired = ckansig("fire", "isignal_number", "--sender", "10", "--format", "json",
                    cwd=project, env=env, code=1)  # 1: a plugin failed to load
    assert sorted(r["result"] for r in json.loads(fired.stdout)["receivers"]) == ["100", "20"]
    doctor = json.loads(ckansig("doctor", "--format", "json", cwd=project, env=env,
                                code=1).stdout)
    assert any(p["id"] == "SIG001" and p["plugin"] == "fx_broken" for p in doctor["problems"])


def test_importing_ckansig_adds_nothing_to_ckans_namespaces(project: Path) -> None:
    code = textwrap.dedent("""\
        import json
        from ckan.lib import signals as real
        before = {name: sorted(ns) for name, ns in (("ckan", real.ckan), ("ckanext", real.ckanext))}
        import ckansig.signals
        from ckansig.loading import load
        from ckansig.config import Config
        load(Config())
        after = {name: sorted(ns) for name, ns in (("ckan", real.ckan), ("ckanext", real.ckanext))}
        print(json.dumps([before, after, sorted(n for _, n in ckansig.signals.ABSENT)]))
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=project)
    before, after, absent = json.loads(done.stdout)
    assert before == after
    assert "successful_login" in absent and "successful_login" not in after["ckan"]
    import ckan

    release = tuple(int(part) for part in ckan.__version__.split(".")[:2])
    assert ("logged_in" in absent) == (release < (2, 11))


def test_list_shows_catalogue_signals_the_release_lacks(project: Path) -> None:
    import ckan

    document = json.loads(ckansig("list", "--format", "json", cwd=project).stdout)
    present = {s["name"]: s["present"] for s in document["signals"] if s["namespace"] == "ckan"}
    assert present["successful_login"] is False and present["user_created"] is True
    release = tuple(int(part) for part in ckan.__version__.split(".")[:2])
    assert present["logged_in"] is (release >= (2, 11))


# -- CKAN mode: a ckan.ini, loaded as CKAN loads it ------------------------------------


def _receivers(document: dict, name: str) -> set[tuple[str, str | None, str]]:
    return {(r["receiver"].rsplit(".", 1)[1], r["plugin"], r["via"])
            for s in document["signals"] if s["name"] == name for r in s["receivers"]}


@needs_demo
def test_ckan_mode_follows_the_releases_isignal_rule(tmp_path: Path, base_ini: Path) -> None:
    ini = child_ini(tmp_path, base_ini, "activity example_isignal demo demo_inherited")
    document = json.loads(ckansig("--ckan-ini", str(ini), "list", "--format", "json",
                                  cwd=tmp_path).stdout)
    assert document["errors"] == []
    assert _receivers(document, "user_created") == {("welcome", "demo", "isignal")}
    # demo_inherited implements ISignal only through its base: not on 2.10
    expected = {("count_failures", "demo_inherited", "isignal")} if release() >= (2, 11) \
        else set()
    assert _receivers(document, "failed_login") == expected
    assert ("x10", "example_isignal", "isignal") in _receivers(document, "isignal_number")
    # doctor says so: SIG019 on 2.10 only, and nothing else about these plugins
    doctor = json.loads(ckansig("--ckan-ini", str(ini), "doctor", "--format", "json",
                                cwd=tmp_path, code=None).stdout)
    found = {(p["id"], p["plugin"]) for p in doctor["problems"]
             if p["id"] in ("SIG019", "SIG020")}
    assert found == ({("SIG019", "demo_inherited")} if release() < (2, 11) else set())


@needs_demo
def test_receivers_see_ckans_config_and_registry(tmp_path: Path, base_ini: Path) -> None:
    """Declared config options and plugin_loaded() answer as in CKAN; without a
    ckan.ini the same receiver fails cleanly."""
    ini = child_ini(tmp_path, base_ini, "demo", "ckanext.demo.greeting = hello\n")
    done = ckansig("--ckan-ini", str(ini), "fire", "user_created", "--kw", "username=bob",
                   "--format", "json", cwd=tmp_path)
    (receiver,) = json.loads(done.stdout)["receivers"]
    assert receiver["status"] == "ok"
    assert receiver["result"] == "'hello, bob (demo loaded: True)'"
    (tmp_path / "defaults").mkdir()
    defaults = child_ini(tmp_path / "defaults", base_ini, "demo")
    done = ckansig("--ckan-ini", str(defaults), "fire", "user_created", "--kw", "username=bob",
                   "--format", "json", cwd=tmp_path)
    assert json.loads(done.stdout)["receivers"][0]["result"] == \
        "'welcome, bob (demo loaded: True)'"  # the declared default
    (tmp_path / "plugins.toml").write_text('[ckansig]\nplugins = ["demo"]\n')
    done = ckansig("fire", "user_created", "--kw", "username=bob", "--format", "json",
                   cwd=tmp_path, code=1)
    (receiver,) = json.loads(done.stdout)["receivers"]
    assert receiver["status"] == "error" and receiver["error"]["type"] == "KeyError"
    assert "Traceback" not in done.stderr


@needs_demo
def test_a_plugin_named_twice_fails_as_in_ckan(tmp_path: Path, base_ini: Path) -> None:
    ini = child_ini(tmp_path, base_ini, "demo example_isignal demo")
    done = ckansig("--ckan-ini", str(ini), "list", "--format", "json", cwd=tmp_path, code=1)
    document = json.loads(done.stdout)
    assert [(e["plugin"], e["kind"]) for e in document["errors"]] == [
        ("demo", "duplicate_plugin")]
    assert "already loaded" in document["errors"][0]["error"]
    assert _receivers(document, "user_created") == {("welcome", "demo", "isignal")}
    text = ckansig("--ckan-ini", str(ini), "list", cwd=tmp_path, code=1)
    assert "plugin demo: plugin 'demo' is named twice in ckan.plugins" in text.stderr
    assert "remove the duplicate" in text.stderr


def test_an_unknown_plugin_fails_as_in_ckan(tmp_path: Path, base_ini: Path) -> None:
    ini = child_ini(tmp_path, base_ini, "example_isignal no_such_plugin")
    document = json.loads(ckansig("--ckan-ini", str(ini), "list", "--format", "json",
                                  cwd=tmp_path, code=1).stdout)
    assert [(e["plugin"], e["kind"]) for e in document["errors"]] == [
        ("no_such_plugin", "plugin_not_found")]
    assert ("x2", "example_isignal", "isignal") in _receivers(document, "isignal_number")


def test_ckan_variables_come_from_the_environment(tmp_path: Path, base_ini: Path) -> None:
    ini = child_ini(tmp_path, base_ini, "%(CKAN_TEST_PLUGINS)s")
    document = json.loads(ckansig("--ckan-ini", str(ini), "list", "--format", "json",
                                  cwd=tmp_path, env={"CKAN_TEST_PLUGINS": "example_isignal"}
                                  ).stdout)
    assert ("x2", "example_isignal", "isignal") in _receivers(document, "isignal_number")
    env = {k: v for k, v in os.environ.items() if k != "CKAN_TEST_PLUGINS"}
    done = subprocess.run([sys.executable, "-m", "ckansig", "--ckan-ini", str(ini), "list"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "ckan.plugins uses %(CKAN_TEST_PLUGINS)s, which is not set" in done.stderr
    assert f"{ini}:3" in done.stderr and "Traceback" not in done.stderr


# -- fire --app: a real CKAN app on a real PostgreSQL ------------------------------------

DATABASE = os.environ.get("CKANSIG_TEST_DATABASE")  # postgresql://user@host:port, from .ci/run
needs_database = pytest.mark.skipif(not DATABASE and not REQUIRED, reason=(
    "no PostgreSQL for the tests: .ci/run starts one and sets CKANSIG_TEST_DATABASE"))


def ckan_command(*args: str, cwd: Path) -> str:
    done = subprocess.run([str(Path(sys.executable).parent / "ckan"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def fresh_database(prefix: str) -> str:
    """The URL of a new, empty database on the tests' PostgreSQL, named for
    ``prefix``, the CKAN release and this process."""
    assert DATABASE, "CKANSIG_REQUIRE_CKAN=1 but CKANSIG_TEST_DATABASE is not set"
    import sqlalchemy

    name = f"{prefix}_{'_'.join(map(str, release()))}_{os.getpid()}"
    server = sqlalchemy.create_engine(f"{DATABASE}/postgres", isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    server.dispose()
    import atexit

    atexit.register(_drop_database, name)  # the tests leave no database behind
    return f"{DATABASE}/{name}"


def _drop_database(name: str) -> None:
    import sqlalchemy

    server = sqlalchemy.create_engine(f"{DATABASE}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    except sqlalchemy.exc.SQLAlchemyError:
        pass  # the server is already gone (CI stops it): nothing is left behind
    finally:
        server.dispose()


@pytest.fixture(scope="session")
def database_ini(base_ini: Path) -> Path:
    """A ckan.ini on a database of its own, initialised by ``ckan db init``."""
    url = fresh_database("ckansig")
    folder = base_ini.parent / "db"
    folder.mkdir()
    # a whole file, as `ckan generate config` writes it: CKAN 2.10's and 2.11's
    # `ckan -c` read the logging sections from the file given, not its chain
    lines = []
    for line in base_ini.read_text().splitlines():
        if line.startswith("sqlalchemy.url"):
            line = f"sqlalchemy.url = {url}"
        elif line.startswith("ckan.plugins"):
            line = "ckan.plugins = activity demo"
        lines.append(line)
    ini = folder / "ckan.ini"
    ini.write_text("\n".join(lines) + "\n")
    ckan_command("-c", str(ini), "db", "init", cwd=folder)
    return ini


def write_ini(folder: Path, url: str, *, debug: bool, plugins: str, **settings: str) -> Path:
    """A whole ckan.ini as ``ckan generate config`` writes it, on database
    ``url`` with ``plugins``; ``settings`` replace or join ``[app:main]``'s
    (a dot in a key is spelled ``__``)."""
    settings = {key.replace("__", "."): value for key, value in settings.items()}
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for line in generated_ini(folder / "generated.ini").read_text().splitlines():
        key = line.split("=", 1)[0].strip()
        if key == "sqlalchemy.url":
            line = f"sqlalchemy.url = {url}"
        elif key == "ckan.plugins":
            line = f"ckan.plugins = {plugins}"
        elif key == "debug":
            line = f"debug = {str(debug).lower()}"
        elif key in settings:
            line = f"{key} = {settings.pop(key)}"
        lines.append(line)
        if line.strip() == "[app:main]":
            lines.append("{settings}")
    ini = folder / "ckan.ini"
    added = "\n".join(f"{key} = {value}" for key, value in settings.items())
    ini.write_text("\n".join(lines).replace("{settings}", added) + "\n")
    return ini


def database_url(ini: Path) -> str:
    """The ``sqlalchemy.url`` of ``ini``."""
    return next(line.split("=", 1)[1].strip() for line in ini.read_text().splitlines()
                if line.startswith("sqlalchemy.url"))


def rows(ini: Path, table: str) -> int:
    import sqlalchemy

    engine = sqlalchemy.create_engine(database_url(ini))
    with engine.connect() as connection:
        count = connection.execute(sqlalchemy.text(f'SELECT count(*) FROM "{table}"')).scalar()
    engine.dispose()
    return int(count or 0)


def user_id(ini: Path, name: str) -> str:
    import sqlalchemy

    engine = sqlalchemy.create_engine(database_url(ini))
    with engine.connect() as connection:
        found = connection.execute(sqlalchemy.text('SELECT id FROM "user" WHERE name = :n'),
                                   {"n": name}).scalar()
    engine.dispose()
    return str(found)


@pytest.fixture(scope="session")
def alice(database_ini: Path) -> str:
    """A real user, created by CKAN's own ``ckan user add`` (a real user_create)."""
    ckan_command("-c", str(database_ini), "user", "add", "alice", "email=alice@example.org",
                 "password=correct-horse-42", cwd=database_ini.parent)
    return user_id(database_ini, "alice")


def fire_app(ini: Path, *args: str, code: int = 0) -> dict:
    done = ckansig("--ckan-ini", str(ini), "fire", "action_succeeded", "--app", *args,
                   "--format", "json", cwd=ini.parent, code=code)
    document = json.loads(done.stdout)
    valid_sends([document])
    return document


@needs_demo
@needs_database
def test_activity_runs_in_the_app_and_is_rolled_back(database_ini: Path, alice: str) -> None:
    result = json.dumps({"id": alice, "name": "alice"})
    before = rows(database_ini, "activity")
    document = fire_app(database_ini, "--sender", "user_create", "--kw", f"result={result}",
                        "--kw", "data_dict={}")
    by_name = {r["receiver"].rsplit(".", 1)[1]: r for r in document["receivers"]}
    activity = by_name["user_changed"]
    assert (activity["plugin"], activity["status"]) == ("activity", "ok"), activity
    assert activity["db_changes"] == {"activity": {"inserted": 1, "updated": 0, "deleted": 0}}
    assert by_name["count_users"]["status"] == "ok"
    assert by_name["count_users"]["db_changes"] == {}
    assert rows(database_ini, "activity") == before  # rolled back
    fire_app(database_ini, "--sender", "user_create", "--kw", f"result={result}", "--kw",
             "data_dict={}", "--commit")
    assert rows(database_ini, "activity") == before + 1


@needs_demo
@needs_database
def test_receivers_run_as_the_user(database_ini: Path, alice: str) -> None:
    args = ["--sender", "user_create", "--kw", json.dumps({"id": alice}).join(["result=", ""])]
    def asked_by(document: dict) -> str:
        (count,) = [r for r in document["receivers"] if r["receiver"].endswith("count_users")]
        return str(count["result"]).rsplit("asked by ", 1)[1].rstrip("'")

    assert asked_by(fire_app(database_ini, *args)) == "anonymous"
    as_alice = fire_app(database_ini, *args, "--user", "alice", "--kw",
                        'context={"ignore_auth": true}')
    assert asked_by(as_alice) == "alice"
    # the context as get_action builds it, with --kw context merged in
    context = as_alice["kwargs"]["context"]
    assert context["user"] == "alice" and context["ignore_auth"] is True
    assert {"model", "session", "auth_user_obj"} <= set(context)
    done = ckansig("--ckan-ini", str(database_ini), "fire", "user_created", "--app", "--user",
                   "nobody", cwd=database_ini.parent, code=2)
    # CKAN logs as its ini says (Solr's absence, with tracebacks); ckansig's own
    # error is the one last line
    assert done.stderr.strip().splitlines()[-1] == \
        "Error: Invalid value for --user: no user named 'nobody' in CKAN's database"


@needs_database
def test_app_needs_a_ckan_ini(tmp_path: Path) -> None:
    (tmp_path / "plugins.toml").write_text('[ckansig]\nplugins = ["example_isignal"]\n')
    done = ckansig("fire", "isignal_number", "--app", cwd=tmp_path, code=2)
    assert "(fire --app, call) needs" in done.stderr and "Traceback" not in done.stderr
    done = ckansig("fire", "isignal_number", "--commit", cwd=tmp_path, code=2)
    assert "--user and --commit go with --app" in done.stderr


WIRING = textwrap.dedent("""\
    import json, sys
    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    from ckan.lib import signals
    make_app(load_config(sys.argv[1]))  # CKAN's own start-up
    probes = json.loads(sys.argv[2])
    wired = []
    for ns_name, ns in (("ckan", signals.ckan), ("ckanext", signals.ckanext)):
        for name, sig in ns.items():
            anyone = {r.__qualname__ for r in sig.receivers_for(object())}
            wired += [[ns_name, name, q, None] for q in anyone]
            for sender in probes:
                wired += [[ns_name, name, r.__qualname__, sender]
                          for r in sig.receivers_for(sender) if r.__qualname__ not in anyone]
    print(json.dumps(wired))
    """)


@needs_demo
@needs_database
def test_list_is_what_ckan_wires_at_start_up(database_ini: Path, tmp_path: Path) -> None:
    """The same receivers, senders and signals as CKAN's own start-up connects,
    on the same ckan.ini (CKAN's needs the database; ckansig's does not)."""
    ini = tmp_path / "ckan.ini"
    ini.write_text(database_ini.read_text().replace(
        "ckan.plugins = activity demo", "ckan.plugins = activity demo demo_inherited "
        "example_isignal"))
    document = json.loads(ckansig("--ckan-ini", str(ini), "list", "--format", "json",
                                  "--subscribed", cwd=tmp_path).stdout)
    listed = {(s["namespace"], s["name"], r["receiver"].rsplit(".", 2)[-1]
               if r["kind"] != "method" else ".".join(r["receiver"].rsplit(".", 2)[-2:]),
               r["sender"]) for s in document["signals"] for r in s["receivers"]}
    probes = sorted({sender for *_, sender in listed if sender is not None}, key=str)
    done = subprocess.run([sys.executable, "-c", WIRING, str(ini), json.dumps(probes)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    wired = {tuple(row) for row in json.loads(done.stdout.strip().splitlines()[-1])}
    assert listed == wired
    assert ("ckan", "failed_login", "count_failures", None) in wired or release() < (2, 11)


@needs_demo
def test_an_app_that_cannot_start_is_a_clean_error(tmp_path: Path, base_ini: Path) -> None:
    ini = child_ini(tmp_path, base_ini, "demo",
                    "sqlalchemy.url = postgresql://nobody@127.0.0.1:9/nothing\n")
    done = ckansig("--ckan-ini", str(ini), "fire", "user_created", "--app", cwd=tmp_path,
                   code=2)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: CKAN could not start the app from {ini}: OperationalError")


@needs_demo
@needs_database
def test_a_receiver_reading_declared_config_runs_in_the_app(database_ini: Path,
                                                            alice: str) -> None:
    done = ckansig("--ckan-ini", str(database_ini), "fire", "user_created", "--app", "--kw",
                   "username=bob", "--format", "json", cwd=database_ini.parent)
    (welcome,) = [r for r in json.loads(done.stdout)["receivers"]
                  if r["receiver"].endswith("welcome")]
    assert welcome["status"] == "ok"
    assert welcome["result"] == "'welcome, bob (demo loaded: True)'"
    assert welcome["db_changes"] == {}
    text = ckansig("--ckan-ini", str(database_ini), "fire", "action_succeeded", "--app",
                   "--sender", "user_create", "--kw", f"result={json.dumps({'id': alice})}",
                   "--kw", "data_dict={}", cwd=database_ini.parent)
    assert "database: activity +1" in text.stdout


PLUGIN_WITH_ACTIONS = '''
import ckan.plugins as p
from ckan.plugins import toolkit


def on_action(sender, **kwargs):
    return None


def fx_custom_action(context, data_dict):
    return "custom"


class ActionsPlugin(p.SingletonPlugin):  # not "Plugin": CKAN 2.10's pyutilib skips that name
    p.implements(p.ISignal)
    p.implements(p.IActions)

    def get_actions(self):
        return {"fx_custom_action": fx_custom_action}

    def get_signal_subscriptions(self):
        return {toolkit.signals.action_succeeded: [
            {"receiver": on_action, "sender": "pakage_create"},  # a typo: never sent
            {"receiver": on_action, "sender": "package_create"},  # a core action
            {"receiver": on_action, "sender": "fx_custom_action"},  # this plugin's action
        ]}
'''


def test_action_sender_filters_are_checked_against_ckans_registry(
    tmp_path: Path, base_ini: Path,
) -> None:
    from .conftest import fake_distribution

    site = fake_distribution(tmp_path / "site", "fx_actions",
                             "[ckan.plugins]\nfx_actions = fx_ckan_actions:ActionsPlugin\n")
    (site / "fx_ckan_actions.py").write_text(PLUGIN_WITH_ACTIONS)
    ini = child_ini(tmp_path, base_ini, "fx_actions")
    done = ckansig("--ckan-ini", str(ini), "doctor", "--format", "json", cwd=tmp_path,
                   env={"PYTHONPATH": str(site)}, code=1)
    found = [p for p in json.loads(done.stdout)["problems"] if p["id"] == "SIG021"]
    assert [(p["plugin"], p["severity"]) for p in found] == [("fx_actions", "error")]
    assert "'pakage_create'" in found[0]["message"]
    assert "did you mean 'package_create'?" in found[0]["message"]


@needs_demo
def test_diff_of_two_ini_files_shows_wiring_that_depends_on_config(
        tmp_path: Path, base_ini: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    plain = child_ini(tmp_path / "a", base_ini, "demo")
    audited = child_ini(tmp_path / "b", base_ini, "demo",
                        "ckanext.demo.audit_failed_logins = true\n")
    done = ckansig("diff", str(plain), str(audited), "--format", "json", "--fail-on-change",
                   cwd=tmp_path, code=1)
    document = json.loads(done.stdout)
    assert [(r["signal"], r["receiver"].rsplit(".", 1)[1], r["plugin"])
            for r in document["receivers"]["added"]] == [
        ("ckan:failed_login", "audit_failed_login", "demo")]
    assert document["receivers"]["removed"] == [] and document["findings"]["compared"]


def test_list_sends_reads_ckans_own_source(project: Path) -> None:
    document = json.loads(ckansig("list", "--sends", "--format", "json", "user_created",
                                  cwd=project).stdout)
    [signal] = document["signals"]
    [site] = signal["sends"]
    assert site["file"].endswith(os.path.join("ckan", "logic", "action", "create.py"))
    assert site["kwargs"] == ["user"] and site["sender"] == "user.name"


@needs_demo
@needs_database
def test_call_shows_the_causal_tree_of_a_real_action(database_ini: Path, alice: str) -> None:
    before = rows(database_ini, "activity")
    done = ckansig("--ckan-ini", str(database_ini), "call", "user_update", "--kw", f"id={alice}",
                   "--kw", "email=alice@example.com", "--kw", "fullname=Alice",
                   "--user", "alice", "--format", "json", cwd=database_ini.parent)
    document = json.loads(done.stdout)
    valid_sends(document["sends"])
    assert document["error"] is None and document["result"]["fullname"] == "Alice"
    assert document["committed"] is False and document["user"] == "alice"
    [update] = [s for s in document["sends"] if s["sender"] == "user_update"]
    receivers = {r["receiver"].rsplit(".", 1)[1]: r for r in update["receivers"]}
    activity = receivers["user_changed"]
    assert activity["status"] == "ok"
    assert activity["db_changes"]["activity"]["inserted"] == 1
    [nested] = activity["children"]  # activity's receiver runs activity_create
    assert (nested["signal"], nested["sender"], nested["parent"]) == (
        "action_succeed", "activity_create", update["id"])
    assert document["db_changes"]["activity"]["inserted"] == 1
    assert rows(database_ini, "activity") == before  # rolled back
    text = ckansig("--ckan-ini", str(database_ini), "call", "user_update", "--kw",
                   f"id={alice}", "--kw", "email=alice@example.com", "--user", "alice",
                   cwd=database_ini.parent).stdout
    assert "ckan:action_succeed sender='activity_create'" in text
    assert "[database: activity +1]" in text and "(rolled back)" in text


@needs_demo
@needs_database
def test_call_organization_create_the_issues_own_example(database_ini: Path, alice: str) -> None:
    # organization_create returns organization_show, which counts datasets through
    # Solr: a stand-in that finds nothing answers it (Solr is not available here)
    from .solr_standin import solr_standin

    with solr_standin() as solr_url:
        (database_ini.parent / "solr.ini").write_text(
            f"[app:main]\nuse = config:ckan.ini\nsolr_url = {solr_url}\n")
        done = ckansig("--ckan-ini", "solr.ini", "call", "organization_create", "--kw",
                       "name=demo", "--user", "alice", "--format", "json",
                       cwd=database_ini.parent)
        text = ckansig("--ckan-ini", "solr.ini", "call", "organization_create", "--kw",
                       "name=demo", "--user", "alice", cwd=database_ini.parent).stdout
    # the text shows what JSON shows: model objects summarized, never an error
    # of the session they came from (DetachedInstanceError)
    assert "organization_create" in text and "Detached" not in text
    assert "unrepresentable" not in text and "Detached" not in done.stdout
    document = json.loads(done.stdout)
    assert document["error"] is None and document["result"]["name"] == "demo"
    [create] = [s for s in document["sends"] if s["sender"] == "organization_create"]
    receivers = {r["receiver"].rsplit(".", 1)[1]: r for r in create["receivers"]}
    activity = receivers["group_or_org_changed"]
    [nested] = activity["children"]
    assert (nested["signal"], nested["sender"]) == ("action_succeed", "activity_create")
    assert activity["db_changes"]["activity"]["inserted"] == 1
    assert rows(database_ini, "group") == 0  # rolled back


@needs_database
def test_call_names_an_unknown_action_and_a_failed_one(database_ini: Path) -> None:
    done = ckansig("--ckan-ini", str(database_ini), "call", "user_udpate",
                   cwd=database_ini.parent, code=2)
    last = done.stderr.strip().splitlines()[-1]  # (CKAN logs Solr's absence above it)
    assert "no action named 'user_udpate'" in last and "did you mean user_update" in last
    failed = ckansig("--ckan-ini", str(database_ini), "call", "user_create", "--kw", "name=x",
                     "--format", "json", cwd=database_ini.parent, code=1)
    assert json.loads(failed.stdout)["error"]["type"] in ("NotAuthorized", "ValidationError")


@pytest.mark.parametrize("kind", ["fifo", "device in the chain", "folder in the chain"])
def test_ckans_loader_is_never_handed_a_file_that_is_no_regular_file(tmp_path: Path,
                                                                    kind: str) -> None:
    # CKAN's loader would wait on a FIFO forever and read /dev/zero until the
    # memory ends: ckansig checks the whole use = config: chain first
    from .test_ckanini import _not_a_file

    given, culprit = _not_a_file(tmp_path, kind)
    done = ckansig("--ckan-ini", str(given), "list", cwd=tmp_path, code=2)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: {culprit}: "), last
    assert "Traceback" not in done.stderr


@needs_demo
@needs_database
def test_the_app_starts_once(database_ini: Path) -> None:
    # CKAN's start-up (update_config) runs as often as in CKAN's own make_app:
    # every start-up message, and every start-up error, is logged no more often
    marker = "Problems were found while connecting to the SOLR server"  # no Solr here
    own = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom ckan.cli import load_config\n"
         "from ckan.config.middleware import make_app\nmake_app(load_config(sys.argv[1]))",
         str(database_ini)], cwd=database_ini.parent, capture_output=True, text=True,
        timeout=120)
    expected = own.stderr.count(marker)
    assert expected >= 1, own.stderr[-2000:]
    for args in (["call", "status_show"], ["fire", "user_created", "--app", "--kw",
                                           "username=bob"]):
        done = ckansig("--ckan-ini", str(database_ini), *args, cwd=database_ini.parent)
        assert done.stderr.count(marker) == expected, (args, done.stderr[-3000:])
