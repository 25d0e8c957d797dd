"""The JSON examples in the docs have exactly the fields ckansig prints: each
is parsed from docs/reference/commands.md and its keys compared, level by
level, with a real run's (so that an example cannot go stale)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ckansig.cli import main

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ROOT / "docs" / "reference" / "commands.md"


def example(heading: str) -> dict[str, Any]:
    """The JSON example under ``heading`` in the commands reference."""
    text = COMMANDS.read_text(encoding="utf-8").split(heading, 1)[1]
    block = re.search(r"```json\n(.*?)```", text, re.S)
    assert block, f"no JSON example under {heading}"
    document: dict[str, Any] = json.loads(block.group(1))
    return document


def shape(value: Any) -> Any:
    """The keys of ``value``, level by level (the first item of each list)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value and isinstance(value[0], (dict, list)) else []
    return None


#: fields whose content is the send's own data, not a shape of ckansig's
DATA = {"kwargs", "result", "sender", "fields", "rejected", "data_dict"}


def overlap(documented: Any, printed: Any, path: str = "") -> None:
    """Every key documented is printed and every key printed is documented,
    wherever both have the level."""
    if isinstance(documented, dict) and isinstance(printed, dict):
        assert set(documented) == set(printed), (path, set(documented) ^ set(printed))
        for key in documented:
            if key not in DATA:
                overlap(documented[key], printed[key], f"{path}.{key}")
    elif isinstance(documented, list) and isinstance(printed, list) and documented and printed:
        overlap(documented[0], printed[0], f"{path}[0]")


@pytest.mark.parametrize(("heading", "args"), [
    ("### `ckansig list --format json`", ["list", "--format", "json", "--subscribed"]),
    ("### `ckansig fire --format json`", ["fire", "user_created", "--kw", "username=bob",
                                          "--format", "json"]),
])
def test_the_json_examples_are_what_ckansig_prints(runner, monkeypatch: pytest.MonkeyPatch,
                                                   heading: str, args: list[str]) -> None:
    monkeypatch.chdir(ROOT)  # the bundled example
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    overlap(shape(example(heading)), shape(json.loads(result.stdout)))


def test_the_orders_json_example_is_what_orders_prints(runner, write_config) -> None:
    config = write_config("fx_orders_plain")  # a dependence, as the example has
    result = runner.invoke(main, ["-c", str(config), "fire", "fx_orders:made", "--sender", "a",
                                  "--kw", "context={}", "--orders", "--format", "json"])
    assert result.exit_code == 1, result.output
    printed = json.loads(result.stdout)
    assert printed["dependent"]
    # the example's not_compared and not_rolled_back show their items' shape
    printed["not_compared"] = [{"path": "…", "field": "result"}]
    printed["not_rolled_back"] = [{"order": 3, "message": "NOT rolled back: …"}]
    overlap(shape(example("### `ckansig fire --orders --format json`")), shape(printed))


def test_the_doctor_json_example_is_what_doctor_prints(runner, write_config) -> None:
    config = write_config("fx_doc:DroppedMethod")  # a finding, as the example has
    result = runner.invoke(main, ["-c", str(config), "doctor", "--format", "json"])
    printed = json.loads(result.stdout)
    assert printed["problems"]
    overlap(shape(example("### `ckansig doctor --format json`")), shape(printed))
