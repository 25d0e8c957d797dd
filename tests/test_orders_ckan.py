"""Issue #27 against real CKAN, PostgreSQL and Redis: ``--orders`` finds two
receivers that depend on each other's order, ``fuzz`` finds a receiver that
crashes on a legal call without an optional field, and both leave the
database as it was. The planted bugs are in tests/fixtures/fx_ckan_orders.py.
There is no Solr here: the search index is a stand-in (tests/solr_standin.py).
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from .solr_standin import solr_standin
from .test_ckan import ckansig, pytestmark, release
from .test_rollback import changed, needs_database, plugin_site_ini, tables

__all__ = ["pytestmark"]


@pytest.fixture(scope="module")
def search_index() -> Iterator[str]:
    with solr_standin() as url:
        yield url


def _ini(folder: Path, name: str, plugins: str, solr_url: str) -> Path:
    return plugin_site_ini(folder, name, "fx_ckan_orders",
                           "[ckan.plugins]\nfx_orders = fx_ckan_orders:OrdersPlugin\n"
                           "fx_fuzz = fx_ckan_orders:FuzzPlugin\n", plugins, solr_url)


@pytest.fixture(scope="module")
def planted_ini(tmp_path_factory: pytest.TempPathFactory, search_index: str) -> Path:
    """Core activity and the planted bugs."""
    return _ini(tmp_path_factory.mktemp("orders"), "orders", "activity fx_orders fx_fuzz",
                search_index)


@pytest.fixture(scope="module")
def activity_ini(tmp_path_factory: pytest.TempPathFactory, search_index: str) -> Path:
    """Core activity, and examples/ckanext-demo (its count_users receives
    action_succeed for user_create, as activity's user_changed does)."""
    return _ini(tmp_path_factory.mktemp("activity"), "activity", "activity demo",
                search_index)


def _replayed(command: str, ini: Path) -> list[str]:
    """The arguments of a printed replay command, without its ``ckansig``."""
    words = shlex.split(command)
    assert words[0] == "ckansig"
    return words[1:]


@needs_database
def test_orders_find_the_receivers_that_depend_on_their_order(planted_ini: Path) -> None:
    before = tables(planted_ini)
    done = ckansig("--ckan-ini", str(planted_ini), "call", "organization_create",
                   "--kw", "name=ordered", "--user", "bob", "--orders", "--format", "json",
                   cwd=planted_ini.parent, code=1)
    document = json.loads(done.stdout)
    assert changed(before, tables(planted_ini)) == {}  # every run rolled back
    # activity's receiver and the two planted ones: every one of the 3! orders
    assert len(document["runs"]) == 6
    orders = [tuple(run["orders"][0]["receivers"]) for run in document["runs"]]
    assert len(set(orders)) == 6
    by_path = {found["path"].rsplit(" → ", 1)[-1]: found for found in document["dependent"]}
    publish = by_path["fx_ckan_orders.OrdersPlugin.publish"]
    assert sorted(publish["fields"]["status"].values()) == ["error", "ok"]
    assert "the action" in by_path
    assert document["dependent"][0] is publish or document["dependent"][0]["path"].endswith(
        "publish")  # the receiver that raised comes first
    # each replay runs that order alone: publish raises in one, not in the other
    outcomes = {}
    for command in publish["replay"]:
        replay = ckansig(*_replayed(command, planted_ini), "--format", "json",
                         cwd=planted_ini.parent, code=None)
        call = json.loads(replay.stdout)
        outcomes[replay.returncode] = call["error"]
    assert set(outcomes) == {0, 1}
    assert outcomes[1]["type"] == "AttributeError" and outcomes[0] is None
    assert changed(before, tables(planted_ini)) == {}


@needs_database
def test_orders_text_names_the_culprit_and_the_replays(planted_ini: Path) -> None:
    done = ckansig("--ckan-ini", str(planted_ini), "call", "organization_create",
                   "--kw", "name=ordered", "--user", "bob", "--orders",
                   cwd=planted_ini.parent, code=1)
    first = done.stdout.splitlines()[1]
    assert first.startswith("✗ ") and first.endswith("OrdersPlugin.publish: depends on the order")
    assert "--order 1" in done.stdout and "replay: ckansig --ckan-ini" in done.stdout
    assert "Traceback" not in done.stderr


@needs_database
def test_fire_orders_in_the_app(planted_ini: Path) -> None:
    done = ckansig("--ckan-ini", str(planted_ini), "fire", "action_succeeded", "--app",
                   "--sender", "organization_create", "--kw", 'result={"name": "x"}',
                   "--orders", "--format", "json", cwd=planted_ini.parent, code=1)
    document = json.loads(done.stdout)
    assert len(document["runs"]) == 6
    paths = [found["path"] for found in document["dependent"]]
    assert paths[0].endswith("OrdersPlugin.publish"), paths


@needs_database
def test_fuzz_finds_the_receiver_that_crashes_on_a_legal_call(planted_ini: Path) -> None:
    before = tables(planted_ini)
    done = ckansig("--ckan-ini", str(planted_ini), "fuzz", "package_create", "--user", "bob",
                   "--max-examples", "60", "--format", "json", cwd=planted_ini.parent,
                   code=1)
    document = json.loads(done.stdout)
    assert changed(before, tables(planted_ini)) == {}
    assert document["accepted"] + document["crashed"] + sum(document["rejected"].values()) \
        == document["examples"] <= 60
    from .test_docs_examples import example, overlap, shape

    overlap(shape(example("### `ckansig fuzz --format json`")), shape(document))
    [crash] = [c for c in document["crashes"] if c["receiver"].endswith("summarise")]
    assert crash["error"] == {"type": "KeyError", "message": "'notes'"}
    # shrunk: the required name alone (hypothesis's smallest name is two characters)
    assert set(crash["data_dict"]) == {"name"}, crash
    replay = ckansig(*_replayed(crash["replay"], planted_ini), "--format", "json",
                     cwd=planted_ini.parent, code=1)
    assert json.loads(replay.stdout)["error"]["type"] == "KeyError"


@needs_database
def test_fuzz_bad_inputs(planted_ini: Path) -> None:
    done = ckansig("--ckan-ini", str(planted_ini), "fuzz", "package_show",
                   cwd=planted_ini.parent, code=2)
    assert "knows no schema for 'package_show'" in done.stderr
    assert "Traceback" not in done.stderr
    done = ckansig("--ckan-ini", str(planted_ini), "fuzz", "no_such_action",
                   cwd=planted_ini.parent, code=2)
    assert "no action named 'no_such_action'" in done.stderr


@needs_database
def test_core_activity(activity_ini: Path) -> None:
    """The same runs on core activity (with the demo extension): what they
    find is saved (and .ci/run prints it) for each CKAN release; they must
    run to the end, and user_create's two receivers must be run both ways."""
    found = [f"CKAN {'.'.join(map(str, release()))}, core activity and ckanext-demo:"]
    before = tables(activity_ini)
    for action, kw in [("user_create", ["--kw", "name=carol", "--kw", "email=c@example.org",
                                        "--kw", "password=correct-horse-42"]),
                       ("organization_create", ["--kw", "name=org"]),
                       ("package_create", ["--kw", "name=data"])]:
        done = ckansig("--ckan-ini", str(activity_ini), "call", action, *kw, "--user", "bob",
                       "--orders", "--format", "json", cwd=activity_ini.parent, code=None)
        assert done.returncode in (0, 1), done.stderr[-2000:]
        document = json.loads(done.stdout)
        if action == "user_create":
            assert len(document["runs"]) == 2, document["runs"]
        found.append(f"  call {action} --orders: {len(document['runs'])} order(s), "
                     f"{len(document['dependent'])} outcome(s) depend on the order")
    for action in ("package_create", "organization_create", "user_create"):
        done = ckansig("--ckan-ini", str(activity_ini), "fuzz", action, "--user", "bob",
                       "--max-examples", "50", "--format", "json", cwd=activity_ini.parent,
                       code=None)
        assert done.returncode in (0, 1), done.stderr[-2000:]
        document = json.loads(done.stdout)
        crashes = "; ".join(f"{c['receiver']} {c['error']['type']}: {c['error']['message']} "
                            f"on {json.dumps(c['data_dict'])}" for c in document["crashes"])
        found.append(f"  fuzz {action}: {document['examples']} calls, {document['accepted']} "
                     f"accepted, {document['crashed']} crashed: {crashes or 'no crash'}")
    assert changed(before, tables(activity_ini)) == {}
    folder = Path(os.environ.get("CKANSIG_ARTIFACTS") or activity_ini.parent)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"core-activity-{'.'.join(map(str, release()))}.txt").write_text(
        "\n".join(found) + "\n")


SHUFFLED_TEST = '''
import uuid

import ckan.plugins.toolkit as tk
from ckan.cli import load_config
from ckan.config.middleware import make_app

app = make_app(load_config({ini!r}))


def test_organization_create():
    with app._wsgi_app.test_request_context("/"):
        tk.get_action("organization_create")(
            {{"user": "bob", "ignore_auth": True}}, {{"name": f"org-{{uuid.uuid4().hex[:8]}}"}})
'''


@needs_database
def test_signals_shuffle_finds_the_same_dependence(planted_ini: Path, tmp_path: Path) -> None:
    """``pytest --signals-shuffle=SEED``, on a test that calls the real action:
    some seeds make publish run before stamp (the test fails, and says which
    seed replays it), others do not; a failing seed fails again."""
    import subprocess
    import sys

    (tmp_path / "test_shuffled.py").write_text(SHUFFLED_TEST.format(ini=str(planted_ini)))

    def run(seed: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "-p", "no:ckan", "-p", "no:ckan_fixtures",
                               f"--signals-shuffle={seed}", "test_shuffled.py"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)

    codes = {seed: run(seed) for seed in range(8)}
    failing = [seed for seed, done in codes.items() if done.returncode == 1]
    passing = [seed for seed, done in codes.items() if done.returncode == 0]
    assert failing and passing, {seed: done.stdout[-500:] for seed, done in codes.items()}
    failed = codes[failing[0]].stdout
    assert "AttributeError" in failed and "fx_stamp" in failed
    assert f"--signals-shuffle={failing[0]} replays them" in failed
    assert run(failing[0]).returncode == 1
