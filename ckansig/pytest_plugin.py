"""ckansig's pytest plugin (registered through the ``pytest11`` entry point).

- The ``signal_log`` fixture records every blinker signal sent during a test::

      def test_signup(signal_log):
          create_user("bob")
          signal_log.assert_sent("user_created", sender="bob")
          signal_log.assert_not_sent("failed_login")

- ``--signals-report`` prints, at the end of the session, which signals were
  sent, how often, by which tests, and which receivers raised.

Neither records anything, nor slows anything, until it is used: this module
imports nothing but pytest when pytest loads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from contextlib import ExitStack

    from ckansig.watching.recorder import SendRecord

__all__ = ["SignalLog", "signal_log"]

_ANY: Any = object()


class SignalLog:
    """The signals sent while a test runs, with query helpers.

    ``name`` may be a signal's registered name (``action_succeed``), the
    attribute name of a core signal (``action_succeeded``) or a
    ``namespace:name`` key; ``sender`` and keyword arguments compare by equality.
    """

    def __init__(self) -> None:
        self.records: list[SendRecord] = []

    def __call__(self, record: SendRecord) -> None:
        self.records.append(record)

    def clear(self) -> None:
        self.records.clear()

    def names(self) -> list[str]:
        """The keys of the signals sent, in order of first send."""
        return list(dict.fromkeys(r.key for r in self.records))

    def sent(self, name: str | None = None, *, sender: Any = _ANY,
             namespace: str | None = None, **kwargs: Any) -> list[SendRecord]:
        """The sends of ``name`` (every send without it) matching the filters."""
        wanted = _names(name) if name is not None else None
        return [
            r for r in self.records
            if (wanted is None or r.name in wanted or r.key in wanted)
            and (namespace is None or r.namespace == namespace)
            and (sender is _ANY or _equal(r.sender, sender))
            and all(k in r.kwargs and _equal(r.kwargs[k], v) for k, v in kwargs.items())
        ]

    def assert_sent(self, name: str, *, sender: Any = _ANY, namespace: str | None = None,
                    times: int | None = None, **kwargs: Any) -> SendRecord:
        """Fail unless ``name`` was sent (``times`` times, if given); return the first send."""
        found = self.sent(name, sender=sender, namespace=namespace, **kwargs)
        wanted = _describe_query(name, sender, namespace, kwargs)
        if not found or (times is not None and len(found) != times):
            count = "" if times is None else f" {times} time(s)"
            got = f" (sent {len(found)} time(s))" if found else ""
            raise AssertionError(f"expected {wanted} to be sent{count}{got}; "
                                 f"{self._what_was_sent()}")
        return found[0]

    def assert_not_sent(self, name: str, *, sender: Any = _ANY,
                        namespace: str | None = None, **kwargs: Any) -> None:
        """Fail if ``name`` was sent (with these filters)."""
        found = self.sent(name, sender=sender, namespace=namespace, **kwargs)
        if found:
            wanted = _describe_query(name, sender, namespace, kwargs)
            raise AssertionError(f"expected {wanted} not to be sent, but it was sent "
                                 f"{len(found)} time(s); {self._what_was_sent()}")

    def _what_was_sent(self) -> str:
        if not self.records:
            return "no signal was sent"
        lines = [f"  {r.key} sender={_short(r.sender)}"
                 + (f" kwargs={', '.join(sorted(r.kwargs))}" if r.kwargs else "")
                 + (f" (raised {type(r.error).__name__})" if r.error is not None else "")
                 for r in self.records[:20]]
        more = f"\n  … and {len(self.records) - 20} more" if len(self.records) > 20 else ""
        return "sent instead:\n" + "\n".join(lines) + more


def _names(name: str) -> set[str]:
    from ckansig.catalog import CORE_SIGNALS

    names = {name}
    names.update(s.name for s in CORE_SIGNALS if s.attribute == name)
    return names


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return a is b


def _short(value: Any) -> str:
    from ckansig.model import brief

    return brief(value)


def _describe_query(name: str, sender: Any, namespace: str | None,
                    kwargs: dict[str, Any]) -> str:
    from ckansig.model import signal_key

    parts = [signal_key(namespace, name)]
    if sender is not _ANY:
        parts.append(f"sender={_short(sender)}")
    parts += [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return " ".join(parts)


@pytest.fixture
def signal_log() -> Iterator[SignalLog]:
    """Every blinker signal sent during the test, with helpers to query it."""
    from ckansig.watching.recorder import record

    log = SignalLog()
    with record(log):
        yield log


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ckansig")
    group.addoption("--signals-report", action="store_true", default=False,
                    help="ckansig: report which blinker signals were sent, how often, by "
                    "which tests, and which receivers raised.")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("signals_report", default=False):
        config.pluginmanager.register(_Report(), "ckansig-signals-report")


class _Tally:
    """What the report keeps of one signal: counts and names, never the sends'
    arguments (a session of 20,000 large sends must not hold them all)."""

    __slots__ = ("raised", "sends", "tests")

    def __init__(self) -> None:
        self.sends = 0
        self.tests: dict[str, None] = {}  # in order of first send
        self.raised: set[str] = set()


class _Report:
    """Counts every send of the session, attributed to the running test."""

    def __init__(self) -> None:
        from contextlib import ExitStack

        from ckansig.watching.recorder import record

        self.current = "(outside tests)"
        self.tallies: dict[str, _Tally] = {}
        self.stack: ExitStack = ExitStack()
        self.stack.enter_context(record(self.sink))

    def sink(self, rec: SendRecord) -> None:
        tally = self.tallies.get(rec.key)
        if tally is None:
            tally = self.tallies[rec.key] = _Tally()
        tally.sends += 1
        tally.tests[self.current] = None
        for outcome in rec.outcomes:
            if outcome.status == "error":
                tally.raised.add(f"{describe_receiver(outcome.receiver)} "
                                 f"({type(outcome.error).__name__})")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        self.current = item.nodeid
        yield
        self.current = "(outside tests)"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from ckansig.output.terminal import clean  # signal and test names are data

        write = terminalreporter.write_line
        terminalreporter.section("signals sent (ckansig)")
        if not self.tallies:
            write("no blinker signal was sent")
            return
        for key, tally in sorted(self.tallies.items(), key=lambda kv: -kv[1].sends):
            tests = list(tally.tests)
            raised = sorted(tally.raised)
            write(f"{clean(key)}: sent {tally.sends} time(s) by {len(tests)} test(s)",
                  red=bool(raised), bold=bool(raised))
            for test in tests[:5]:
                write(f"    {clean(test)}")
            if len(tests) > 5:
                write(f"    … and {len(tests) - 5} more")
            for receiver in raised:
                write(f"    raised: {clean(receiver)}", red=True)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.stack.close()


def describe_receiver(receiver: Any) -> str:
    from ckansig.loading.describing import describe

    return describe(receiver).name
