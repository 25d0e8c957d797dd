"""ckansig's pytest plugin (registered through the ``pytest11`` entry point).

- The ``signal_log`` fixture records every blinker signal sent during a test,
  with assertions on the sends and the wiring, and isolation
  (:class:`ckansig.testing.log.SignalLog`)::

      def test_signup(signal_log):
          create_user("bob")
          signal_log.assert_sent_once("user_created", sender="bob", user={"name": "bob"})
          signal_log.assert_not_sent("failed_login")

- The leak guard reports a test that leaves receivers connected to CKAN's
  signals that were not there before it: a warning, or an error with
  ``--signals-leaks=fail`` (``off`` turns it off).
- ``--signals-report`` prints, at the end of the session, which signals were
  sent, how often, by which tests, which receivers raised, and which
  subscribed receivers never ran; ``--signals-report-json FILE`` writes the
  coverage, ``--signals-cov-fail-under=PCT`` fails the session below PCT.

Nothing records or slows anything until it is used: this module imports
nothing but pytest when pytest loads it, and the leak guard only looks at
signal namespaces something else has imported.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from contextlib import ExitStack

    from ckansig.testing.log import SignalLog
    from ckansig.testing.session import Coverage
    from ckansig.watching.recorder import SendRecord

__all__ = ["SignalLog", "signal_log"]


def __getattr__(name: str) -> Any:
    if name == "SignalLog":  # imported on first use, not when pytest loads the plugin
        from ckansig.testing.log import SignalLog

        return SignalLog
    raise AttributeError(name)


@pytest.fixture
def signal_log() -> Iterator[SignalLog]:
    """Every blinker signal sent during the test, with assertions on the sends
    and the wiring, and ``only``/``mute`` to run some receivers alone."""
    from ckansig.testing.log import SignalLog
    from ckansig.watching.recorder import record

    log = SignalLog()
    with record(log):
        yield log
    log.clear()  # this test's sends only: none outlive it


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise pytest.UsageError(
            f"--signals-cov-fail-under: {text!r} is not a number") from None
    if not 0 <= value <= 100:
        raise pytest.UsageError(f"--signals-cov-fail-under: {text} is not between 0 and 100")
    return value


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ckansig")
    group.addoption("--signals-report", action="store_true", default=False,
                    help="ckansig: report which blinker signals were sent, how often, by "
                    "which tests, which receivers raised, and which subscribed receivers "
                    "never ran.")
    group.addoption("--signals-report-json", metavar="FILE", default=None,
                    help="ckansig: write the signal coverage (receivers that never ran, per "
                    "plugin) to FILE as JSON.")
    group.addoption("--signals-cov-fail-under", metavar="PCT", type=_percent, default=None,
                    help="ckansig: fail the session when fewer than PCT percent of the "
                    "subscribed receivers ran.")
    group.addoption("--signals-shuffle", nargs="?", const="random", default=None,
                    metavar="SEED",
                    help="ckansig: every send calls its receivers in a random order drawn "
                    "from SEED (a new seed when none is given; it is printed, and "
                    "--signals-shuffle=SEED replays it), to find receivers that depend on "
                    "the order blinker happens to keep.")
    group.addoption("--signals-leaks", choices=("warn", "fail", "off"), default="warn",
                    help="ckansig: what to do about a test that leaves receivers connected to "
                    "CKAN's signals that were not there before it (default: warn).")


@pytest.hookimpl(tryfirst=True)  # before any recorder wraps receivers_for
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ckansig_leaks_ok: the leak guard of ckansig skips "
                            "this test (it connects receivers on purpose)")
    wanted = config.getoption("signals_shuffle", default=None)
    if wanted is not None:
        from ckansig.testing.shuffle import ShufflePlugin, parse_seed

        try:
            seed = parse_seed(str(wanted))
        except ValueError:
            raise pytest.UsageError(f"--signals-shuffle: {wanted!r} is not a seed (a whole "
                                    "number, 0 or more)") from None
        config.pluginmanager.register(ShufflePlugin(seed), "ckansig-signals-shuffle")
    if (config.getoption("signals_report", default=False)
            or config.getoption("signals_report_json", default=None)
            or config.getoption("signals_cov_fail_under", default=None) is not None):
        config.pluginmanager.register(_Report(config), "ckansig-signals-report")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """Sends recorded during a test carry it as their scope (where blinker is
    in use at all: otherwise nothing can be recorded)."""
    import sys

    if "blinker" not in sys.modules:
        yield
        return
    from ckansig.watching.recorder import scope

    with scope(f"test {item.nodeid}"):
        yield


@pytest.fixture(autouse=True)
def _ckansig_leak_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Compare the receivers connected before the test with those connected
    after it and its fixtures (CKAN's ``with_plugins`` included) are torn down."""
    mode = request.config.getoption("signals_leaks", default="warn")
    if mode == "off" or request.node.get_closest_marker("ckansig_leaks_ok"):
        yield
        return
    from ckansig.testing.session import LeakGuard

    guard = LeakGuard()
    guard.start()
    yield
    leaks = guard.leaks()
    if not leaks:
        return
    listed = "; ".join(f"{leak.receiver} on {leak.signal}" for leak in leaks[:10])
    more = f" and {len(leaks) - 10} more" if len(leaks) > 10 else ""
    message = (f"{request.node.nodeid} left {len(leaks)} receiver(s) connected that were not "
               f"before it: {listed}{more}")
    if mode == "fail":
        pytest.fail(message, pytrace=False)
    import warnings

    from ckansig.testing.session import SignalLeakWarning

    warnings.warn(SignalLeakWarning(message), stacklevel=1)


class _Tally:
    """What the report keeps of one signal: counts and names, never the sends'
    arguments (a session of 20,000 large sends must not hold them all)."""

    __slots__ = ("outside", "raised", "sends", "tests")

    def __init__(self) -> None:
        self.sends = 0
        self.tests: dict[str, None] = {}  # in order of first send
        self.outside = 0  # sends made outside any test (collection, fixtures' set-up)
        self.raised: set[str] = set()


class _Report:
    """Counts every send of the session, attributed to the running test, and
    which subscribed receivers ran."""

    def __init__(self, config: pytest.Config) -> None:
        from contextlib import ExitStack

        from ckansig.testing.session import Coverage
        from ckansig.watching.recorder import record

        self.show = bool(config.getoption("signals_report", default=False))
        self.json_path: str | None = config.getoption("signals_report_json", default=None)
        self.fail_under: float | None = config.getoption("signals_cov_fail_under",
                                                         default=None)
        self.failed_coverage = False
        self.current: str | None = None  # the running test's node id (None: outside tests)
        #: the running test's sends only, compact (no argument values)
        self.sends: list[dict[str, Any]] = []
        self.unkept = 0  # the running test's sends past _KEPT_SENDS, counted only
        self.trees: dict[str, list[str]] = {}  # failing test -> its send trees, as text
        self.tallies: dict[str, _Tally] = {}
        self.coverage: Coverage = Coverage()
        self.stack: ExitStack = ExitStack()
        self.stack.enter_context(record(self.sink))

    def sink(self, rec: SendRecord) -> None:
        if rec.signal in _flask_signals():  # Flask's own plumbing, hidden as the panel does
            return
        if self.show:
            if len(self.sends) < _KEPT_SENDS:
                from ckansig.watching.jsonl import compact_json

                self.sends.append(compact_json(rec))
            else:
                self.unkept += 1
        tally = self.tallies.get(rec.key)
        if tally is None:
            tally = self.tallies[rec.key] = _Tally()
        tally.sends += 1
        if self.current is None:
            tally.outside += 1
        else:
            tally.tests[self.current] = None
        for outcome in rec.outcomes:
            if outcome.status in ("ok", "error"):
                self.coverage.note_ran(rec.key, outcome.receiver)
            if outcome.status == "error":
                tally.raised.add(f"{describe_receiver(outcome.receiver)} "
                                 f"({type(outcome.error).__name__})")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        self.current = item.nodeid
        self.sends, self.unkept = [], 0
        yield
        self.current = None
        self.sends, self.unkept = [], 0  # a passing test's sends are not kept

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and self.show and self.sends and report.nodeid not in self.trees:
            from ckansig.output.sends_view import plain_tree
            from ckansig.watching.jsonl import link_json

            roots, shown, lines = link_json(self.sends), 0, 0
            for root in roots:  # the first trees, up to about _TREE_LINES lines
                lines += _size(root)
                if lines > _TREE_LINES and shown:
                    break
                shown += 1
            text = plain_tree("sends (receivers in the order they ran here: blinker "
                              "promises none)", roots[:shown])
            drawn = ["  " + line for line in text.splitlines()]
            if shown < len(roots) or self.unkept:
                drawn.append(f"  ... and {len(roots) - shown + self.unkept} more send(s) "
                              "in this test")
            self.trees[report.nodeid] = drawn

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        self.coverage.note_subscribed()  # after the fixtures connected theirs

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:  # a pytest-xdist worker: the controller reports
            workeroutput["ckansig"] = json.dumps(self.to_json())
            return
        if self.json_path:
            self.coverage.write_json(self.json_path)
        if self.fail_under is not None and self.coverage.percent() < self.fail_under:
            self.failed_coverage = True
            if session.exitstatus == 0:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """pytest-xdist's controller: a worker is done; add what it counted."""
        sent = getattr(node, "workeroutput", {}).get("ckansig")
        if sent:
            self.merge(json.loads(sent))

    def to_json(self) -> dict[str, Any]:
        """What a worker counted, for the controller (names and counts only)."""
        return {
            "tallies": {key: {"sends": t.sends, "tests": list(t.tests), "outside": t.outside,
                              "raised": sorted(t.raised)} for key, t in self.tallies.items()},
            "subscribed": [[*where, plugin] for where, plugin in
                           self.coverage.subscribed.items()],
            "ran": sorted(self.coverage.ran),
            "trees": self.trees,
        }

    def merge(self, counted: dict[str, Any]) -> None:
        """Add a worker's :meth:`to_json`."""
        for key, tally in counted.get("tallies", {}).items():
            mine = self.tallies.get(key)
            if mine is None:
                mine = self.tallies[key] = _Tally()
            mine.sends += int(tally["sends"])
            mine.tests.update(dict.fromkeys(tally["tests"]))
            mine.outside += int(tally.get("outside", 0))
            mine.raised.update(tally["raised"])
        for signal, receiver, plugin in counted.get("subscribed", ()):
            self.coverage.subscribed.setdefault((signal, receiver), plugin)
        self.coverage.ran.update((signal, receiver) for signal, receiver in
                                 counted.get("ran", ()))
        self.trees.update(counted.get("trees", {}))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from ckansig.output.terminal import clean  # signal and test names are data
        from ckansig.testing.session import summary_lines

        write = terminalreporter.write_line
        if self.failed_coverage:
            terminalreporter.section("signal coverage (ckansig)", red=True)
            write(f"FAIL: {self.coverage.percent():.1f}% of the subscribed receivers ran, "
                  f"under --signals-cov-fail-under={self.fail_under:g}", red=True)
        if not self.show:
            return
        terminalreporter.section("signal coverage (ckansig)")
        for line in summary_lines(self.coverage):
            write(clean(line))
        if self.trees:
            terminalreporter.section("signals sent by failing tests (ckansig)", red=True)
            from ckansig.watching.records import ORDER_CAVEAT

            for nodeid, lines in self.trees.items():
                write(clean(nodeid), bold=True)
                for line in lines:
                    write(clean(line))
            write(f"({ORDER_CAVEAT})")
        terminalreporter.section("signals sent (ckansig)")
        if not self.tallies:
            write("no blinker signal was sent")
            return
        for key, tally in sorted(self.tallies.items(), key=lambda kv: -kv[1].sends):
            tests = list(tally.tests)
            raised = sorted(tally.raised)
            outside = f", {tally.outside} outside tests" if tally.outside else ""
            write(f"{clean(key)}: sent {tally.sends} time(s) by {len(tests)} test(s){outside}",
                  red=bool(raised), bold=bool(raised))
            for test in tests[:5]:
                write(f"    {clean(test)}")
            if len(tests) > 5:
                write(f"    … and {len(tests) - 5} more")
            for receiver in raised:
                write(f"    raised: {clean(receiver)}", red=True)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.stack.close()


_FLASK_SIGNALS: dict[tuple[bool, ...], frozenset[Any]] = {}
_FLASK_MODULES = ("flask.signals", "flask_login.signals", "flask_principal")


def _flask_signals() -> frozenset[Any]:
    """The signals Flask and Flask-Login define (those imported so far):
    their plumbing (app contexts, templates) is not the extension's to test."""
    present = tuple(name in sys.modules for name in _FLASK_MODULES)
    found = _FLASK_SIGNALS.get(present)
    if found is None:
        from blinker import Signal

        modules = [sys.modules[name] for name in _FLASK_MODULES if name in sys.modules]
        found = _FLASK_SIGNALS[present] = frozenset(
            value for module in modules for value in vars(module).values()
            if isinstance(value, Signal))
    return found


#: About how many lines of send trees a failing test's report draws.
_TREE_LINES = 200
#: The sends of one test kept for them (the first; the rest are counted): far
#: more than are drawn, and memory bounded however many a test makes.
_KEPT_SENDS = 2000


def _size(send: dict[str, Any]) -> int:
    """How many lines ``send``'s tree takes."""
    return 1 + sum(1 + sum(_size(child) for child in receiver.get("children", ()))
                   for receiver in send["receivers"]) + sum(
        _size(child) for child in send.get("unplaced", ()))


def describe_receiver(receiver: Any) -> str:
    from ckansig.loading.describing import describe

    return describe(receiver).name
