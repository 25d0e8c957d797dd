"""The pytest plugin: assertions on sends and wiring, isolation, the leak
guard and signal coverage, each run in a pytest of its own (pytester), the
plugin loaded through its pytest11 entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HEADER = """
import pytest
from ckansig import signals

ckanext = signals.ckanext
ready = ckanext.signal("fx_tests_ready")
done = ckanext.signal("fx_tests_done")


def on_ready(sender, **kwargs):
    return "ready"


def on_done(sender, **kwargs):
    return "done"


class Plugin:
    def on_ready(self, sender, **kwargs):
        return "method"
"""


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_fx=HEADER + body)
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_sends_match_as_subsets_with_predicates(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
def test_it(signal_log):
    ready.send("bob", data={"user": {"name": "bob", "id": 7}, "extra": 1}, count=3)
    ready.send("alice", count=4)
    send = signal_log.assert_sent("fx_tests_ready", sender="bob",
                                  data={"user": {"name": "bob"}})
    assert send.kwargs["count"] == 3
    signal_log.assert_sent("ckanext:fx_tests_ready", count=lambda n: n > 3)
    signal_log.assert_sent("fx_tests_*", sender="alice")
    signal_log.assert_sent(ready, times=2)
    assert len(signal_log.assert_sent("ckanext:fx_tests_*", times=2)) == 2
    once = signal_log.assert_sent_once("fx_tests_ready", sender="alice")
    assert once.sender == "alice"
    signal_log.assert_not_sent("fx_tests_ready", data={"user": {"name": "carol"}})
    signal_log.assert_not_sent("fx_tests_done")
    with pytest.raises(AssertionError, match="sent 2 time"):
        signal_log.assert_sent_once("fx_tests_ready")
""")
    result.assert_outcomes(passed=1)


def test_failures_list_the_sends_closest_first(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
def test_missing(signal_log):
    done.send("x")
    for n in range(3):
        ckanext.signal(f"fx_other_{n}").send(n)
    ready.send("alice")
    signal_log.assert_sent("fx_tests_ready", sender="bob")

def test_typo_of_a_sent_signal(signal_log):
    ckanext.signal("fx_tests_readied")
    ready.send("bob")
    signal_log.assert_sent("fx_tests_readied")
""")
    result.assert_outcomes(failed=2)
    text = result.stdout.str()
    missing = text[text.index("expected fx_tests_ready sender='bob'"):]
    order = [missing.index(f"ckanext:{name}") for name in ("fx_tests_ready", "fx_tests_done",
                                                           "fx_other_0")]
    assert order == sorted(order), missing[:600]
    assert "sent instead (closest first)" in missing
    assert "did you mean 'fx_tests_ready'?" in text


def test_unknown_signals_fail_loudly(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
def test_not_sent_typo(signal_log):
    signal_log.assert_not_sent("user_creatd")

def test_sent_typo(signal_log):
    signal_log.assert_sent("fx_tests_redy")

def test_glob_matching_nothing(signal_log):
    signal_log.assert_not_sent("fx_nothing_*")

def test_known(signal_log):
    signal_log.assert_not_sent("user_created")       # a core signal
    signal_log.assert_not_sent("action_succeeded")   # its attribute name
    signal_log.assert_not_sent("fx_tests_*")
    signal_log.assert_nothing_sent()
""")
    result.assert_outcomes(failed=3, passed=1)
    result.stdout.fnmatch_lines([
        "*no signal is 'user_creatd'*did you mean 'user_created'*",
        "*no signal is 'fx_tests_redy'*did you mean 'fx_tests_ready'*",
        "*no signal matches 'fx_nothing_[*]'*",
    ])


def test_sends_carry_their_test_as_scope(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
def test_scoped(signal_log):
    ready.send("x")
    [send] = signal_log.sent("fx_tests_ready")
    assert send.scope == "test test_fx.py::test_scoped"
""")
    result.assert_outcomes(passed=1)


def test_order_and_nothing_sent(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
def test_order(signal_log):
    ready.send("a")
    done.send("b")
    ready.send("c")
    sends = signal_log.assert_sent_in_order(["fx_tests_ready", ("fx_tests_done", {"sender": "b"}),
                                             ("fx_tests_ready", {"sender": "c"})])
    assert [s.sender for s in sends] == ["a", "b", "c"]
    with pytest.raises(AssertionError, match="expected fx_tests_done after fx_tests_ready"):
        signal_log.assert_sent_in_order([("fx_tests_ready", {"sender": "c"}), "fx_tests_done"])

def test_nothing(signal_log):
    signal_log.assert_nothing_sent()
    done.send(1)
    with pytest.raises(AssertionError, match="expected no signal to be sent"):
        signal_log.assert_nothing_sent()
""")
    result.assert_outcomes(passed=2)


def test_assertions_on_wiring(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
@pytest.mark.ckansig_leaks_ok
def test_wiring(signal_log):
    plugin = Plugin()
    ready.connect(on_ready)
    ready.connect(plugin.on_ready, sender="bob")
    signal_log.assert_subscribed("fx_tests_ready", on_ready)
    signal_log.assert_subscribed(ready, plugin.on_ready, sender="bob")
    signal_log.assert_not_subscribed("fx_tests_ready", plugin.on_ready, sender="alice")
    signal_log.assert_not_subscribed("fx_tests_done", on_ready)
    with pytest.raises(AssertionError, match="its receivers: test_fx.Plugin.on_ready, "
                                             "test_fx.on_ready"):
        signal_log.assert_subscribed("fx_tests_ready", on_done)
    with pytest.raises(AssertionError, match="not to be subscribed"):
        signal_log.assert_not_subscribed("fx_tests_ready", on_ready)
""")
    result.assert_outcomes(passed=1)


def test_only_and_mute_restore_everything(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(other_receivers="def elsewhere(sender, **kwargs):\n"
                                        "    return 'elsewhere'\n")
    result = run(pytester, """
import other_receivers

def receivers(signal):
    return sorted(getattr(r, "__name__", "?") for r in signal.receivers_for("x"))

@pytest.mark.ckansig_leaks_ok
def test_isolation(signal_log):
    ready.connect(on_ready)
    ready.connect(other_receivers.elsewhere)
    done.connect(on_done)
    before = [dict(s.receivers) for s in (ready, done)]
    with signal_log.only(receivers=[on_ready]):
        assert [r for _, r in ready.send("x")] == ["ready"]
        assert done.send("x") == []
    with signal_log.only(plugin="other_receivers"):
        assert [r for _, r in ready.send("x")] == ["elsewhere"]
    with signal_log.mute(plugin="other_receivers"):
        assert [r for _, r in ready.send("x")] == ["ready"]
        ready.connect(on_done)  # connected inside the block: gone afterwards
    with pytest.raises(RuntimeError):
        with signal_log.mute(receivers=[on_ready, on_done]):
            assert [r for _, r in ready.send("x")] == ["elsewhere"]
            raise RuntimeError("the block fails")
    assert [dict(s.receivers) for s in (ready, done)] == before
    assert sorted(r for _, r in ready.send("x")) == ["elsewhere", "ready"]
    with pytest.raises(TypeError, match="name a plugin"):
        signal_log.only()
""")
    result.assert_outcomes(passed=1)


LEAKY = """
def test_leaks():
    ready.connect(on_ready)

def test_cleans_up():
    ready.connect(on_done)
    ready.disconnect(on_done)

@pytest.mark.ckansig_leaks_ok
def test_on_purpose():
    done.connect(on_done)
"""


def test_the_leak_guard_warns(pytester: pytest.Pytester) -> None:
    result = run(pytester, LEAKY)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([
        "*SignalLeakWarning: test_fx.py::test_leaks left 1 receiver(s) connected that were "
        "not before it: test_fx.on_ready on ckanext:fx_tests_ready"])
    assert "test_cleans_up left" not in result.stdout.str()
    assert "test_on_purpose left" not in result.stdout.str()


def test_the_leak_guard_fails_or_stays_off(pytester: pytest.Pytester) -> None:
    failing = run(pytester, LEAKY, "--signals-leaks=fail")
    failing.assert_outcomes(passed=3, errors=1)
    failing.stdout.fnmatch_lines(["*ERROR at teardown of test_leaks*",
                                  "*left 1 receiver(s) connected*test_fx.on_ready*"])
    off = pytester.runpytest("-p", "no:cacheprovider", "--signals-leaks=off")
    off.assert_outcomes(passed=3)
    assert "SignalLeakWarning" not in off.stdout.str()


COVERED = """
@pytest.fixture(autouse=True)
def wired():
    ready.connect(on_ready)
    done.connect(on_done)
    yield
    ready.disconnect(on_ready)
    done.disconnect(on_done)

def test_ready():
    ready.send("x")
"""


def test_signal_coverage(pytester: pytest.Pytester, tmp_path: Path) -> None:
    report = tmp_path / "signals.json"
    result = run(pytester, COVERED, "--signals-report", f"--signals-report-json={report}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*signal coverage (ckansig)*",
        "1 of 2 subscribed receiver(s) never ran (50.0% ran)",
        "  test_fx: 1 of 2 never ran",
        "    test_fx.on_done on ckanext:fx_tests_done",
    ])
    document = json.loads(report.read_text())
    assert document["receivers"] == 2 and document["ran"] == 1 and document["percent"] == 50.0
    assert document["plugins"]["test_fx"]["never_ran"] == [
        {"signal": "ckanext:fx_tests_done", "receiver": "test_fx.on_done"}]


def test_coverage_can_fail_the_session(pytester: pytest.Pytester) -> None:
    failing = run(pytester, COVERED, "--signals-cov-fail-under=75")
    assert failing.ret == 1
    failing.assert_outcomes(passed=1)
    failing.stdout.fnmatch_lines(["*FAIL: 50.0% of the subscribed receivers ran, under "
                                  "--signals-cov-fail-under=75*"])
    passing = pytester.runpytest("-p", "no:cacheprovider", "--signals-cov-fail-under=50")
    assert passing.ret == 0
    bad = pytester.runpytest("-p", "no:cacheprovider", "--signals-cov-fail-under=lots")
    assert bad.ret == 4 and "is not a number" in bad.stderr.str()


def test_the_report_draws_the_sends_of_failing_tests(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
@pytest.fixture(autouse=True)
def wired():
    def relay(sender, **kwargs):
        done.send(sender, why="relayed", password="hunter22")
        return "relayed"
    ready.connect(relay)
    done.connect(on_done)
    yield
    ready.disconnect(relay)
    done.disconnect(on_done)

def test_fails():
    ready.send("bob")
    assert False

def test_passes():
    ready.send("alice")
""", "--signals-report")
    result.assert_outcomes(failed=1, passed=1)
    text = result.stdout.str()
    start = text.index("signals sent by failing tests (ckansig)")
    section = text[start:text.index("signals sent (ckansig)", start)]
    assert "test_fx.py::test_passes" not in section
    result.stdout.fnmatch_lines([
        "*signals sent by failing tests (ckansig)*",
        "test_fx.py::test_fails",
        "  sends (receivers in the order they ran here: blinker promises none)",
        "  └── ckanext:fx_tests_ready sender='bob'",
        "      └── test_fx.wired.<locals>.relay: ok",
        "          └── ckanext:fx_tests_done sender='bob'",
        "              └── test_fx.on_done: ok",
    ])  # compact: names, senders and statuses, no argument values
    assert "hunter22" not in text


@pytest.mark.ckan  # run where CKAN (and so Flask) is installed: .ci/run's CKAN virtualenvs
def test_the_report_counts_tests_and_hides_flasks_own_signals(
        pytester: pytest.Pytester) -> None:
    pytest.importorskip("flask")
    result = run(pytester, """
import flask.signals

ready.send("at import")  # outside any test


def test_one():
    ready.send("one")
    flask.signals.template_rendered.send("app", template=None, context={})


def test_two():
    ready.send("two")


def test_fails():
    ready.connect(on_ready)
    try:
        ready.send("three")
    finally:
        ready.disconnect(on_ready)
    assert False
""", "--signals-report", "--signals-leaks=off", "-p", "no:ckan", "-p", "no:ckan_fixtures")
    text = result.stdout.str()
    assert "ckanext:fx_tests_ready: sent 4 time(s) by 3 test(s), 1 outside tests" in text
    assert "(outside tests)" not in text
    assert "template_rendered" not in text and "template-rendered" not in text
    report = text.split("signals sent by failing tests (ckansig)", 1)[1]
    assert "blinker does not promise an order" in report


def test_the_docs_failure_example_is_what_assert_sent_says(signal_log) -> None:
    # docs/reference/pytest-plugin.md shows this failure: the test keeps it true
    import re

    from ckansig import signals

    docs = (Path(__file__).parent.parent / "docs" / "reference" /
            "pytest-plugin.md").read_text()
    shown = re.search(r"path that differs from what was expected:\n\n  ```\n(.*?)\n  ```",
                      docs, re.S)
    assert shown, "the example is gone from the docs"
    expected = [line[2:] for line in shown.group(1).splitlines()]
    signals.ckanext.signal("core_ready").send(
        "bob", user={"name": "bob", "state": "pending"}, password="hunter2-secret")
    with pytest.raises(AssertionError) as failed:
        signal_log.assert_sent("core_ready", sender="alice",
                               user={"state": "active", "email": "alice@example.org"})
    assert str(failed.value).splitlines() == [line.removeprefix("AssertionError: ")
                                              for line in expected]


ORDER_DEPENDENT = """
from ckansig import signals

order = signals.ckanext.signal("fx_shuffle_order")
seen = []


def first(sender, **kwargs):
    seen.append("first")


def second(sender, **kwargs):  # depends on first having run: the planted bug
    return "after first" if "first" in seen else "alone"


def test_second_sees_first():
    seen.clear()
    order.connect(first)
    order.connect(second)
    try:
        results = {receiver.__name__: value for receiver, value in order.send("x")}
    finally:
        order.disconnect(first)
        order.disconnect(second)
    assert results["second"] == "after first"
"""


def test_signals_shuffle_finds_an_order_dependence_and_replays_it(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_order=ORDER_DEPENDENT)
    outcomes = {}
    for seed in range(12):
        result = pytester.runpytest("-p", "no:cacheprovider", f"--signals-shuffle={seed}")
        outcomes[seed] = result.ret
        assert f"ckansig: receivers run in a shuffled order, seed {seed}" in result.stdout.str()
    failing = [seed for seed, code in outcomes.items() if code == 1]
    passing = [seed for seed, code in outcomes.items() if code == 0]
    assert failing and passing, outcomes  # some orders show the bug, some hide it
    seed = failing[0]
    for _ in range(2):  # the seed replays the failing order, every time
        again = pytester.runpytest("-p", "no:cacheprovider", f"--signals-shuffle={seed}")
        assert again.ret == 1
        assert f"--signals-shuffle={seed} replays them" in again.stdout.str()
    assert pytester.runpytest("-p", "no:cacheprovider",
                              f"--signals-shuffle={passing[0]}").ret == 0


def test_signals_shuffle_without_a_seed_picks_one_and_a_bad_seed_is_refused(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_order=ORDER_DEPENDENT)
    result = pytester.runpytest("-p", "no:cacheprovider", "--signals-shuffle")
    assert "ckansig: receivers run in a shuffled order, seed " in result.stdout.str()
    for bad in ("abc", "-3"):
        refused = pytester.runpytest("-p", "no:cacheprovider", f"--signals-shuffle={bad}")
        assert refused.ret == pytest.ExitCode.USAGE_ERROR
        assert "--signals-shuffle:" in refused.stderr.str() and "is not a seed" in \
            refused.stderr.str()
