"""``--orders`` and ``--order`` (issue #27) without CKAN, and the pieces of
``fuzz`` that need no CKAN: permutations, the replay command line, the
outcomes compared, and data_dicts drawn from a schema."""

from __future__ import annotations

import itertools
import json
import math
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from ckansig.cli import main
from ckansig.firing.orders import (
    LOST,
    Plan,
    _compare,
    nth_permutation,
    outcomes,
    replay_argv,
)


@given(st.integers(min_value=0, max_value=6))
def test_the_first_n_factorial_runs_are_every_order_once(n: int) -> None:
    orders = [nth_permutation(n, k) for k in range(math.factorial(n))]
    assert orders[0] == tuple(range(n))  # run 1: the canonical order
    assert sorted(orders) == orders == sorted(itertools.permutations(range(n)))


def test_a_send_of_many_receivers_gets_seeded_samples() -> None:
    names = tuple(f"r{i}" for i in range(9))
    key = ("big", names)
    first, again, other = Plan(3, seed=5), Plan(3, seed=5), Plan(3, seed=6)
    assert first.permutation(key) == again.permutation(key) != other.permutation(key)
    assert sorted(first.permutation(key)) == list(range(9))
    assert Plan(0, seed=5).permutation(key) == tuple(range(9))


ARGS = st.lists(st.one_of(st.sampled_from(["--orders", "--orders=5", "5", "-f", "json",
                                           "--format", "--format=json", "--seed", "7",
                                           "--seed=3", "--kw", "name=x", "call", "fire"]),
                          st.text(max_size=8)), max_size=12)


@given(ARGS, st.integers(min_value=1, max_value=720), st.integers(min_value=0), st.booleans())
def test_the_replay_keeps_the_command_and_names_one_order(argv: list[str], order: int,
                                                          seed: int, sampled: bool) -> None:
    replay = replay_argv(argv, order, seed, sampled)
    tail = ["--order", str(order)] + (["--seed", str(seed)] if sampled else [])
    assert replay[len(replay) - len(tail):] == tail
    kept = replay[:len(replay) - len(tail)]
    assert "--orders" not in kept and not any(a.startswith(("--orders=", "--format="))
                                              for a in kept)
    rest = iter(argv)
    assert all(any(a == b for b in rest) for a in kept)  # a subsequence: nothing invented


def test_the_replay_of_an_example_command() -> None:
    argv = ["--ckan-ini", "ckan.ini", "call", "user_create", "--orders", "12", "--kw",
            "name=x", "-f", "json", "--seed=4"]
    assert replay_argv(argv, 3, 4, False) == ["--ckan-ini", "ckan.ini", "call", "user_create",
                                              "--kw", "name=x", "--order", "3"]


def _receiver(name: str, status: str = "ok", result: Any = "'x'") -> dict[str, Any]:
    return {"receiver": name, "status": status, "result": result, "error": None,
            "db_changes": {}, "children": []}


def test_ids_times_and_addresses_are_not_differences() -> None:
    one = {"signal": "s", "sender": "a", "receivers": [_receiver(
        "r", result="'<x at 0x7f66a48c3890> 2026-12-07T23:24:21.218747 "
        "ca162ade-5201-44d3-936d-9e02c00db8f3'")]}
    two = {"signal": "s", "sender": "a", "receivers": [_receiver(
        "r", result="'<x at 0x7f0000000001> 2025-01-01T00:00:00 "
        "00000000-5201-44d3-936d-9e02c00db8f3'")]}
    assert outcomes(one) == outcomes(two)


def test_a_lost_result_is_no_difference_but_a_status_is() -> None:
    ran = outcomes({"signal": "s", "sender": "a", "receivers": [_receiver("r", result=None)]})
    assert ran["s (sender 'a') → r", "result"] == LOST
    other = outcomes({"signal": "s", "sender": "a",
                      "receivers": [_receiver("r", result="'None'")]})
    assert _compare([ran, other], set()) == []
    failed = outcomes({"signal": "s", "sender": "a",
                       "receivers": [_receiver("r", "error", None)]})
    [found] = _compare([ran, failed], set())
    assert found.fields == {"status": ("ok", "error")}  # a lost result is compared with nothing
    assert _compare([ran, failed], {("s (sender 'a') → r", "status"),
                                    ("s (sender 'a') → r", "result")}) == []


@pytest.fixture
def orders_config(write_config: Any) -> Path:
    path: Path = write_config("fx_orders_plain")
    return path


@pytest.fixture
def run(runner: CliRunner, orders_config: Path) -> Any:
    def invoke(*args: str, config: bool = True) -> Any:
        prefix = ["-c", str(orders_config)] if config else []
        return runner.invoke(main, [*prefix, *args], catch_exceptions=False)
    return invoke


def test_fire_orders_finds_the_planted_dependence(run: Any) -> None:
    done = run("fire", "fx_orders:made", "--sender", "a", "--kw", "context={}",
                "--orders", "--format", "json")
    assert done.exit_code == 1, done.output
    document = json.loads(done.stdout)
    assert len(document["runs"]) == 6
    [found] = [d for d in document["dependent"] if d["path"].endswith("check")]
    assert set(found["fields"]["status"].values()) == {"ok", "error"}
    assert not any(d["path"].endswith("independent") for d in document["dependent"])
    codes = set()
    for command in found["replay"]:
        words = shlex.split(command)[1:]
        replay = run(*words, config=False)
        codes.add(replay.exit_code)
        assert "ckansig: order " in replay.stderr
    assert codes == {0, 1}


def test_fire_orders_text(run: Any) -> None:
    done = run("fire", "fx_orders:made", "--sender", "a", "--kw", "context={}",
                "--orders")
    assert done.exit_code == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith("6 order(s) run (up to 3 receivers per send; seed 0)")
    assert lines[1] == "✗ fx_orders:made (sender 'a') → fx_orders_plain.check: depends on " \
        "the order"
    assert "replay: ckansig -c " in done.stdout


def test_orders_and_order_and_commit_are_refused_together(run: Any) -> None:
    for args, message in [(["--orders", "--order", "2"], "not both"),
                          (["--orders", "--dry-run"], "not with --commit or --dry-run"),
                          (["--orders", "0"], "--orders"), (["--order", "0"], "--order")]:
        done = run("fire", "fx_orders:made", *args)
        assert done.exit_code == 2, (args, done.output)
        assert message in done.stderr, (args, done.stderr)


@st.composite
def _schemas(draw: Any) -> dict[str, Any]:
    def named(name: str) -> Any:
        def validator(value: Any) -> Any:
            return value
        validator.__name__ = name
        return validator

    names = st.sampled_from(["not_empty", "ignore_missing", "unicode_safe", "name_validator",
                             "int_validator", "boolean_validator", "email_validator",
                             "ignore", "isodate", "uuid_validator"])
    fields = draw(st.dictionaries(st.from_regex(r"\A[a-z]{1,6}\Z"),
                                  st.lists(names, min_size=1, max_size=3), max_size=6))
    return {key: [named(n) for n in validators] for key, validators in fields.items()}


@given(_schemas(), st.data())
def test_drawn_data_dicts_have_the_required_and_fixed_fields_only(schema: dict[str, Any],
                                                                  data: Any) -> None:
    from ckansig.firing.fuzz import data_dicts

    fixed = {"owner_org": "org"}
    drawn = data.draw(data_dicts(schema, fixed))
    assert drawn["owner_org"] == "org"
    for key, validators in schema.items():
        names = {v.__name__ for v in validators}
        left_alone = names & {"ignore", "uuid_validator"}
        if left_alone:
            assert key not in drawn or key == "owner_org"
        elif "not_empty" in names:
            assert key in drawn
    assert set(drawn) <= set(schema) | set(fixed)


def test_each_crash_is_redacted_with_its_own_data_dicts_secrets() -> None:
    from ckansig.firing.fuzz import Crash, FuzzReport
    from ckansig.output.fuzz_view import fuzz_json

    crashes = [Crash("ext.a", "ckan:action_succeed", "KeyError", "'notes'",
                     {"name": "aa", "password": "notes"}),
               Crash("ext.b", "ckan:action_succeed", "KeyError", "'notes'", {"name": "bb"})]
    report = FuzzReport("user_create", 3, 1, {}, crashes, 0.1, False)
    first, second = fuzz_json(report, ["fuzz", "user_create"], None)["crashes"]
    assert first["error"]["message"] == "'***'" and first["data_dict"]["password"] == "***"
    assert "notes" not in first["replay"]
    assert second["error"]["message"] == "'notes'"  # another example's secret is not its own
    assert fuzz_json(report, ["fuzz", "user_create"], None, redact=False)["crashes"][0][
        "data_dict"]["password"] == "notes"


def test_the_replays_hold_no_secret_of_the_command_line(run: Any) -> None:
    for fmt in ("json", "text"):
        done = run("fire", "fx_orders:made", "--sender", "a", "--kw", "context={}",
                   "--kw", "password=hunter2-secret", "--orders", "--format", fmt)
        assert done.exit_code == 1, done.output
        assert "hunter2-secret" not in done.stdout
        assert "password=***" in done.stdout


def test_fuzz_without_hypothesis_is_a_usage_error(runner: CliRunner,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "hypothesis", None)  # as if it were not installed
    done = runner.invoke(main, ["fuzz", "package_create"])
    assert done.exit_code == 2
    assert "fuzz needs hypothesis: pip install hypothesis" in done.stderr
    assert "Traceback" not in done.output
