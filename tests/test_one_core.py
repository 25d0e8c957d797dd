"""One send record, one redaction policy, recorders that nest (issue #21).

Each promise is broken on purpose by the receivers of ``fixtures/fx_core.py``
and checked on every surface that shows a send: ``fire`` (JSON and text),
``trace`` (its file and ``--tree``), the pytest report and the panel's
history, with every send validated against the published schema.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from blinker import Namespace
from hypothesis import given, settings
from hypothesis import strategies as st

from ckansig.cli import main
from ckansig.isolation import Interpreter
from ckansig.redaction import SecretBook, redact_argv
from ckansig.watching.jsonl import compact_json, link_json, record_json, send_tree_json
from ckansig.watching.recorder import record, scope
from ckansig.watching.records import link

from .conftest import FIXTURES, ROOT, valid_sends

PASSWORD = "hunter2-correct-horse"


def fire_json(runner, config: Path, *args: str, code: int = 0) -> dict:
    result = runner.invoke(main, ["fire", "-c", str(config), *args, "--format", "json"],
                           catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    document = json.loads(result.stdout)
    valid_sends([document])  # fire's document is a send, of the one shape
    return document


def fire_text(runner, config: Path, *args: str, code: int = 0) -> str:
    result = runner.invoke(main, ["fire", "-c", str(config), *args], catch_exceptions=False,
                           env={"COLUMNS": "250"})
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout


# -- recorders nest ------------------------------------------------------------------------


def test_a_recorder_a_plugin_started_survives_the_interpreter_guard() -> None:
    from blinker import Namespace

    outer_sends: list[Any] = []
    inner_sends: list[Any] = []
    guard = Interpreter()  # taken before plugin code runs
    started = record(outer_sends.append)  # a plugin starts one (the CKAN plugin's panel)
    started.__enter__()
    try:
        guard.restore()  # plugin code is done: ckansig puts back what it changed
        signal = Namespace().signal("nest")
        signal.connect(lambda sender: "ok", weak=False)
        with record(inner_sends.append):  # and call, fire or a test records inside it
            signal.send("x")
        assert [rec.name for rec in inner_sends] == ["nest"]
        assert [rec.name for rec in outer_sends] == ["nest"]
    finally:
        started.__exit__(None, None, None)


def test_fire_records_nested_sends_with_a_plugin_recorder_running(runner, write_config) -> None:
    config = write_config("fx_core:StartsRecorder", "fx_core:CorePlugin")
    try:
        document = fire_json(runner, config, "fx_core:outer", "--sender", "x")
        greeters = [r for r in document["receivers"] if r["receiver"].endswith("greet")]
        assert [len(r["children"]) for r in greeters] == [1, 1]
        recorded = sys.modules["fx_core"].RECORDED
        assert {rec.name for rec in recorded} >= {"fx_core:greeted"}  # the plugin's saw them
    finally:
        sys.modules["fx_core"].stop_recording()


# -- one tree: by position, not by name ----------------------------------------------------


def test_same_named_receivers_each_keep_their_own_sends(runner, write_config) -> None:
    config = write_config("fx_core:CorePlugin")
    document = fire_json(runner, config, "fx_core:outer", "--sender", "x")
    valid_sends([child for r in document["receivers"] for child in r["children"]])
    made = {str(r["result"]): [c["sender"] for c in r["children"]]
            for r in document["receivers"] if r["receiver"].endswith("greet")}
    assert made == {"'greeted by ann'": ["ann"], "'greeted by ben'": ["ben"]}


def test_recorded_sends_link_by_receiver_position() -> None:
    sys.path.insert(0, str(FIXTURES))
    import fx_core

    for greeter in fx_core.GREETERS:
        fx_core.outer.connect(greeter.greet)
    try:
        sends: list[Any] = []
        with record(sends.append), scope("test"):
            fx_core.outer.send("x")
        roots = link(sends)
        [root] = roots
        tree = send_tree_json(root)
        valid_sends([tree])
        for receiver in tree["receivers"]:
            who = receiver["result"].rsplit(" ", 1)[1].strip("'")
            assert [child["sender"] for child in receiver["children"]] == [who]
        # the JSON lines of trace's file link the same way
        lines = [json.loads(json.dumps(record_json(rec))) for rec in sends]
        valid_sends(lines)
        [line_root] = link_json(lines)
        assert [[c["sender"] for c in r["children"]] for r in line_root["receivers"]] == \
            [[c["sender"] for c in r["children"]] for r in tree["receivers"]]
    finally:
        for greeter in fx_core.GREETERS:
            fx_core.outer.disconnect(greeter.greet)


def test_fire_lists_the_receivers_it_did_not_call(runner, write_config) -> None:
    config = write_config("fx_fire:FirePlugin")
    document = fire_json(runner, config, "fx_fire:event", "--sender", "alice")
    assert [name.rsplit(".", 1)[1] for name in document["filtered"]] == ["only_bob"]
    assert document["dead"] == 0
    text = fire_text(runner, config, "fx_fire:event", "--sender", "alice")
    assert "not called (sender filter): fx_fire.only_bob" in text
    assert "blinker does not promise an order" not in text  # one receiver: no order shown


# -- one redaction policy ------------------------------------------------------------------


def test_a_parent_sends_password_is_hidden_in_everything_beneath_it(runner,
                                                                    write_config) -> None:
    config = write_config("fx_core:CorePlugin", "fx_core:EchoPlugin")
    document = fire_json(runner, config, "fx_core:outer", "--sender", "x", "--kw",
                         f"password={PASSWORD}")
    text = json.dumps(document)
    assert PASSWORD not in text
    [echo] = [r for r in document["receivers"] if r["receiver"].endswith("echo")]
    [nested] = echo["children"]
    valid_sends([nested])
    assert nested["kwargs"]["note"] == "the password is ***"
    # a model object is summarized: type, id and name, never its password hash
    assert nested["kwargs"]["account"] == "<Account id='acc-1' name='bob'>"
    # an object whose repr shows a secret-named field, likewise
    assert nested["receivers"][0]["result"] == "<Holder name='holder'>"
    shown = fire_text(runner, config, "fx_core:outer", "--sender", "x", "--kw",
                      f"password={PASSWORD}")
    assert PASSWORD not in shown and "the password is ***" in shown
    assert "blinker does not promise an order" in shown  # three receivers: an order shown


def test_an_exception_echoing_a_parents_secret_is_hidden(runner, write_config) -> None:
    config = write_config("fx_core:CorePlugin", "fx_core:RaisingPlugin")
    document = fire_json(runner, config, "fx_core:outer", "--sender", "x", "--kw",
                         f"password={PASSWORD}", code=1)
    assert PASSWORD not in json.dumps(document)
    [echo] = [r for r in document["receivers"] if r["receiver"].endswith("echo")]
    assert echo["error"]["message"] == "refused: the password is ***"


def _trace(tmp_path: Path, *program_args: str, tree: bool = True) -> tuple[str, list[dict]]:
    script = tmp_path / "program.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(FIXTURES)!r})\n"
        "import fx_core\n"
        "for g in fx_core.GREETERS:\n    fx_core.outer.connect(g.greet)\n"
        "fx_core.outer.connect(fx_core.echo)\n"
        "fx_core.echoed.connect(fx_core.hold)\n"
        f"fx_core.outer.send('x', password={PASSWORD!r})\n"
        "print('argv', sys.argv[1:])\n")
    records = tmp_path / "sends.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "ckansig", "trace", *(["--tree"] if tree else []), "-o",
         str(records), "--", sys.executable, str(script), *program_args],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={**os.environ, "COLUMNS": "250", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    return done.stderr, [json.loads(line) for line in records.read_text().splitlines()]


def test_trace_hides_parent_secrets_and_the_command_lines(tmp_path: Path) -> None:
    stderr, lines = _trace(tmp_path, "--password", "cmd-secret-1", "--token=cmd-secret-2",
                           "api_key=cmd-secret-3", "name=bob")
    valid_sends(lines)
    everything = stderr + json.dumps(lines)
    for secret in (PASSWORD, "cmd-secret-1", "cmd-secret-2", "cmd-secret-3", "pbkdf2"):
        assert secret not in everything, secret
    [scope_name] = {line["scope"] for line in lines}
    assert scope_name == ("command program.py --password *** --token=*** api_key=*** "
                          "name=bob")
    assert f"scope: {scope_name}" in stderr
    # the tree is linked by position: each greeter's send under its own receiver
    [root] = link_json(lines)
    made = [[c["sender"] for c in r["children"]] for r in root["receivers"]]
    assert sorted(made) == [["ann"], ["ben"], ["x"]]


def test_the_pytest_report_keeps_no_argument_values(pytester: pytest.Pytester) -> None:
    pytester.syspathinsert(str(FIXTURES))
    pytester.makepyfile(test_fx=f"""
import fx_core

def test_fails():
    fx_core.outer.connect(fx_core.echo)
    try:
        fx_core.outer.send("x", password={PASSWORD!r})
    finally:
        fx_core.outer.disconnect(fx_core.echo)
    assert False
""")
    result = pytester.runpytest("-p", "ckansig", "--signals-report")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    report = text[text.index("signals sent by failing tests (ckansig)"):]
    assert PASSWORD not in report
    assert "ckanext:fx_core:echoed sender='x'" in report


# -- the property: no secret reaches any output ---------------------------------------------

_KEYS = st.sampled_from(["password", "api_key", "token", "userSecret", "dbPass", "auth"])
_PLAIN = st.sampled_from(["name", "note", "title", "extras", "data"])
_SECRETS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_$!", min_size=3,
                   max_size=24).map(lambda s: "Zq" + s)  # not a word any output has of its own


def _placed(secret: str, key: str, depth: int, in_list: bool) -> dict[str, Any]:
    """``{key: secret}`` nested ``depth`` levels deep under plain keys (or in a list)."""
    value: Any = {key: secret}
    for level in range(depth):
        value = [value] if in_list and level % 2 else {"data": value}
    return {"payload": value}


@settings(max_examples=60, deadline=None)
@given(secret=_SECRETS, key=_KEYS, depth=st.integers(0, 4), in_list=st.booleans(),
       echo_key=_PLAIN)
def test_a_secret_anywhere_in_a_send_reaches_no_output(secret: str, key: str, depth: int,
                                                       in_list: bool, echo_key: str) -> None:
    from blinker import Signal

    from ckansig.output.sends_view import plain_tree

    parent, child = Signal("prop_parent"), Signal("prop_child")

    def echo(sender: Any, **kwargs: Any) -> str:
        child.send(f"from {secret}", **{echo_key: f"<{secret}>"})
        return f"saw {secret}"

    def fail(sender: Any, **kwargs: Any) -> None:
        raise ValueError(f"no {secret}")

    parent.connect(echo, weak=False)
    child.connect(fail, weak=False)
    sends: list[Any] = []
    with record(sends.append), scope("property"), contextlib.suppress(ValueError):
        parent.send("x", **_placed(secret, key, depth, in_list))
    [root] = link(sends)
    tree, lines, compact = (send_tree_json(root), [record_json(rec) for rec in sends],
                            [compact_json(rec) for rec in sends])
    valid_sends([tree, *lines, *compact])
    outputs = [json.dumps(tree), json.dumps(lines), json.dumps(compact),
               plain_tree("t", [tree])]
    for text in outputs:
        assert secret not in text


@settings(max_examples=200, deadline=None)
@given(secret=_SECRETS, option=st.sampled_from(["--password", "--token", "--api-key",
                                                 "--db-pass"]),
       form=st.sampled_from(["split", "equals", "pair"]),
       words=st.lists(st.sampled_from(["run", "-v", "name=bob", "--flag", "x.py"]),
                      max_size=4))
def test_a_secret_on_the_command_line_is_hidden(secret: str, option: str, form: str,
                                                words: list[str]) -> None:
    given_words = {"split": [option, secret], "equals": [f"{option}={secret}"],
                   "pair": [f"{option.lstrip('-')}={secret}"]}[form]
    argv = ["prog", *words, *given_words, *words]
    shown, secrets = redact_argv(argv)
    assert secret not in " ".join(shown)
    assert secret in secrets
    assert [w for w in shown if "***" not in w and w != option] == \
        [w for w in argv if secret not in w and w != option]
    # and once learned, the book hides it inside any text
    assert secret not in SecretBook(secrets).redactor().text(f"echo {secret}!")


# -- isolation keeps blinker whole ---------------------------------------------------------

private = Namespace()  # outside ckan and ckanext, as Flask's own signals are


def _kept(sender: Any, **kwargs: Any) -> str:
    return "kept"


def _other(sender: Any, **kwargs: Any) -> str:
    return "other"


def _filtered(sender: Any, **kwargs: Any) -> str:
    return "filtered"


def _results(signal: Any, sender: Any = "x") -> list[Any]:
    return sorted(str(result) for _, result in signal.send(sender))


def test_only_isolates_every_signal_and_undoes_what_the_block_connected() -> None:
    from ckansig.loading.blinker_state import is_weak, make_id
    from ckansig.testing.wiring import chooser, isolate

    signal = private.signal("core_private")
    signal.connect(_kept)
    signal.connect(_other)  # weakly, as blinker does by default
    signal.connect(_filtered, sender="bob")
    try:
        with isolate(chooser(None, [_kept])):
            assert _results(signal) == ["kept"]  # a private namespace is isolated too
            assert _results(signal, "bob") == ["kept"]
            made_inside = private.signal("core_made_inside")
            made_inside.connect(_other)
            signal.connect(_filtered, sender="carol")
        # back as it was: the weak receiver still weak, the filter still a filter
        assert _results(signal) == ["kept", "other"]
        assert _results(signal, "bob") == ["filtered", "kept", "other"]
        assert _results(signal, "carol") == ["kept", "other"]  # connected in the block: gone
        assert _results(made_inside) == []  # a signal made in the block: its receiver gone
        assert is_weak(signal, make_id(_other))
    finally:
        for receiver in (_kept, _other, _filtered):
            signal.disconnect(receiver)


def test_a_receiver_unloaded_inside_the_block_stays_unloaded() -> None:
    from ckansig.testing.wiring import chooser, isolate

    signal = private.signal("core_unloaded")
    signal.connect(_kept)
    signal.connect(_other)
    signal.connect(_filtered, sender="bob")
    try:
        with isolate(lambda receiver: not chooser(None, [_other, _filtered])(receiver)):
            signal.disconnect(_other)  # a plugin unloaded (CKAN's with_plugins), muted now
            signal.disconnect(_kept)  # and one that was running
        assert _results(signal) == []
        assert _results(signal, "bob") == ["filtered"]  # not unloaded: reconnected
        signal.disconnect(_filtered)  # and a later disconnect behaves as ever
        assert _results(signal, "bob") == []
    finally:
        for receiver in (_kept, _other, _filtered):
            signal.disconnect(receiver)


# -- the pytest plugin ---------------------------------------------------------------------

PYTEST_HEADER = """
from blinker import Namespace
from ckansig import signals

private = Namespace()  # as Flask's own signals live in one
flashed = private.signal("core_message_flashed")
ready = signals.ckanext.signal("core_ready")
"""


def test_a_private_namespaces_signal_is_known_by_name(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fx=PYTEST_HEADER + """
def test_sent_by_name(signal_log):
    flashed.send("app", message="hi")
    assert [r.sender for r in signal_log.sent("core_message_flashed")] == ["app"]
    signal_log.assert_sent("core_message_flashed", message="hi")
    signal_log.assert_not_sent("core_message_flashed", message="bye")

def test_known_before_it_is_sent(signal_log):
    signal_log.assert_not_sent("core_message_flashed")

def test_unknown_still_fails(signal_log):
    flashed.send("app")
    signal_log.assert_sent("core_message_flahsed")
""")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*no signal is 'core_message_flahsed'*did you mean "
                                 "'core_message_flashed'*"])


def test_a_payload_mismatch_shows_the_payload_and_what_differs(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fx=PYTEST_HEADER + f"""
def test_mismatch(signal_log):
    ready.send("bob", user={{"name": "bob", "state": "pending"}}, password={PASSWORD!r})
    signal_log.assert_sent("core_ready", sender="alice",
                           user={{"name": "bob", "state": "active", "email": "b@x.org"}})
""")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    message = text[text.index("AssertionError: expected"):]
    assert "kwargs={'user': {'name': 'bob', 'state': 'pending'}, 'password': '***'}" in message
    assert "sender: expected 'alice', got 'bob'" in message
    assert "kwargs['user']['state']: expected 'active', got 'pending'" in message
    assert "kwargs['user']['email']: missing" in message
    assert PASSWORD not in message


def test_the_report_of_a_test_with_many_sends_stays_short(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fx=PYTEST_HEADER + """
def on_ready(sender, **kwargs):
    return "ok"

def test_many(signal_log):
    ready.connect(on_ready)
    try:
        for index in range(2500):
            ready.send(f"s{index}", payload="x" * 1000)
    finally:
        ready.disconnect(on_ready)
    assert False
""")
    result = pytester.runpytest("-p", "no:cacheprovider", "--signals-report")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    section = text[text.index("signals sent by failing tests (ckansig)"):
                   text.index("signals sent (ckansig)")]
    assert len(section.splitlines()) < 220
    assert "ckanext:core_ready sender='s0'" in section
    # 2,000 kept, of which 100 drawn (two lines each); the rest counted
    assert "... and 2400 more send(s) in this test" in section


def test_xdist_workers_report_to_the_controller(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")  # in the test extra
    pytester.makeconftest("""
import pytest
from ckansig import signals

ready = signals.ckanext.signal("core_xdist")
RECEIVERS = []
for index in range(5):
    def receiver(sender, index=index, **kwargs):
        return index
    receiver.__name__ = receiver.__qualname__ = f"receiver_{index}"
    RECEIVERS.append(receiver)

@pytest.fixture(autouse=True)
def wired():
    for index, receiver in enumerate(RECEIVERS):
        ready.connect(receiver, sender=f"s{index}", weak=False)
    yield
    for receiver in RECEIVERS:
        ready.disconnect(receiver)
""")
    for index in range(2):  # two receivers of five ever run: 40%
        pytester.makepyfile(**{f"test_{index}": f"""
from conftest import ready

def test_send_{index}():
    ready.send("s{index}")
"""})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2",
                                           "--signals-report", "--signals-cov-fail-under=90")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*FAIL: 40.0% of the subscribed receivers ran*",
                                 "*ckanext:core_xdist: sent 2 time(s) by 2 test(s)*"])


@settings(max_examples=150, deadline=None)
@given(connections=st.lists(st.tuples(st.integers(0, 7), st.sampled_from(
    [None, "a", "b", 1, 2]), st.booleans()), max_size=12),
       sender=st.sampled_from(["a", "b", "c", 1, 2, 3, None]),
       disconnected=st.lists(st.tuples(st.integers(0, 7), st.sampled_from([None, "a", 1])),
                             max_size=4))
def test_not_called_is_the_walk_of_every_connection(connections: list[tuple[int, Any, bool]],
                                                    sender: Any,
                                                    disconnected: list[tuple[int, Any]]) -> None:
    """The fast answer (read from blinker's by-sender index) is the plain one:
    each connection looked at, as ``receivers_for`` would decide."""
    from blinker import ANY

    from ckansig.loading.blinker_state import ANY_ID, sender_id
    from ckansig.loading.blinker_state import connections as walk
    from ckansig.watching.records import not_called

    signal = Namespace().signal("core_not_called")
    receivers = [(lambda index: lambda sender, **kwargs: index)(i) for i in range(8)]
    for index, filtered_for, weak in connections:
        signal.connect(receivers[index], sender=ANY if filtered_for is None else filtered_for,
                       weak=weak)
    for index, filtered_for in disconnected:  # blinker keeps some, connected for nothing
        signal.disconnect(receivers[index], sender=ANY if filtered_for is None else filtered_for)
    sid = sender_id(sender)
    expected = [c.ref() for c in walk(signal) if c.ref() is not None and c.sender_ids
                and ANY_ID not in c.sender_ids and sid not in c.sender_ids]
    found = not_called(signal, sender)
    assert found.filtered == expected
    assert found.dead == sum(1 for c in walk(signal) if c.ref() is None)
