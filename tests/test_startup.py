"""What the core and each command import: the library is free of click and
rich, and the commands load rich and importlib.metadata only when needed."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT

PROBE = """
import json, sys
{body}
from ckansig.isolation import streams  # stdout, which the commands take for their output
print(json.dumps(sorted(m for m in ("click", "rich", "importlib.metadata") if m in sys.modules)),
      file=streams().out)
"""


def imported(body: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(body=body)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_library_needs_neither_click_nor_rich() -> None:
    body = """
from ckansig import find_config, load_config, load, fire
from ckansig.doctor import diagnose
registry = load(load_config(find_config()))
fire(registry.find("user_created"), "bob", {}, registry=registry)
diagnose(registry)
"""
    assert imported(body) == []


def test_json_output_does_not_load_rich() -> None:
    for args in (["list"], ["fire", "user_created", "--kw", "username=bob"], ["doctor"]):
        body = f"""
from ckansig.cli import main
try:
    main({[*args, "--format", "json"]!r})
except SystemExit:
    pass
"""
        assert imported(body) == ["click"], args


def test_text_output_loads_rich() -> None:
    body = """
from ckansig.cli import main
try:
    main(["list"])
except SystemExit:
    pass
"""
    assert imported(body) == ["click", "rich"]
