"""The console script pauses and freezes the cyclic GC for speed
(``ckansig.cli.gc_policy``). Results must be the same with and without it,
and the same as the library's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ckansig.config import load_config
from ckansig.doctor import diagnose
from ckansig.loading import load

#: The CLI without the console script's GC policy.
PLAIN = [sys.executable, "-c", "import sys; from ckansig.cli import main; "
         "sys.exit(main(prog_name='ckansig'))"]


def console_script() -> list[str]:
    script = shutil.which("ckansig", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the ckansig console script is not installed next to this Python")
    return [script]


def run(command: list[str], *args: str, cwd: Path) -> tuple[int, dict]:
    env = {k: v for k, v in os.environ.items() if k not in ("CKANSIG_CONFIG", "CKAN_INI")}
    done = subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)
    return done.returncode, json.loads(done.stdout)


def test_a_receiver_kept_only_by_a_cycle_is_dropped_everywhere(write_config, tmp_path) -> None:
    config = write_config("fx_cycle:CyclePlugin")
    library = diagnose(load(load_config(config)), load_config(config))
    assert [p.id for p in library.active()] == ["SIG007"]

    results = {}
    for name, command in (("console script", console_script()), ("plain", PLAIN)):
        list_code, listed = run(command, "list", "--format", "json", "--subscribed",
                                cwd=tmp_path)
        doctor_code, checked = run(command, "doctor", "--format", "json", cwd=tmp_path)
        receivers = [r for s in listed["signals"] for r in s["receivers"]]
        assert [(r["receiver"], r["alive"]) for r in receivers] == [
            ("fx_cycle.Holder.on_user_created", False)], name
        assert [p["id"] for p in checked["problems"]] == ["SIG007"], name
        assert (list_code, doctor_code) == (0, 1), name
        results[name] = (listed, checked)
    assert results["console script"] == results["plain"]


def test_bundled_example_is_the_same_with_and_without_the_policy() -> None:
    root = Path(__file__).parent.parent
    for args in (["list", "--format", "json"], ["doctor", "--format", "json"],
                 ["fire", "failed_login", "--kw", "username=bob", "--dry-run",
                  "--format", "json"]):
        assert run(console_script(), *args, cwd=root) == run(PLAIN, *args, cwd=root), args


def _alive(registry) -> list[tuple[str, str, bool, bool]]:
    return sorted((info.key, sub.receiver.name, sub.weak, sub.alive)
                  for info in registry.signals for sub in info.subscriptions)


@pytest.mark.parametrize("plugins", [
    ["fx_cycle:CyclePlugin"],  # doubtful: collected, dropped
    ["fx_doc:DroppedMethod", "fx_subs:Dropped"],  # dropped without a collection
    ["fx_doc:KeptAlive", "fx_good:GoodPlugin", "fx_import_time"],  # surely alive: no collection
    ["fx_doc:FloatSender", "fx_doc:Twice"],  # object senders: doubtful
])
def test_skipping_the_collection_never_changes_a_result(write_config, clean_slate, monkeypatch,
                                                        plugins) -> None:
    """The loader skips its collection when every weak receiver is surely
    alive; forcing the collection every time gives the same registry."""
    from ckansig.loading import building

    config = load_config(write_config(*plugins))
    fast = _alive(load(config))
    clean_slate.restore()
    monkeypatch.setattr(building, "surely_alive", lambda receiver, kept: False)
    assert _alive(load(config)) == fast


def test_liveness_is_conservative(monkeypatch) -> None:
    from ckansig.loading.liveness import surely_alive

    from .conftest import FIXTURES

    monkeypatch.syspath_prepend(str(FIXTURES))
    import fx_cycle
    import fx_good

    holder = fx_cycle.Holder()
    plugin = fx_good.GoodPlugin()
    assert not surely_alive(holder.on_user_created, kept=set())  # a method of any object
    assert surely_alive(holder.on_user_created, kept={id(holder)})  # of a kept object
    assert surely_alive(plugin.only_bob, kept={id(plugin)})
    assert surely_alive(fx_good.on_user_created, kept=set())  # a module-level function
    assert not surely_alive(lambda sender: None, kept=set())
    assert not surely_alive(print, kept=set())
    renamed = fx_good.on_user_created
    fx_good.__dict__["on_user_created"] = lambda sender: None
    try:  # its name no longer leads back to it: doubtful
        assert not surely_alive(renamed, kept=set())
    finally:
        fx_good.__dict__["on_user_created"] = renamed


@pytest.mark.parametrize(("plugins", "collects"), [
    (["fx_good:GoodPlugin", "fx_import_time"], False),
    (["fx_cycle:CyclePlugin"], True),
])
def test_the_collection_runs_only_when_in_doubt(write_config, monkeypatch, plugins,
                                                collects) -> None:
    import gc

    from ckansig.isolation import GC

    calls = []
    collect = gc.collect
    # ckansig calls the collector it started with (GC), whatever a plugin does to gc
    monkeypatch.setattr(type(GC), "collect",
                        staticmethod(lambda *a: calls.append(a) or collect(*a)))
    load(load_config(write_config(*plugins)))
    assert bool(calls) == collects


@pytest.mark.parametrize("plugins", [
    ["fx_cycle:CyclePlugin"],
    ["fx_doc:DroppedMethod", "fx_subs:Dropped"],
    ["fx_doc:KeptAlive", "fx_good:GoodPlugin", "fx_import_time"],
    ["fx_doc:FloatSender", "fx_doc:Twice"],
])
def test_doctor_on_a_settled_registry_needs_no_collection(write_config, monkeypatch,
                                                          plugins) -> None:
    """diagnose skips its collection for the loader's (settled) registry; a
    registry not known to be settled is collected first: the same findings."""
    import gc

    from ckansig.isolation import GC

    config = load_config(write_config(*plugins))
    registry = load(config)
    assert registry.settled
    calls = []
    collect = gc.collect
    monkeypatch.setattr(type(GC), "collect",
                        staticmethod(lambda *a: calls.append(a) or collect(*a)))
    settled = diagnose(registry, config)
    assert calls == []
    registry.settled = False
    assert diagnose(registry, config) == settled and len(calls) == 1
