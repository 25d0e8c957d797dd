"""Nothing a plugin does can break ckansig: plugin objects that raise wherever
they are touched, plugin code that writes to file descriptor 1 or changes the
interpreter. The end-to-end cases run the real console script
(``python -m ckansig``): stdout, file descriptors and signals are the point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ckansig.cli import main
from ckansig.config import load_config
from ckansig.doctor import diagnose
from ckansig.loading import load

from .conftest import FIXTURES, ROOT

# (config entry, error kind, words of the message)
HOSTILE = [
    ("fx_hostile:PropertyRaises", "plugin_raised", "Boom: the property raised"),
    ("fx_hostile:ClassRaises", "plugin_raised", "Boom: __class__ raised"),
    ("fx_hostile:RaisesBadMessage", "subscriptions_raised",
     "BadMessage: <message unrepresentable: str() raised RuntimeError>"),
    ("fx_hostile:RaisesKeyboardInterrupt", "subscriptions_raised", "raised KeyboardInterrupt"),
    ("fx_hostile:RaisesSystemExit", "subscriptions_raised", "raised SystemExit: 3"),
    ("fx_hostile:RaisesGeneratorExit", "subscriptions_raised", "raised GeneratorExit"),
    ("fx_hostile:InitExits", "plugin_init_failed", "SystemExit: bye from __init__"),
    ("fx_hostile:ReturnsNone", "subscriptions_malformed", "returned None"),
    ("fx_hostile:ItemsRaises", "subscriptions_raised", "items() raised Boom"),
    ("fx_hostile:GeneratorRaisesMidway", "subscriptions_raised",
     "reading entry 2 of get_signal_subscriptions() raised Boom"),
    ("fx_hostile:WrongLengthTuples", "subscriptions_malformed",
     "not a (signal, receivers) pair"),
    ("fx_hostile:ReceiversGeneratorInterrupts", "subscriptions_raised",
     "reading receiver 2 of 'user_created' raised KeyboardInterrupt"),
    ("fx_hostile:HostileReceivers", "plugin_raised",
     "inspecting receiver 2 of 'user_created' raised Boom: __class__ raised"),
    ("fx_hostile_module:Plugin", "plugin_raised", "RuntimeError: module attribute Plugin"),
    ("fx_hostile_import", "import_error", "raised KeyboardInterrupt"),
]

#: What still connects from the hostile plugins that fail part way.
PARTLY = {
    "fx_hostile:GeneratorRaisesMidway": {"fx_hostile.fine"},
    "fx_hostile:WrongLengthTuples": {"fx_hostile.fine"},
    "fx_hostile:ReceiversGeneratorInterrupts": {"fx_hostile.fine"},
    "fx_hostile:HostileReceivers": {"fx_hostile.ReprRaises.__call__",
                                    "fx_hostile.SignatureRaises.__call__"},
}


def receivers(document: dict) -> set[str]:
    return {r["receiver"] for s in document["signals"] for r in s["receivers"]}


def ckansig(*args: str, cwd: Path = ROOT, timeout: float = 120,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """The real console script, as a user runs it."""
    environ = {k: v for k, v in os.environ.items() if k not in ("CKANSIG_CONFIG", "CKAN_INI")}
    return subprocess.run([sys.executable, "-m", "ckansig", *args], cwd=cwd,
                          env={**environ, **(env or {})}, capture_output=True, timeout=timeout)


@pytest.mark.parametrize(("entry", "kind", "words"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_one_hostile_plugin_is_its_own_load_error(
    runner, write_config: Callable[..., Path], entry: str, kind: str, words: str,
) -> None:
    config = write_config("fx_good", entry)
    result = runner.invoke(main, ["-c", str(config), "list", "-f", "json"])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    errors = [e for e in document["errors"] if e["plugin"] == entry]
    assert [e["kind"] for e in errors] == [kind]
    assert words in errors[0]["error"]
    assert errors[0]["file"] and errors[0]["line"]
    assert {"fx_good.on_user_created", "fx_good.GoodPlugin.only_bob"} <= receivers(document)
    assert PARTLY.get(entry, set()) <= receivers(document)


def test_the_library_records_plugin_code_raising_keyboard_interrupt(write_config) -> None:
    registry = load(load_config(write_config("fx_hostile:RaisesKeyboardInterrupt",
                                             "fx_hostile_import", "fx_good")))
    assert [e.kind for e in registry.errors] == ["subscriptions_raised", "import_error"]
    assert registry.find("user_created").subscriptions


def test_doctor_reports_a_receiver_it_cannot_inspect_once(write_config) -> None:
    config = load_config(write_config("fx_hostile:HostileReceivers"))
    report = diagnose(load(config), config)
    cannot = [p for p in report.problems if "could not be checked" in p.message and p.receiver]
    assert len(cannot) == 1
    assert cannot[0].plugin == "fx_hostile:HostileReceivers"
    assert "__signature__ raised" in cannot[0].message
    assert cannot[0].receiver == "fx_hostile.SignatureRaises.__call__"
    # calling get_signal_subscriptions() again (SIG020) meets the receiver whose hooks raise
    (again,) = [p for p in report.problems if p.id == "SIG020"]
    assert again.plugin == "fx_hostile:HostileReceivers" and again.file


def test_every_command_survives_the_whole_hostile_set(write_config) -> None:
    config = str(write_config("fx_good", "fx_hostile", "fx_hostile_module:Plugin",
                              "fx_hostile_import"))
    hostile_classes = sum(1 for e, _, _ in HOSTILE if e.startswith("fx_hostile:"))
    listed = ckansig("-c", config, "list", "-f", "json")
    assert listed.returncode == 1
    assert b"Traceback" not in listed.stderr
    document = json.loads(listed.stdout)
    assert len(document["errors"]) == hostile_classes + 2 - 1  # PropertyRaises: not a plugin class
    assert "fx_good.on_user_created" in receivers(document)
    doctor = ckansig("-c", config, "doctor", "-f", "json")
    assert doctor.returncode == 1 and b"Traceback" not in doctor.stderr
    assert any("could not be checked" in p["message"]
               for p in json.loads(doctor.stdout)["problems"])
    fired = ckansig("-c", config, "fire", "user_created", "-f", "json")
    assert fired.returncode == 1 and b"Traceback" not in fired.stderr  # 1: the load errors
    trace = json.loads(fired.stdout)
    assert {r["status"] for r in trace["receivers"]} == {"ok"}
    assert len(trace["receivers"]) == 4
    text = ckansig("-c", config, "list")
    assert text.returncode == 1 and b"Traceback" not in text.stderr
    assert b"fx_good.on_user_created" in text.stdout


# -- stdout belongs to ckansig ----------------------------------------------------------


def test_what_plugin_code_writes_to_fd_1_never_reaches_stdout(write_config) -> None:
    config = str(write_config("fx_noisy"))
    listed = ckansig("-c", config, "list", "-f", "json", "fx_noisy*")
    assert listed.returncode == 0, listed.stderr
    json.loads(listed.stdout)  # nothing but the document
    for noise in (b"import-time os.write", b"import-time print", b"import-time __stdout__",
                  b"import-time subprocess"):
        assert noise in listed.stderr
    fired = ckansig("-c", config, "fire", "fx_noisy", "-f", "json")
    assert fired.returncode == 0, fired.stderr
    trace = json.loads(fired.stdout)
    by_name = {r["receiver"].rsplit(".", 1)[1]: r for r in trace["receivers"]}
    assert by_name["by_os_write"]["output"] == "by os.write\n"
    assert by_name["by_buffer"]["output"] == "by buffer\n"
    assert by_name["by_buffer"]["result"] == "1"  # sys.stdout.fileno(), as in CKAN
    assert by_name["by_dunder"]["output"] == "by __stdout__\n"
    assert by_name["by_subprocess"]["output"] == "by a subprocess\n"
    assert by_name["to_fd_2"]["stderr"] == "on fd 2\n"
    assert {r["status"] for r in trace["receivers"]} == {"ok"}
    assert b"printed late by a thread" in fired.stderr
    assert b"printed late" not in fired.stdout


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_receiver_closing_stdout_and_stderr_silences_nothing(write_config, fmt: str) -> None:
    config = str(write_config("fx_noisy"))
    fired = ckansig("-c", config, "fire", "fx_noisy_closing", "-f", fmt)
    assert fired.returncode == 0, fired.stderr
    if fmt == "json":
        statuses = [r["status"] for r in json.loads(fired.stdout)["receivers"]]
        assert statuses == ["ok", "ok"]
    else:
        assert b"closes_stdout" in fired.stdout and b"2 ok" in fired.stdout
    missing = ckansig("-c", config, "fire", "fx_noisy_closing", "--kwargs", "{bad")
    assert missing.returncode == 2 and b"--kwargs" in missing.stderr


@pytest.mark.parametrize("args", [["list", "-f", "json"], ["list"], ["doctor"],
                                  ["fire", "user_created", "-f", "json"],
                                  ["fire", "user_created"]])
def test_a_plugin_that_changes_the_interpreter_cannot_break_the_output(
    write_config, args: list[str],
) -> None:
    # the shadow folder holds the plugin and a module of its own named rich
    config = str(write_config("fx_good", "fx_interpreter",
                              paths=[str(FIXTURES), str(FIXTURES / "shadow")]))
    done = ckansig("-c", config, *args)
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    assert done.returncode in (0, 1), done.stderr.decode()
    assert b"fx_interpreter.receiver" in done.stdout or args[0] == "doctor"
    if "json" in args:
        document = json.loads(done.stdout)
        if args[0] == "fire":
            assert {r["status"] for r in document["receivers"]} == {"ok"}


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_receivers_raising_the_unusual_are_each_their_own_error(write_config, fmt: str) -> None:
    config = str(write_config("fx_hostile:RaisingReceivers"))
    done = ckansig("-c", config, "fire", "fx_hostile_fire", "-f", fmt)
    assert done.returncode == 1 and b"Traceback" not in done.stderr, done.stderr
    if fmt == "text":
        assert b"5 receiver(s): 2 ok, 3 raised" in done.stdout
        return
    receivers = {r["receiver"].rsplit(".", 1)[1]: r for r in json.loads(done.stdout)["receivers"]}
    assert {k: r["status"] for k, r in receivers.items()} == {
        "raises_bad_message": "error", "raises_system_exit": "error",
        "raises_generator_exit": "error", "returns_unrepresentable": "ok", "fine": "ok"}
    assert receivers["raises_bad_message"]["error"]["message"] == \
        "<message unrepresentable: str() raised RuntimeError>"
    assert receivers["raises_system_exit"]["error"]["type"] == "SystemExit"
    assert receivers["returns_unrepresentable"]["result"].startswith("<unrepresentable")
