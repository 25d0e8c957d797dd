"""Issue #21 in a real CKAN app: recorders nest (``call`` with the ckansig
plugin recording every request in debug mode) and no output shows a model
object's secret columns (CKAN's ``User`` repr holds the password hash)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import valid_sends
from .test_ckan import ckansig
from .test_webapp import PASSWORD, pytestmark, run_app, sends, web_ini

__all__ = ["pytestmark"]  # CKAN, Flask-DebugToolbar and PostgreSQL, as test_webapp's


def shape(send: dict[str, Any]) -> list[Any]:
    """A send tree without ids, times and results: what must not depend on who
    records. Receivers are sorted: blinker 1.8+ keeps them in sets, so the order
    they run in is an accident of memory layout, from one process to the next."""
    return [send["signal"], send["sender"], sorted(
        [receiver["receiver"], receiver["status"], [shape(c) for c in receiver["children"]]]
        for receiver in send["receivers"])]


def call_user_create(ini: Path, name: str) -> dict[str, Any]:
    data = {"name": name, "email": f"{name}@example.org", "password": PASSWORD}
    done = ckansig("--ckan-ini", str(ini), "call", "user_create", "--user", "admin", "--data",
                   json.dumps(data), "--format", "json", cwd=ini.parent)
    assert PASSWORD not in done.stdout and "pbkdf2" not in done.stdout
    document: dict[str, Any] = json.loads(done.stdout)
    valid_sends(document["sends"])
    return document


def test_call_records_the_same_tree_with_the_panel_recording(tmp_path: Path) -> None:
    plain = call_user_create(web_ini(tmp_path / "plain", debug=False, plugins="activity demo"),
                             "carol")
    panel = call_user_create(web_ini(tmp_path / "panel", debug=True,
                                     plugins="activity demo ckansig"), "carol")
    assert len(plain["sends"]) >= 2
    assert sorted(map(shape, panel["sends"]), key=repr) == \
        sorted(map(shape, plain["sends"]), key=repr)
    # user_created's user is a model object: summarized, never its repr
    [created] = [s for s in plain["sends"] if s["signal"] == "user_created"]
    assert created["kwargs"]["user"].startswith("<User id=")
    assert created["kwargs"]["user"].endswith("name='carol'>")
    text = ckansig("--ckan-ini", str(tmp_path / "panel" / "ckan.ini"), "call", "user_create",
                   "--user", "admin", "--data", json.dumps(
                       {"name": "dave", "email": "d@example.org", "password": PASSWORD}),
                   cwd=tmp_path / "panel").stdout
    assert "ckan:user_created sender='dave'" in text
    assert PASSWORD not in text and "pbkdf2" not in text


def test_the_panels_history_is_of_the_one_shape_and_hides_password_hashes(
        tmp_path: Path) -> None:
    ini = web_ini(tmp_path)
    new_user = {"name": "erin", "email": "erin@example.org", "password": PASSWORD}
    out = run_app(ini, ("GET", "TOKEN", None), ("POST", "/api/3/action/user_create", new_user),
                  ("GET", "/_ckansig/sends", None))
    body = out["GET /_ckansig/sends"]["body"]
    assert PASSWORD not in body and "pbkdf2" not in body
    for request in sends(out):
        valid_sends(request["sends"])


# Runs in a subprocess (CKAN's plugins are global state): load and unload the
# demo plugin with CKAN's own use_plugin around and inside only() and mute().
ISOLATION = """
import json, sys
from ckan.cli import load_config
from ckan.config.middleware import make_app
import ckan.plugins as p
from ckansig.testing.log import SignalLog
from ckansig.testing.wiring import connected, module_of

make_app(load_config(sys.argv[1]))
log = SignalLog()

def demo():
    # connected for some sender (blinker keeps a receiver disconnected from
    # its only sender in .receivers, for no sender)
    return sorted(c.receiver.__name__ for c in connected().values()
                  if c.sender_ids and module_of(c.receiver).startswith("ckanext.demo"))

out = {}
with p.use_plugin("demo"):
    out["loaded"] = demo()
    with log.only(plugin="demo"):
        out["only"] = demo()
    with log.mute(plugin="demo"):
        out["muted"] = demo()
out["unloaded after only and mute"] = demo()
with log.only(plugin="activity"):
    with p.use_plugin("demo"):
        pass
out["loaded and unloaded inside only"] = demo()
with p.use_plugin("demo"):
    with log.mute(plugin="demo"):
        p.unload("demo")
        p.load("demo")
        out["reloaded inside mute"] = demo()
    out["after mute"] = demo()
out["at the end"] = demo()
print(json.dumps(out))
"""


def test_a_plugin_unloaded_around_only_and_mute_leaves_no_receiver(tmp_path: Path) -> None:
    import subprocess
    import sys

    ini = web_ini(tmp_path, debug=False, plugins="activity")
    done = subprocess.run([sys.executable, "-c", ISOLATION, str(ini)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    loaded = out["loaded"]
    assert loaded, out  # the demo has receivers
    assert out["only"] == loaded and out["muted"] == []
    assert out["unloaded after only and mute"] == []
    assert out["loaded and unloaded inside only"] == []
    assert out["reloaded inside mute"] == loaded  # connected again inside the block ...
    assert out["after mute"] == loaded  # ... as they were before it: they stay
    assert out["at the end"] == []  # and CKAN's unload disconnects them
