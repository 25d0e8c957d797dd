"""``signal_log``: the signals sent while one test runs, and assertions on
them and on the wiring."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from blinker import ANY, Signal

from ckansig.model import brief, signal_key
from ckansig.testing.matching import ANY_VALUE, SignalSpec, matches
from ckansig.values import Redactor, safe_repr
from ckansig.watching.jsonl import redactor_of

if TYPE_CHECKING:
    from ckansig.watching.recorder import SendRecord

__all__ = ["SignalLog"]

_SHOWN = 20  # sends listed in a failure message
_WITH_PAYLOAD = 3  # of which the closest are shown with their payload, redacted ...
_PAYLOAD_WIDTH = 300  # ... and cut to this many characters


class SignalLog:
    """The signals sent while a test runs (this test's only), with assertions.

    A *signal* is a registered name (``action_succeed``), the attribute name
    of a core signal (``action_succeeded``), ``namespace:name``, a glob
    (``ckanext:ap_main:*``) or a blinker ``Signal``. ``sender`` and keyword
    arguments match as subsets: a dict matches any dict holding at least its
    keys with matching values (nested dicts likewise), a callable is a
    predicate, anything else compares by equality.
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

    # -- queries -----------------------------------------------------------------------

    def sent(self, signal: str | Signal | None = None, *, sender: Any = ANY_VALUE,
             namespace: str | None = None, **kwargs: Any) -> list[SendRecord]:
        """The sends of ``signal`` (of every signal without it) that match."""
        spec = SignalSpec(signal) if signal is not None else None
        if spec is not None:
            spec.check_known(self._sent())
        return [r for r in self.records if _match(r, spec, sender, namespace, kwargs)]

    def _sent(self) -> list[tuple[str | None, str, Signal | None]]:
        """The signals sent in this test, as names are checked against."""
        return [(r.namespace, r.name, r.signal) for r in self.records]

    # -- assertions on sends -------------------------------------------------------------

    def assert_sent(self, signal: str | Signal, *, sender: Any = ANY_VALUE,
                    namespace: str | None = None, times: int | None = None,
                    **kwargs: Any) -> Any:
        """Fail unless ``signal`` was sent with these arguments (exactly
        ``times`` times, if given). Returns the first matching send, or the
        list of them when ``times`` is given."""
        spec = SignalSpec(signal)
        spec.check_known(self._sent())
        found = [r for r in self.records if _match(r, spec, sender, namespace, kwargs)]
        if not found or (times is not None and len(found) != times):
            count = "" if times is None else f" {times} time(s)"
            got = f", but it was sent {len(found)} time(s)" if found else ""
            raise AssertionError(f"expected {_query(spec, sender, namespace, kwargs)} to be "
                                 f"sent{count}{got}; "
                                 f"{self._what_was_sent(spec, sender, kwargs)}")
        return found if times is not None else found[0]

    def assert_sent_once(self, signal: str | Signal, *, sender: Any = ANY_VALUE,
                         namespace: str | None = None, **kwargs: Any) -> SendRecord:
        """Fail unless ``signal`` was sent exactly once with these arguments;
        return that send."""
        found: list[SendRecord] = self.assert_sent(signal, sender=sender, namespace=namespace,
                                                   times=1, **kwargs)
        return found[0]

    def assert_not_sent(self, signal: str | Signal, *, sender: Any = ANY_VALUE,
                        namespace: str | None = None, **kwargs: Any) -> None:
        """Fail if ``signal`` was sent with these arguments, or if no signal
        has that name (a misspelling must not pass)."""
        spec = SignalSpec(signal)
        spec.check_known(self._sent())
        found = [r for r in self.records if _match(r, spec, sender, namespace, kwargs)]
        if found:
            raise AssertionError(f"expected {_query(spec, sender, namespace, kwargs)} not to "
                                 f"be sent, but it was sent {len(found)} time(s); "
                                 f"{self._what_was_sent(spec)}")

    def assert_nothing_sent(self) -> None:
        """Fail if any signal was sent."""
        if self.records:
            raise AssertionError(f"expected no signal to be sent; {self._what_was_sent(None)}")

    def assert_sent_in_order(self, expected: Sequence[Any]) -> list[SendRecord]:
        """Fail unless the sends include ``expected`` in this order (other
        sends may come between). Each item is a signal, or a ``(signal,
        {"sender": ..., "kwarg": ...})`` pair. Returns the sends matched."""
        wanted = []
        for item in expected:
            signal, filters = item if isinstance(item, tuple) else (item, {})
            spec = SignalSpec(signal)
            spec.check_known(self._sent())
            filters = dict(filters)
            wanted.append((spec, filters.pop("sender", ANY_VALUE), filters))
        matched: list[SendRecord] = []
        records = iter(self.records)
        for spec, sender, filters in wanted:
            record = next((r for r in records if _match(r, spec, sender, None, filters)), None)
            if record is None:
                done = " then ".join(_query(s, snd, None, f) for s, snd, f in wanted[
                    :len(matched)]) or "nothing"
                raise AssertionError(
                    f"expected {_query(spec, sender, None, filters)} after {done}, in the "
                    f"order {[s.text for s, _, _ in wanted]}; "
                    f"{self._what_was_sent(spec, sender, filters)}")
            matched.append(record)
        return matched

    def _what_was_sent(self, spec: SignalSpec | None, sender: Any = ANY_VALUE,
                       kwargs: Mapping[str, Any] | None = None) -> str:
        if not self.records:
            return "no signal was sent"
        records = self.records
        if spec is not None:  # closest first (a stable sort keeps the order of sends)
            records = sorted(records, key=lambda r: -spec.closeness(r.name))
        lines = []
        for index, r in enumerate(records[:_SHOWN]):
            redactor = redactor_of(r)
            line = f"  {r.key} sender={safe_repr(r.sender, redactor, 60)}"
            if index < _WITH_PAYLOAD:  # the closest: their payload, and what differs
                if r.kwargs:
                    line += f" kwargs={safe_repr(r.kwargs, redactor, _PAYLOAD_WIDTH)}"
                line += "".join(f"\n      {difference}" for difference in
                                differences(sender, kwargs or {}, r, redactor))
            elif r.kwargs:
                line += f" kwargs={', '.join(sorted(r.kwargs))}"
            if r.error is not None:
                line += f" (raised {type(r.error).__name__})"
            lines.append(line)
        more = f"\n  ... and {len(records) - _SHOWN} more" if len(records) > _SHOWN else ""
        hint = ""
        if spec is not None and spec.name is not None:
            closest = records[0]
            if closest.name != spec.name and spec.closeness(closest.name) >= 0.6:
                hint = f"\ndid you mean {closest.name!r}?"
        order = " (closest first)" if spec is not None else ""
        return f"sent instead{order}:\n" + "\n".join(lines) + more + hint

    # -- assertions on wiring -----------------------------------------------------------

    def assert_subscribed(self, signal: str | Signal, receiver: Any, *,
                          sender: Any = ANY_VALUE) -> None:
        """Fail unless ``receiver`` is connected to ``signal`` (for ``sender``,
        if given: blinker's ANY for "every sender")."""
        found = _subscriptions(signal, receiver)
        if sender is not ANY_VALUE:
            found = [s for s in found if _sender_matches(s, sender)]
        if not found:
            described = _receiver_text(receiver)
            for_sender = "" if sender is ANY_VALUE else f" for sender {brief(sender)}"
            raise AssertionError(f"expected {described} to be subscribed to "
                                 f"{_spec_text(signal)}{for_sender}; "
                                 f"{_receivers_text(signal)}")

    def assert_not_subscribed(self, signal: str | Signal, receiver: Any, *,
                              sender: Any = ANY_VALUE) -> None:
        """Fail if ``receiver`` is connected to ``signal`` (for ``sender``, if given)."""
        found = _subscriptions(signal, receiver)
        if sender is not ANY_VALUE:
            found = [s for s in found if _sender_matches(s, sender)]
        if found:
            raise AssertionError(f"expected {_receiver_text(receiver)} not to be subscribed "
                                 f"to {_spec_text(signal)}, but it is")

    # -- isolation ------------------------------------------------------------------------

    def only(self, plugin: Any = None, receivers: Iterable[Any] | None = None,
             ) -> AbstractContextManager[list[Any]]:
        """``with signal_log.only(plugin="demo"):`` runs only that plugin's
        receivers (or only ``receivers=[...]``) while the block runs; every
        signal's receivers are put back afterwards, even when it raises."""
        from ckansig.testing.wiring import chooser, isolate

        return isolate(chooser(plugin, receivers))

    def mute(self, plugin: Any = None, receivers: Iterable[Any] | None = None,
             ) -> AbstractContextManager[list[Any]]:
        """``with signal_log.mute(plugin="activity"):`` runs every receiver but
        that plugin's (or but ``receivers=[...]``) while the block runs."""
        from ckansig.testing.wiring import chooser, isolate

        choose = chooser(plugin, receivers)
        return isolate(lambda receiver: not choose(receiver))


def _match(record: SendRecord, spec: SignalSpec | None, sender: Any, namespace: str | None,
           kwargs: dict[str, Any]) -> bool:
    return ((spec is None or spec.matches(record.namespace, record.name, record.signal))
            and (namespace is None or record.namespace == namespace)
            and (sender is ANY_VALUE or matches(sender, record.sender))
            and all(k in record.kwargs and matches(v, record.kwargs[k])
                    for k, v in kwargs.items()))


def _query(spec: SignalSpec, sender: Any, namespace: str | None,
           kwargs: dict[str, Any]) -> str:
    parts = [signal_key(namespace, spec.text) if namespace else spec.text]
    redactor = Redactor(kwargs)  # what a test expects can be a secret too
    if sender is not ANY_VALUE:
        parts.append(f"sender={_shown(sender, redactor)}")
    parts += [f"{k}={_shown(v, redactor)}" for k, v in redactor.value(dict(kwargs)).items()]
    return " ".join(parts)


def differences(sender: Any, kwargs: Mapping[str, Any], record: SendRecord,
                redactor: Redactor) -> list[str]:
    """Where ``record`` differs from the expected ``sender`` and ``kwargs``
    (a subset): each path, what was expected and what was sent, redacted."""
    found = []
    if sender is not ANY_VALUE and not matches(sender, record.sender):
        found.append(f"sender: expected {_shown(sender, redactor)}, got "
                     f"{_shown(record.sender, redactor)}")
    for key, value in kwargs.items():
        found += _differences(f"kwargs[{key!r}]", value, record.kwargs, key, redactor, 0)
    return found


def _differences(path: str, expected: Any, container: Mapping[Any, Any], key: Any,
                 redactor: Redactor, depth: int) -> list[str]:
    if key not in container:
        return [f"{path}: missing"]
    actual = container[key]
    if matches(expected, actual):
        return []
    if isinstance(expected, Mapping) and isinstance(actual, Mapping) and depth < 20:
        return [line for sub, value in expected.items() for line in _differences(
            f"{path}[{sub!r}]", value, actual, sub, redactor, depth + 1)]
    return [f"{path}: expected {_shown(expected, redactor)}, got {_shown(actual, redactor)}"]


def _shown(value: Any, redactor: Redactor) -> str:
    if callable(value) and not isinstance(value, type):
        return f"a value for which {getattr(value, '__name__', 'the predicate')} is true"
    return safe_repr(value, redactor, 80)


def _spec_text(signal: str | Signal) -> str:
    return SignalSpec(signal).text


def _signals_of(signal: str | Signal) -> Iterator[Signal]:
    from ckansig.testing.matching import known_signals

    spec = SignalSpec(signal)
    if spec.signal is not None:
        yield spec.signal
        return
    spec.check_known()
    for namespace, name, found in known_signals().values():
        if found is not None and spec.matches(namespace, name, found):
            yield found


def _subscriptions(signal: str | Signal, receiver: Any) -> list[Any]:
    from ckansig.loading.blinker_state import make_id
    from ckansig.testing.wiring import connected

    wanted = make_id(receiver)
    return [c for c in connected(list(_signals_of(signal))).values()
            if c.receiver_id == wanted]


def _sender_matches(connection: Any, sender: Any) -> bool:
    from ckansig.loading.blinker_state import sender_id

    return sender_id(ANY if sender is ANY else sender) in connection.sender_ids


def _receiver_text(receiver: Any) -> str:
    from ckansig.loading.describing import describe

    return describe(receiver).name


def _receivers_text(signal: str | Signal) -> str:
    from ckansig.testing.wiring import connected

    names = sorted(_receiver_text(c.receiver)
                   for c in connected(list(_signals_of(signal))).values())
    if not names:
        return "it has no receivers"
    return "its receivers: " + ", ".join(names[:_SHOWN])
