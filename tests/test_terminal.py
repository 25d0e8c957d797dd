"""Terminal safety: whatever plugins, config files, paths or click print is shown
escaped, never obeyed, and output degrades instead of crashing on a terminal
that cannot encode it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckansig.cli import main
from ckansig.output.terminal import clean

from .conftest import ROOT

HOSTILE = [
    "\x1b]0;pwned\x07",  # sets the terminal title
    "\x1b[2J",  # clears the screen
    "\u202eevil",  # right-to-left override
    "\u2066isolate\u2069",  # bidi isolates
    "lone \udcff surrogate",
    "\r\x08\x9b",  # carriage return, backspace, C1 CSI
]


@pytest.mark.parametrize("text", HOSTILE)
def test_clean_escapes_what_a_terminal_would_obey(text: str) -> None:
    shown = clean(text)
    assert shown.isprintable() and shown.encode("utf-8")  # encodable, nothing obeyed
    assert not {"\x1b", "\x07", "\r", "\u202e", "\u2066", "\u2069", "\udcff"} & set(shown)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_clean_output_is_always_printable_and_encodable(text: str) -> None:
    shown = clean(text)
    shown.encode("utf-8")  # no lone surrogate left
    obeyed = {chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0),
                               *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
    assert not set(shown) & obeyed


@pytest.mark.parametrize("text", HOSTILE[:4])
def test_a_config_key_cannot_drive_the_terminal(runner, tmp_path: Path, text: str) -> None:
    config = tmp_path / "plugins.toml"
    escaped_key = text.encode("unicode_escape").decode("ascii").replace("\\x", "\\u00")
    config.write_text(f'[ckansig]\nplugins = []\n"{escaped_key}" = 1\n', encoding="utf-8")
    result = runner.invoke(main, ["-c", str(config), "list"])
    assert result.exit_code == 2
    assert "unknown key" in result.stderr
    assert not {"\x1b", "\x07", "\u202e", "\u2066"} & set(result.stderr)


def test_clicks_own_errors_are_escaped(runner) -> None:
    result = runner.invoke(main, ["list", "--\x1b[2J"])
    assert result.exit_code == 2
    assert "No such option" in result.stderr and "\x1b" not in result.stderr
    assert "\\x1b[2J" in result.stderr


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
@pytest.mark.parametrize("command", [["list"], ["doctor"], ["fire", "failed_login", "--kw",
                                                            "username=bob"]])
def test_a_stdout_that_cannot_encode_degrades(encoding: str, command: list[str]) -> None:
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    env.pop("CKANSIG_CONFIG", None)
    done = subprocess.run([sys.executable, "-m", "ckansig", *command], cwd=ROOT, env=env,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode(encoding, "replace")
    assert b"Traceback" not in done.stderr
    if command[0] != "fire":  # list's bullets, doctor's angles: not in ASCII
        assert b"?" in done.stdout
