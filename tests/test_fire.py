"""``ckansig fire`` and the tracing library under it."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckansig.cli import main
from ckansig.config import load_config
from ckansig.firing import fire
from ckansig.loading import load

from .conftest import ROOT, valid_sends

SIGNAL = "fx_fire:event"


def run(runner, *args: str, input: str | None = None):
    return runner.invoke(main, list(args), input=input, catch_exceptions=False)


def fire_json(runner, config: Path, *args: str, code: int = 0, input: str | None = None):
    result = run(runner, "fire", "-c", str(config), *args, "--format", "json", input=input)
    assert result.exit_code == code, (result.stdout, result.stderr)
    document = json.loads(result.stdout)
    valid_sends([document])  # a send, of the one published shape
    return document


def by_receiver(document: dict) -> dict[str, dict]:
    return {r["receiver"].rsplit(".", 1)[-1]: r for r in document["receivers"]}


def test_ok_and_sender_filtered_receivers(runner, write_config) -> None:
    config = write_config("fx_fire:FirePlugin")
    document = fire_json(runner, config, SIGNAL, "--sender", "bob", "--kw", "n=3")
    receivers = by_receiver(document)
    assert set(receivers) == {"ok", "only_bob"}
    assert receivers["ok"]["status"] == "ok"
    assert receivers["ok"]["result"] == "{'seen': 'bob', 'keys': ['n']}"
    assert receivers["ok"]["plugin"] == "fx_fire:FirePlugin"
    assert receivers["only_bob"]["sender_filter"] == "bob"
    assert receivers["ok"]["duration_ms"] >= 0
    assert document["summary"] == {"receivers": 2, "ok": 2, "error": 0, "timeout": 0,
                                   "interrupted": 0, "not_reached": 0, "mutated": 0}
    # another sender: the filtered receiver is not called
    other = fire_json(runner, config, SIGNAL, "--sender", "alice")
    assert set(by_receiver(other)) == {"ok"}


def test_kw_values_are_json_or_strings(runner, write_config) -> None:
    config = write_config("fx_fire:FirePlugin")
    document = fire_json(runner, config, SIGNAL, "--kw", "n=3", "--kw", 's="3"',
                         "--kw", "name=bob", "--kw", 'u={"name": "bob"}')
    assert document["kwargs"] == {"n": 3, "s": "3", "name": "bob", "u": {"name": "bob"}}
    assert document["sender"] is None


def test_a_raising_receiver_does_not_stop_the_others(runner, write_config) -> None:
    config = write_config("fx_fire:RaisingPlugin", "fx_fire:FirePlugin")
    document = fire_json(runner, config, SIGNAL, "--sender", "x", code=1)
    receivers = by_receiver(document)
    error = receivers["raises"]["error"]
    assert receivers["raises"]["status"] == "error"
    assert error["type"] == "ValueError" and error["message"] == "bad sender x"
    assert error["file"].endswith("fx_fire.py") and error["line"] == 15
    assert receivers["ok"]["status"] == "ok"
    # whatever the order, receivers after the raising one are marked as ones
    # plain Signal.send would not have reached
    order = [r["receiver"].rsplit(".", 1)[-1] for r in document["receivers"]]
    after = order[order.index("raises") + 1:]
    assert all(not receivers[name]["reached_by_send"] for name in after)
    assert receivers["raises"]["reached_by_send"]


def test_stop_on_error_reproduces_send(runner, write_config) -> None:
    config = write_config("fx_fire:RaisingPlugin", "fx_fire:FirePlugin", "fx_fire:ExitingPlugin")
    document = fire_json(runner, config, SIGNAL, "--stop-on-error", code=1)
    statuses = [r["status"] for r in document["receivers"]]
    first_error = statuses.index("error")
    assert all(s == "ok" for s in statuses[:first_error])
    assert all(s == "not_reached" for s in statuses[first_error + 1:])
    assert document["summary"]["error"] == 1


def test_mutation_is_detected_and_named(runner, write_config) -> None:
    config = write_config("fx_fire:MutatingPlugin")
    document = fire_json(runner, config, SIGNAL, "--kw", 'user={"name": "bob"}')
    receiver = by_receiver(document)["mutates"]
    assert receiver["mutated"] == ["user"]
    assert receiver["changes"] == ["user.name"]
    assert document["summary"]["mutated"] == 1
    # --strict turns it into a failure
    fire_json(runner, config, SIGNAL, "--kw", 'user={"name": "bob"}', "--strict", code=1)


def test_async_receivers_are_awaited(runner, write_config) -> None:
    config = write_config("fx_fire:AsyncPlugin")
    receiver = by_receiver(fire_json(runner, config, SIGNAL))["coroutine"]
    assert receiver["async"] is True
    assert receiver["result"] == "'awaited'"
    assert receiver["reached_by_send"] is False  # send() raises RuntimeError on it


def test_printing_receivers_do_not_corrupt_json(runner, write_config) -> None:
    config = write_config("fx_fire:PrintingPlugin")
    document = fire_json(runner, config, SIGNAL)
    assert by_receiver(document)["prints"]["output"] == "hello from a receiver\n"
    text = run(runner, "fire", "-c", str(config), SIGNAL)
    assert "printed: hello from a receiver" in text.stdout


def test_sys_exit_and_keyboard_interrupt_are_recorded(runner, write_config) -> None:
    config = write_config("fx_fire:ExitingPlugin")
    document = fire_json(runner, config, SIGNAL, code=1)
    errors = {r["error"]["type"] for r in document["receivers"]}
    assert errors == {"SystemExit", "KeyboardInterrupt"}


def test_secrets_are_redacted_unless_asked(runner, write_config) -> None:
    config = write_config("fx_fire:SecretPlugin")
    args = (SIGNAL, "--kw", "password=hunter22", "--kw", 'user={"api_key": "k-123456"}')
    document = fire_json(runner, config, *args)
    assert document["kwargs"] == {"password": "***", "user": {"api_key": "***"}}
    assert by_receiver(document)["echoes_secret"]["result"] == "'the password is ***'"
    text = run(runner, "fire", "-c", str(config), *args)
    assert "hunter22" not in text.stdout and "k-123456" not in text.stdout
    raw = fire_json(runner, config, *args, "--no-redact")
    assert raw["kwargs"]["password"] == "hunter22"
    assert "hunter22" in by_receiver(raw)["echoes_secret"]["result"]


def test_numeric_secrets_are_redacted_in_results(runner, write_config) -> None:
    config = write_config("fx_fire:SecretPlugin")
    document = fire_json(runner, config, SIGNAL, "--kw", "password=123456")
    assert document["kwargs"] == {"password": "***"}
    assert by_receiver(document)["returns_password"]["result"] == "***"
    text = run(runner, "fire", "-c", str(config), SIGNAL, "--kw", "password=123456")
    assert "123456" not in text.stdout


def test_objects_give_attribute_access(runner, write_config) -> None:
    config = write_config("fx_fire:AttributePlugin")
    document = fire_json(runner, config, SIGNAL, "--kw", 'user={"name": "bob"}', "--objects")
    assert by_receiver(document)["reads_user_attribute"]["result"] == "'bob'"
    without = fire_json(runner, config, SIGNAL, "--kw", 'user={"name": "bob"}', code=1)
    assert by_receiver(without)["reads_user_attribute"]["error"]["type"] == "AttributeError"


def test_dry_run_calls_nothing(runner, write_config) -> None:
    config = write_config("fx_fire:RaisingPlugin", "fx_fire:FirePlugin")
    document = fire_json(runner, config, SIGNAL, "--dry-run", "--sender", "bob")
    assert {r["status"] for r in document["receivers"]} == {"dry_run"}
    assert len(document["receivers"]) == 3
    assert all(r["result"] is None and r["duration_ms"] == 0 for r in document["receivers"])
    assert document["summary"]["receivers"] == 3


def test_a_signal_without_receivers(runner, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    document = json.loads(run(runner, "fire", "datastore_delete", "--format", "json").stdout)
    assert document["receivers"] == [] and document["summary"]["receivers"] == 0


def test_documented_sender_comes_from_kw(runner, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run(runner, "fire", "user_created", "--kw", "username=bob", "--format", "json")
    document = json.loads(result.stdout)
    assert document["sender"] == "bob" and document["kwargs"] == {}
    assert document["receivers"][0]["result"] == "'told 1 subscriber(s) about bob'"


def test_float_sender_note(runner, write_config) -> None:
    config = write_config("fx_fire:FirePlugin")
    document = fire_json(runner, config, SIGNAL, "--sender", "1.5")
    assert document["sender"] == 1.5
    assert any("compares it by identity" in note for note in document["notes"])


def test_kwargs_from_inline_file_and_stdin(runner, write_config, tmp_path: Path) -> None:
    config = write_config("fx_fire:FirePlugin")
    inline = fire_json(runner, config, SIGNAL, "--kwargs", '{"a": 1, "b": 2}', "--kw", "b=3")
    assert inline["kwargs"] == {"a": 1, "b": 3}  # --kw overrides --kwargs
    path = tmp_path / "kwargs.json"
    path.write_text('{"from_file": true}')
    assert fire_json(runner, config, SIGNAL, "--kwargs", f"@{path}")["kwargs"] == {
        "from_file": True}
    assert fire_json(runner, config, SIGNAL, "--kwargs", "-", input='{"stdin": 1}')[
        "kwargs"] == {"stdin": 1}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--kw", "n=1", "--kw", "n=2"], "key 'n' is given twice"),  # a key twice
        (["--kw", "not-an-identifier=1"], "is not a Python identifier"),  # bad key
        (["--kw", "class=1"], "is not a Python identifier"),  # a keyword
        (["--kw", "novalue"], "has no '='"),  # no =
        (["--kw", "sender=bob"], "cannot be a keyword argument"),  # reserved
        (["--kwargs", "[1, 2]"], "expected a JSON object"),  # not an object
        (["--kwargs", "{bad json"], "invalid JSON"),  # broken JSON
        (["--kwargs", '{"a": 1, "a": 2}'], "duplicate key 'a'"),  # duplicate in JSON
        (["--kwargs", '{"not ok": 1}'], "is not a Python identifier"),  # bad JSON key
        (["--kwargs", "@/nonexistent/kwargs.json"], "cannot read /nonexistent/kwargs.json"),
    ],
)
def test_usage_errors_name_the_culprit(runner, write_config, args: list[str],
                                       fragment: str) -> None:
    config = write_config("fx_fire:FirePlugin")
    result = run(runner, "fire", "-c", str(config), SIGNAL, *args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_sender_given_twice_is_an_error(runner, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run(runner, "fire", "user_created", "--kw", "username=bob", "--sender", "al")
    assert result.exit_code == 2
    assert "not both" in result.stderr


def test_unknown_signal_suggests(runner, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run(runner, "fire", "user_craeted")
    assert result.exit_code == 2
    assert "did you mean user_created?" in result.stderr


def test_ambiguous_signal_needs_a_namespace(runner, write_config) -> None:
    from ckansig import signals

    signals.ckan.signal("fx_twice")
    signals.ckanext.signal("fx_twice")
    config = write_config()
    result = run(runner, "fire", "-c", str(config), "fx_twice")
    assert result.exit_code == 2 and "pick one with --namespace" in result.stderr
    assert run(runner, "fire", "-c", str(config), "fx_twice", "-n", "ckan").exit_code == 0


def test_traced_order_is_sends_order(write_config) -> None:
    registry = load(load_config(write_config("fx_many:ManyPlugin")))
    info = registry.find("fx_many:event")
    sent = [result for _, result in info.signal.send("s")]
    traced = [r.result for r in fire(info, "s", registry=registry).receivers]
    assert traced == sent
    assert len(traced) == 60


def test_muted_signal_calls_nothing(write_config) -> None:
    registry = load(load_config(write_config("fx_fire:FirePlugin")))
    info = registry.find(SIGNAL)
    if not hasattr(info.signal, "muted"):
        pytest.skip("this blinker has no muting")
    with info.signal.muted():
        trace = fire(info, "bob", registry=registry)
    assert trace.muted and trace.receivers == []


def test_library_trace_without_a_registry() -> None:
    from blinker import Signal

    from ckansig.model import SignalInfo

    signal = Signal()
    calls = []

    def receiver(sender, **kwargs):
        calls.append(sender)
        kwargs["data"].append(1)

    signal.connect(receiver)
    info = SignalInfo(None, "anonymous", signal, None)
    trace = fire(info, "x", {"data": []})
    assert calls == ["x"]
    (traced,) = trace.receivers
    assert traced.subscription is None
    assert traced.receiver.qualname.endswith("receiver")
    assert traced.mutated == ("data",)
    assert traced.changes == ("data",)
    without_check = fire(info, "x", {"data": []}, check_mutation=False)
    assert without_check.receivers[0].mutated == ()


def test_shell_completion_offers_signal_names(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = dict(os.environ, _CKANSIG_COMPLETE="bash_complete", COMP_WORDS="ckansig fire user_c",
               COMP_CWORD="2")
    done = subprocess.run([sys.executable, "-m", "ckansig"], env=env, capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert "plain,user_created" in done.stdout.splitlines()
    env["COMP_WORDS"] = "ckansig fire custom_"
    done = subprocess.run([sys.executable, "-m", "ckansig"], env=env, capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert "plain,custom_something_happened" in done.stdout.splitlines()  # from the plugins


def test_results_that_look_like_markup_print_literally(runner, write_config) -> None:
    config = write_config("fx_markup:MarkupPlugin")
    result = run(runner, "fire", "-c", str(config), "fx_markup:[bold]loud[/bold]\x1b[31m")
    assert result.exit_code == 0, result.stderr
    assert "'[bold]x[/bold]'" in result.stdout  # the repr, not bold text
    assert "\x1b" not in result.stdout


def test_a_plugin_that_failed_to_load_makes_fire_exit_1(runner, write_config) -> None:
    config = write_config("fx_missing_dep", "fx_fire:FirePlugin")
    result = run(runner, "fire", "-c", str(config), SIGNAL, "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["ok"] == 1  # the trace is still complete
    assert "error: plugin fx_missing_dep" in result.stderr


def test_non_ascii_json_is_utf8(runner, write_config) -> None:
    config = write_config("fx_fire:FirePlugin")
    result = runner.invoke(main, ["fire", "-c", str(config), SIGNAL, "--kw", "name=café ☕",
                                  "--format", "json"])
    assert result.exit_code == 0
    assert "café ☕".encode() in result.stdout_bytes
    assert json.loads(result.stdout)["kwargs"] == {"name": "café ☕"}


def reference_receivers(trace, redactor) -> list[dict]:
    """The receivers array built record by record from each field's plain
    value: what the column-at-a-time encoder must produce."""
    from ckansig.output import RECEIVER_FIELDS

    return [{field.key: field.value(r, redactor) for field in RECEIVER_FIELDS}
            for r in trace.receivers]


def test_receiver_fields_are_the_documented_schema() -> None:
    """The docs' example receiver object has exactly the declared keys, in order."""
    from ckansig.output import RECEIVER_FIELDS

    readme = (ROOT / "docs" / "reference" / "commands.md").read_text(encoding="utf-8")
    section = readme.split("### `ckansig fire --format json`", 1)[1]
    example = json.loads(section.split("```json", 1)[1].split("```", 1)[0])
    assert list(example["receivers"][0]) == [field.key for field in RECEIVER_FIELDS]


def test_json_receivers_match_the_records(write_config) -> None:
    from ckansig.output import trace_json
    from ckansig.values import Redactor

    plugins = ("fx_fire:FirePlugin", "fx_fire:RaisingPlugin", "fx_fire:MutatingPlugin",
               "fx_fire:AsyncPlugin", "fx_fire:PrintingPlugin", "fx_fire:SecretPlugin")
    registry = load(load_config(write_config(*plugins)))
    info = registry.find(SIGNAL)
    # connected after loading: no provenance; a builtin, so no file or line
    unknown = functools.partial(dict)
    info.signal.connect(unknown, sender="bob", weak=False)
    try:
        kwargs = {"user": {"name": "bob"}, "password": "hunter22"}
        for stop in (False, True):
            redactor = Redactor(kwargs)
            trace = fire(info, "bob", kwargs, registry=registry, capture_output=True,
                         stop_on_error=stop)
            document = json.loads(trace_json(trace, redactor))
            assert document["receivers"] == reference_receivers(trace, redactor)
            statuses = [r["status"] for r in document["receivers"]]
            # blinker's call order is hash order: the receiver that raises may come anywhere
            raised = statuses.index("error")
            assert ("ok" in statuses) == (not stop or raised > 0)
            assert ("not_reached" in statuses) == (stop and raised < len(statuses) - 1)
            assert {r["via"] for r in document["receivers"]} == {"isignal", "unknown"}
            assert "hunter22" not in json.dumps(document)
    finally:
        info.signal.disconnect(unknown)


@given(value=st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none(),
                       st.lists(st.text(max_size=5), max_size=3)),
       printed=st.text())
@settings(max_examples=200, deadline=None)
def test_json_encodes_any_result_and_output(value, printed) -> None:
    from blinker import Signal

    from ckansig.model import SignalInfo
    from ckansig.output import trace_json
    from ckansig.values import Redactor

    def receiver(sender, **kwargs):
        sys.stdout.write(printed)
        return value

    signal = Signal()
    signal.connect(receiver)
    trace = fire(SignalInfo(None, "any", signal, None), "x", capture_output=True)
    redactor = Redactor({})
    text = trace_json(trace, redactor)
    assert json.loads(text)["receivers"] == reference_receivers(trace, redactor)


def test_values_that_cannot_be_shown_never_break_fire(runner, write_config) -> None:
    config = write_config("fx_values:ValuesPlugin")
    result = run(runner, "fire", "-c", str(config), "fx_values:event", "--kw",
                 'user={"name": "bob"}', "--format", "json")
    assert result.exit_code == 1, result.stderr  # two receivers raised
    document = json.loads(result.stdout)  # valid JSON whatever the values
    by_name = {r["receiver"].rsplit(".", 1)[1]: r for r in document["receivers"]}
    assert "'self': '<unrepresentable: a cycle>'" in by_name["cyclic"]["result"]
    assert "<unrepresentable: an int of" in by_name["huge"]["result"]
    assert by_name["raises_unprintable"]["error"]["message"].startswith(
        "<message unrepresentable: str() raised RuntimeError")
    assert len(by_name["raises_long"]["error"]["message"]) == 300  # capped, as results are
    # the kwargs as they were sent, before the receiver renamed the user
    assert document["kwargs"] == {"user": {"name": "bob"}}
    assert by_name["renames"]["changes"] == ["user.name"]
    text = run(runner, "fire", "-c", str(config), "fx_values:event", "--kw",
               'user={"name": "bob"}')
    assert text.exit_code == 1 and "Traceback" not in text.stderr
    assert len(text.stdout.splitlines()) < 60  # a 200 KB message is one capped line


@pytest.mark.parametrize("option", [["--kwargs", '{"a": ' + "[" * 600 + "]" * 600 + "}"],
                                    ["--sender", "[" * 990 + "]" * 990],
                                    ["--kw", "a=" + "[" * 150 + "]" * 150]])
def test_input_nested_too_deeply_is_a_usage_error(runner, write_config, option) -> None:
    config = write_config("fx_fire:FirePlugin")
    result = run(runner, "fire", "-c", str(config), SIGNAL, *option)
    assert result.exit_code == 2
    assert "nested deeper than 100 levels" in result.stderr
    assert "Traceback" not in result.stderr


def test_stderr_and_logs_are_captured_per_receiver_and_redacted(runner, write_config) -> None:
    import logging  # noqa: F401  (imported before the send, as in any real app)

    config = write_config("fx_values:NoisyPlugin")
    result = run(runner, "fire", "-c", str(config), "fx_values:event", "--kw",
                 "password=hunter22", "--format", "json")
    assert result.exit_code == 0
    (noisy,) = json.loads(result.stdout)["receivers"]
    assert noisy["output"] == "to stdout ***\n"
    assert noisy["stderr"] == "to stderr ***\n"
    assert noisy["logged"] == "WARNING fx_values: logged ***\n"
    assert "hunter22" not in result.stdout + result.stderr
    text = run(runner, "fire", "-c", str(config), "fx_values:event", "--kw",
               "password=hunter22")
    assert "stderr: to stderr ***" in text.stdout and "logged: WARNING" in text.stdout
    assert "hunter22" not in text.stdout + text.stderr


def _behaving(kind: str, number: int):
    """A receiver that returns, raises, prints, writes to stderr, logs or
    changes its arguments: each field of the JSON is rare or common by turns."""

    def receiver(sender, **kwargs):
        if kind == "raise":
            raise ValueError(f"no {number}")
        if kind == "print":
            print(f"out {number}")
        elif kind == "stderr":
            print(f"err {number}", file=sys.stderr)
        elif kind == "log":
            import logging

            logging.getLogger("fx").warning("logged %d", number)
        elif kind == "mutate":
            kwargs["items"].append(number)
        return number

    receiver.__qualname__ = receiver.__name__ = f"r{number}_{kind}"
    return receiver


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["return", "raise", "print", "stderr", "log", "mutate"]),
                min_size=1, max_size=6))
def test_json_receivers_match_the_records_for_any_mix(kinds: list[str]) -> None:
    # every column may be the same for all receivers (merged into the keys
    # around it) or vary: the encoder must give the reference either way
    from blinker import Signal

    from ckansig.model import SignalInfo
    from ckansig.output import trace_json
    from ckansig.values import Redactor

    signal = Signal()
    receivers = [_behaving(kind, number) for number, kind in enumerate(kinds)]
    for receiver in receivers:
        signal.connect(receiver)
    kwargs = {"items": [], "password": "hunter22"}
    redactor = Redactor(kwargs)
    trace = fire(SignalInfo(None, "mix", signal, None), "bob", kwargs, capture_output=True)
    document = json.loads(trace_json(trace, redactor))
    assert document["receivers"] == reference_receivers(trace, redactor)
    assert sorted(r["receiver"].rsplit(".", 1)[-1] for r in document["receivers"]) == \
        sorted(r.__qualname__ for r in receivers)
