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
