"""Watching real signal traffic: the recorder, ``ckansig trace`` and the pytest plugin."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from blinker import Namespace, Signal

from ckansig.watching.recorder import record

from .conftest import FIXTURES, valid_sends

APP = FIXTURES / "trace" / "app.py"
needs_async_blinker = pytest.mark.skipif(
    not hasattr(Signal, "send_async"), reason="blinker < 1.7 has no send_async")


# -- the recorder ---------------------------------------------------------------------


def test_recording_never_changes_what_send_does() -> None:
    signal = Signal()
    calls: list[str] = []

    def first(sender, **kwargs):
        calls.append("first")
        return 1

    def boom(sender, **kwargs):
        raise KeyError("boom")

    signal.connect(first)
    plain = signal.send("s", x=1)
    records = []
    with record(records.append):
        assert signal.send("s", x=1) == plain  # same receivers, same results
        signal.connect(boom)
        with pytest.raises(KeyError, match="boom"):  # the same exception propagates
            signal.send("s")
    assert Signal.send.__name__ == "send"  # the original is back
    ok, failed = records
    assert [(o.status, o.result) for o in ok.outcomes] == [("ok", 1)]
    assert ok.kwargs == {"x": 1} and ok.sender == "s"
    statuses = {o.receiver.__name__: o.status for o in failed.outcomes}
    assert statuses["boom"] == "error" and isinstance(failed.error, KeyError)


@needs_async_blinker
def test_blinkers_own_runtime_error_names_the_coroutine_receiver() -> None:
    signal = Signal()

    async def coroutine(sender, **kwargs):
        return None

    signal.connect(coroutine)
    records = []
    with record(records.append), pytest.raises(RuntimeError):
        signal.send("s")
    assert [o.status for o in records[0].outcomes] == ["error"]


def test_namespaces_are_named() -> None:
    from ckansig import signals

    records = []
    with record(records.append):
        signals.user_created.send("bob")
        Namespace().signal("elsewhere").send()
    assert [(r.namespace, r.name) for r in records] == [("ckan", "user_created"),
                                                         (None, "elsewhere")]


# -- ckansig trace --------------------------------------------------------------------


def trace(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ckansig", "trace", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@needs_async_blinker
def test_trace_a_script(tmp_path: Path) -> None:
    output = tmp_path / "sends.jsonl"
    done = trace("-o", str(output), "--", sys.executable, str(APP), "3", cwd=tmp_path)
    assert done.returncode == 3  # the command's own exit status
    assert "caught the receiver's error" in done.stdout
    sends = trace_lines(output)
    assert [s["signal"] for s in sends] == ["app_started", "app_nested", "app_async",
                                            "app_broken"]
    started, nested, from_async, broken = sends
    assert started["kwargs"] == {"password": "***"}  # redacted
    [receiver] = started["receivers"]
    assert receiver.pop("duration_ms") >= 0  # each receiver timed (see test_causal)
    assert receiver == {"receiver": "__main__.on_started", "status": "ok",
                        "result": "'started app'", "error": None}
    assert nested["sender"] == "from-coroutine"  # sent from inside a coroutine receiver
    assert from_async["async"] is True and from_async["receivers"][0]["result"] == "'async done'"
    assert broken["receivers"][0]["status"] == "error"
    assert broken["error"] == {"type": "ValueError", "message": "receiver failed"}
    assert "app_broken" in done.stderr and "__main__.on_broken" in done.stderr


def test_trace_filters_and_survives_a_crash(tmp_path: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text("from blinker import signal\nsignal('keep_me').send(1)\n"
                      "signal('other').send(2)\nraise SystemError('crash')\n")
    output = tmp_path / "sends.jsonl"
    done = trace("-o", str(output), "--signal", "keep*", "--", str(script), cwd=tmp_path)
    assert done.returncode == 1 and "SystemError: crash" in done.stderr
    assert [line["signal"] for line in trace_lines(output)] == [
        "keep_me"]


def test_trace_runs_modules_and_console_scripts(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("from blinker import signal\nsignal('by_module').send()\n")
    done = trace("--", sys.executable, "-m", "mod", cwd=tmp_path)
    assert done.returncode == 0 and "by_module" in done.stderr
    tool = tmp_path / "tool"
    tool.write_text(f"#!{sys.executable}\nfrom blinker import signal\nsignal('by_tool').send()\n")
    tool.chmod(0o755)
    assert "by_tool" in trace("--", str(tool), cwd=tmp_path).stderr


@pytest.mark.parametrize(
    ("command", "fragment"),
    [
        (["/bin/sh", "-c", "true"], "is not a Python program"),  # not Python
        (["no-such-program-here"], "not found"),  # nothing on PATH
        ([sys.executable], "give the Python program to run"),  # just python
    ],
)
def test_trace_usage_errors(tmp_path: Path, command: list[str], fragment: str) -> None:
    done = trace("--", *command, cwd=tmp_path)
    assert done.returncode == 2 and fragment in done.stderr
    assert "Traceback" not in done.stderr


# -- the pytest plugin ----------------------------------------------------------------


def test_signal_log_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest
        from blinker import Namespace

        ns = Namespace()
        user_created = ns.signal("user_created")

        def test_sent(signal_log):
            user_created.send("bob", user={"name": "bob"})
            (send,) = signal_log.sent("user_created")
            assert send.sender == "bob"
            signal_log.assert_sent("user_created", sender="bob", user={"name": "bob"})
            signal_log.assert_sent("user_created", times=1)
            signal_log.assert_not_sent("user_created", sender="alice")
            signal_log.assert_not_sent("failed_login")

        def test_failure_message(signal_log):
            user_created.send("alice")
            with pytest.raises(AssertionError) as info:
                signal_log.assert_sent("user_created", sender="bob")
            assert "expected user_created sender='bob' to be sent" in str(info.value)
            assert "user_created sender='alice'" in str(info.value)

        def test_nothing_recorded_without_the_fixture():
            from blinker import Signal
            assert Signal.send.__name__ == "send"
    """)
    result = pytester.runpytest()  # the plugin loads through its pytest11 entry point
    result.assert_outcomes(passed=3)


def test_signals_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        from blinker import Namespace

        ns = Namespace()
        ping = ns.signal("ping")

        def bad(sender, **kwargs):
            raise ValueError("no")

        def test_one():
            ping.send(1)

        def test_two():
            ping.send(2)
            ping.connect(bad)
            try:
                ping.send(3)
            except ValueError:
                pass
    """)
    result = pytester.runpytest("--signals-report")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "*signals sent (ckansig)*",
        "ping: sent 3 time(s) by 2 test(s)",
        "*test_signals_report.py::test_one",
        "*raised: test_signals_report.bad (ValueError)",
    ])


def test_signals_report_escapes_signal_names(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        from blinker import Namespace

        evil = Namespace().signal("title\\x1b]0;pwned\\x07")

        def test_one():
            evil.send(1)
    """)
    result = pytester.runpytest("--signals-report")
    result.assert_outcomes(passed=1)
    assert "\x1b" not in result.stdout.str()  # ESC itself: never printed
    result.stdout.fnmatch_lines(["title\\x1b]0;pwned\\x07: sent 1 time(s) by 1 test(s)"])


# -- trace against hostile programs and outputs ----------------------------------------


@pytest.mark.parametrize("target", ["/dev/null", "/dev/full", "fifo"])
def test_trace_output_must_be_a_regular_file(tmp_path: Path, target: str) -> None:
    import os

    if target == "fifo":
        target = str(tmp_path / "fifo")
        os.mkfifo(target)
    (tmp_path / "ok.py").write_text("print('never run')\n")
    done = trace("-o", target, "--", str(tmp_path / "ok.py"), cwd=tmp_path)
    assert done.returncode == 2 and "is not a regular file" in done.stderr
    assert "never run" not in done.stdout


def test_a_missing_module_is_pythons_own_one_line(tmp_path: Path) -> None:
    done = trace("--", sys.executable, "-m", "no_such_module_here", cwd=tmp_path)
    assert done.returncode == 1
    assert f"{sys.executable}: No module named no_such_module_here" in done.stderr
    assert "Traceback" not in done.stderr


def test_unrecordable_sends_are_reported_once(tmp_path: Path) -> None:
    script = tmp_path / "weird.py"
    script.write_text(textwrap.dedent("""\
        from blinker import signal

        class Weird:
            def __repr__(self):
                raise RuntimeError("no repr")

        loop = {}
        loop["self"] = loop
        for i in range(50):
            signal("weird").send(Weird(), loop=loop, big=10 ** 5000)
        print("program ran on")
        """))
    output = tmp_path / "sends.jsonl"
    done = trace("-o", str(output), "--", str(script), cwd=tmp_path)
    assert done.returncode == 0 and "program ran on" in done.stdout
    assert "Traceback" not in done.stderr
    sends = trace_lines(output)
    assert len(sends) == 50  # recorded, with markers
    assert sends[0]["kwargs"]["loop"] == {"self": "<unrepresentable: a cycle>"}
    assert sends[0]["kwargs"]["big"].startswith("<unrepresentable: an int of")
    assert "repr() raised RuntimeError" in sends[0]["sender"]


def test_a_result_lost_to_a_later_error_is_null(tmp_path: Path) -> None:
    script = tmp_path / "lost.py"
    script.write_text(textwrap.dedent("""\
        from blinker import Signal

        ping = Signal()
        calls = []

        def first(sender):
            calls.append("first")
            return None

        def boom(sender):
            raise ValueError("boom")

        ping.connect(first)
        ping.connect(boom)
        try:
            ping.send(1)
        except ValueError:
            pass
        """))
    output = tmp_path / "sends.jsonl"
    trace("-o", str(output), "--", str(script), cwd=tmp_path)
    (send,) = trace_lines(output)
    for receiver in send["receivers"]:
        if receiver["status"] == "ok":  # ran before boom: its result is lost, not "None"
            assert receiver["result"] is None


def test_trace_pytest_with_warnings_as_errors(tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text(
        "from blinker import signal\n\ndef test_one():\n    signal('from_test').send(1)\n")
    done = trace("--", sys.executable, "-m", "pytest", "-q", "-W", "error", "-p",
                 "no:cacheprovider", "test_one.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PytestAssertRewriteWarning" not in done.stdout + done.stderr
    assert "from_test" in done.stderr


def test_the_signals_report_keeps_counts_not_arguments(pytestconfig) -> None:
    """20,000 large sends must not all stay in memory for the report."""
    import gc
    import weakref

    from ckansig.pytest_plugin import _Report
    from ckansig.watching.recorder import SendRecord

    class Blob:
        pass

    report = _Report(pytestconfig)
    try:
        blob = Blob()
        ref = weakref.ref(blob)
        report.sink(SendRecord(Signal(), "sender", {"blob": blob}, False, 0.0))
        del blob
        gc.collect()
        assert ref() is None  # the report did not keep the send's arguments
        (tally,) = report.tallies.values()
        assert tally.sends == 1
    finally:
        report.stack.close()


def test_two_traces_to_one_file_keep_every_record(tmp_path: Path) -> None:
    script = tmp_path / "sender.py"
    script.write_text(
        "import sys, time\nfrom blinker import signal\n"
        "big = 'x' * 20000  # records larger than a pipe's or a buffer's atomic size\n"
        "for n in range(150):\n"
        "    signal('from_' + sys.argv[1]).send(n, payload=big)\n"
        "    time.sleep(0.005)\n")
    output = tmp_path / "shared.jsonl"
    output.write_text("left over from an earlier run\n")
    command = [sys.executable, "-m", "ckansig", "trace", "-o", str(output), "--",
               sys.executable, str(script)]
    runs = [subprocess.Popen([*command, "a"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)]
    deadline = time.monotonic() + 60
    while output.read_text().count("from_a") < 10 and time.monotonic() < deadline:
        time.sleep(0.01)  # the second starts while the first is writing
    runs.append(subprocess.Popen([*command, "b"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE))
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read() if run.stderr else ""
    records = trace_lines(output)
    by_signal = {name: sorted(r["sender"] for r in records if r["signal"] == name)
                 for name in ("from_a", "from_b")}
    assert by_signal == {"from_a": list(range(150)), "from_b": list(range(150))}
    assert len(records) == 300  # and the earlier run's line is gone


def trace_lines(path: Path) -> list[dict]:
    """The sends of a trace file, each validated against the published shape."""
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    valid_sends(lines)
    return lines
