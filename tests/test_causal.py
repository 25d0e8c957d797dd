"""Sends cause sends: the recorder's ids, parents, receivers and scopes, the
tree under each receiver in ``fire``, and ``trace --tree``."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from blinker import Namespace, Signal

from ckansig.cli import main
from ckansig.watching.recorder import record, scope

from .conftest import ROOT

ns = Namespace()
outer = ns.signal("causal_outer")
inner = ns.signal("causal_inner")
deepest = ns.signal("causal_deepest")


def on_deepest(sender, **kwargs):
    return "deep"


def on_inner(sender, **kwargs):
    deepest.send(sender)
    return "inner"


def on_outer(sender, **kwargs):
    inner.send(sender, step=1)
    return "outer"


def quiet(sender, **kwargs):
    return "quiet"


def test_each_send_knows_its_parent_and_the_receiver_that_made_it() -> None:
    for signal, receiver in ((outer, quiet), (outer, on_outer), (inner, on_inner),
                             (deepest, on_deepest)):
        signal.connect(receiver)
    try:
        sends = []
        with record(sends.append), scope("test here"):
            outer.send("x")
        by_name = {rec.name: rec for rec in sends}
        top, middle, bottom = (by_name[n] for n in ("causal_outer", "causal_inner",
                                                    "causal_deepest"))
        assert top.parent is None and top.via is None
        assert (middle.parent, middle.via) == (top.id, on_outer)
        assert (bottom.parent, bottom.via) == (middle.id, on_inner)
        assert {rec.scope for rec in sends} == {"test here"}
        assert top.id < middle.id < bottom.id
    finally:
        for signal, receiver in ((outer, quiet), (outer, on_outer), (inner, on_inner),
                                 (deepest, on_deepest)):
            signal.disconnect(receiver)


def test_threads_and_tasks_never_mix() -> None:
    def in_a_thread(sender, **kwargs):
        worker = threading.Thread(target=inner.send, args=("thread",))
        worker.start()
        worker.join()

    async def on_async(sender, **kwargs):
        await asyncio.sleep(0)

    outer.connect(in_a_thread)
    inner.connect(quiet)
    try:
        sends = []
        with record(sends.append):
            outer.send("x")
            if hasattr(outer, "send_async"):
                async def two_tasks():
                    with scope("task a"):
                        first = asyncio.ensure_future(inner.send_async("a", _sync_wrapper=None))
                    with scope("task b"):
                        second = asyncio.ensure_future(inner.send_async("b", _sync_wrapper=None))
                    await asyncio.gather(first, second)

                inner.disconnect(quiet)
                inner.connect(on_async)
                asyncio.run(two_tasks())
        thread_send = next(r for r in sends if r.sender == "thread")
        assert thread_send.parent is None  # another thread: not a child of the send
        scopes = {r.sender: r.scope for r in sends if r.sender in ("a", "b")}
        assert scopes == ({"a": "task a", "b": "task b"} if hasattr(outer, "send_async")
                          else {})
    finally:
        outer.disconnect(in_a_thread)
        inner.disconnect(quiet)


def test_fire_shows_the_sends_receivers_made(runner) -> None:
    result = runner.invoke(main, ["-c", str(ROOT / "plugins.toml"), "fire", "user_created",
                                  "--kw", "username=bob", "--format", "json"])
    document = json.loads(result.stdout)
    [receiver] = document["receivers"]
    [child] = receiver["children"]
    assert (child["signal"], child["namespace"], child["sender"]) == (
        "custom_something_happened", "ckanext", "bob")
    assert child["via"] == "ckanext.custom.plugin.CustomPlugin.announce_new_user"
    assert [r["receiver"] for r in child["receivers"]] == [
        "ckanext.ext.listeners.custom_listener"]
    assert child["receivers"][0]["children"] == []
    text = runner.invoke(main, ["-c", str(ROOT / "plugins.toml"), "fire", "user_created",
                                "--kw", "username=bob"]).stdout
    assert "sends made by #1 ckanext.custom.plugin.CustomPlugin.announce_new_user" in text
    assert "ckanext:custom_something_happened sender='bob'" in text
    assert "ckanext.ext.listeners.custom_listener: ok -> 'ext saw user_created from bob'" in text


def test_fire_trees_nest_and_hide_secrets(write_config, runner, tmp_path: Path) -> None:
    module = tmp_path / "fx_causal.py"
    module.write_text(
        "from ckansig import plugins as p, signals\n"
        "relay = signals.ckanext.signal('fx_causal_relay')\n"
        "leaf = signals.ckanext.signal('fx_causal_leaf')\n"
        "def on_leaf(sender, **kw):\n    return 'leaf saw ' + kw.get('note', '')\n"
        "def on_relay(sender, **kw):\n"
        "    leaf.send(sender, note=kw['api_key'])\n    return 'relayed'\n"
        "def on_user(sender, **kw):\n"
        "    relay.send(sender, api_key='s3cret-token-42')\n    return 'started'\n"
        "class Plugin(p.SingletonPlugin):\n    p.implements(p.ISignal)\n"
        "    def get_signal_subscriptions(self):\n"
        "        return {signals.user_created: [on_user], relay: [on_relay], leaf: [on_leaf]}\n")
    config = write_config("fx_causal:Plugin", paths=[str(tmp_path)])
    result = runner.invoke(main, ["-c", str(config), "fire", "user_created", "--sender", "bob",
                                  "--format", "json"])
    assert "s3cret-token-42" not in result.stdout
    [receiver] = json.loads(result.stdout)["receivers"]
    [relay] = receiver["children"]
    assert relay["kwargs"] == {"api_key": "***"}
    [leaf] = relay["receivers"][0]["children"]
    assert leaf["signal"] == "fx_causal_leaf" and leaf["receivers"][0]["result"] == \
        "'leaf saw ***'"
    shown = runner.invoke(main, ["-c", str(config), "fire", "user_created", "--sender", "bob",
                                 "--no-redact", "--format", "json"]).stdout
    assert "s3cret-token-42" in shown


def test_trace_tree(tmp_path: Path) -> None:
    script = tmp_path / "program.py"
    script.write_text(
        "from blinker import Namespace\nns = Namespace()\n"
        "a, b = ns.signal('prog_a'), ns.signal('prog_b')\n"
        "def on_b(sender, **kw):\n    return 'b'\n"
        "def on_a(sender, **kw):\n    b.send(sender)\n    return 'a'\n"
        "def only_for_z(sender, **kw):\n    return 'z'\n"
        "a.connect(on_a)\nb.connect(on_b)\nb.connect(only_for_z, sender='z')\n"
        "ns.signal('prog_orphan').send('nobody')\na.send('x')\n"
        "ns.signal('prog_[red]markup[/red]').send('[bold]m')\n")
    records = tmp_path / "sends.jsonl"
    done = subprocess.run([sys.executable, "-m", "ckansig", "trace", "--tree", "-o",
                           str(records), "--", sys.executable, str(script)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in records.read_text().splitlines()]
    by_signal = {line["signal"]: line for line in lines}
    assert by_signal["prog_b"]["parent"] == by_signal["prog_a"]["id"]
    assert by_signal["prog_b"]["via"] == "__main__.on_a"
    assert by_signal["prog_b"]["filtered"] == ["__main__.only_for_z"]
    assert by_signal["prog_orphan"]["orphan"] is True
    assert {line["scope"] for line in lines} == {"command program.py"}
    tree = done.stderr[done.stderr.index("scope: command program.py"):]
    assert tree.index("prog_a sender='x'") < tree.index("__main__.on_a: ok") \
        < tree.index("prog_b sender='x'") < tree.index("__main__.on_b: ok")
    assert "not called (sender filter): __main__.only_for_z" in tree
    orphan = tree.index("prog_orphan sender='nobody'")
    assert tree.index("no receivers", orphan) < tree.index("prog_a sender='x'")
    assert "prog_[red]markup[/red] sender='[bold]m'" in tree  # names are data, not markup


def test_call_needs_ckan_mode(runner) -> None:
    result = runner.invoke(main, ["-c", str(ROOT / "plugins.toml"), "call", "user_create"])
    assert result.exit_code == 2
    assert "needs CKAN installed here and a CKAN config file" in result.stderr


def test_each_receiver_is_timed_and_left_untouched() -> None:
    import time

    from blinker import Signal

    timed = Signal("timed")

    def slow(sender: object) -> str:
        time.sleep(0.02)
        return "slow"

    def fast(sender: object) -> str:
        return "fast"

    def broken(sender: object) -> None:
        time.sleep(0.01)
        raise ValueError("broken")

    timed.connect(slow)
    timed.connect(fast)
    records: list = []
    with record(records.append):
        assert timed.send("me") == [(slow, "slow"), (fast, "fast")]  # what send returns
        timed.connect(broken)
        with pytest.raises(ValueError):
            timed.send("me")
    ok, failed = ({o.receiver.__name__: o for o in rec.outcomes} for rec in records)
    assert {o.status for o in ok.values()} == {"ok"}
    assert ok["slow"].duration >= 0.02 > ok["fast"].duration
    assert failed["broken"].status == "error" and failed["broken"].duration >= 0.01
    assert Signal.receivers_for.__module__ == "blinker.base"  # the original is back


def test_a_forward_connected_before_recording_is_recorded(monkeypatch) -> None:
    # CKAN forwards Flask's request_started as ckan's: source.connect(target.send),
    # at import time, before any recorder patched Signal.send
    import types

    source, target = Namespace().signal("flask-like"), Namespace().signal("forwarded")
    module = types.ModuleType("fx_flask.signals")  # found as Flask's are: a *signals module
    module.request_started = source
    monkeypatch.setitem(sys.modules, module.__name__, module)
    source.connect(target.send)
    target.connect(on_deepest)
    held = dict(source.receivers)
    records: list = []
    with record(records.append):
        source.send("app")
    assert [r.name for r in records] == ["forwarded", "flask-like"]  # child first: it ends first
    forwarded, flask_like = records
    assert forwarded.parent == flask_like.id and forwarded.outcomes[0].result == "deep"
    assert source.receivers == held  # the forward is blinker's own weak reference again
    assert next(iter(source.receivers_for("app"))) == target.send


def test_signal_identity_is_cached_without_changing_an_answer() -> None:
    from ckansig import signals
    from ckansig.watching.records import _identify, signal_identity

    inside = signals.ckanext.signal("identity_cached")
    outside = Namespace().signal("identity_cached")
    for _ in range(2):  # computed, then cached
        assert signal_identity(inside) == _identify(inside)[:2] == ("ckanext", "identity_cached")
        assert signal_identity(outside) == _identify(outside)[:2] == (None, "identity_cached")
    del signals.ckanext["identity_cached"]  # a test emptying the namespace
    assert signal_identity(inside) == _identify(inside)[:2] == (None, "identity_cached")


def test_a_forward_among_many_receivers_is_found_by_its_id(monkeypatch) -> None:
    # a source with more receivers than there are signals is not walked: the
    # forward's id, (send, target) in blinker's terms, is looked up instead
    import types

    source, target = Namespace().signal("busy"), Namespace().signal("busy_target")
    module = types.ModuleType("fx_busy.signals")
    module.source, module.target = source, target
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for number in range(300):
        source.connect(lambda sender, number=number: number, weak=False)
    records = _forwarded(source, target)
    assert [r.name for r in records] == ["busy_target", "busy"]
    assert records[0].parent == records[1].id


def _forwarded(source: Signal, target: Signal) -> list:
    """The records of ``source.send``, once ``source`` forwards to ``target``."""
    source.connect(target.send)
    target.connect(on_deepest)
    records: list = []
    with record(records.append):
        source.send("app")
    return records


def test_a_signals_module_imported_after_a_recording_is_found_by_the_next(monkeypatch) -> None:
    # the *signals modules are looked for again whenever the imported names
    # change, and their signals are read afresh every time
    import types

    with record(lambda rec: None):
        pass  # a first recording: the imported names are remembered
    source, target = Namespace().signal("late"), Namespace().signal("late_target")
    module = types.ModuleType("fx_late.signals")
    module.source = source
    monkeypatch.setitem(sys.modules, module.__name__, module)
    assert [r.name for r in _forwarded(source, target)] == ["late_target", "late"]
    # the same name, another module (a reload): the same names, new signals
    again = Namespace().signal("late_again")
    other = types.ModuleType(module.__name__)
    other.source = again
    monkeypatch.setitem(sys.modules, module.__name__, other)
    assert [r.name for r in _forwarded(again, target)] == ["late_target", "late_again"]
