"""What the pytest plugin's assertions match: which signals a spec names, and
payloads compared as subsets.

A *spec* names signals: a registered name (``action_succeed``), the attribute
name of a core signal (``action_succeeded``), ``namespace:name``, a glob
(``ckanext:ap_main:*``), or a blinker ``Signal`` object. A name that no core
signal and no signal created so far (by CKAN, a plugin or a test) has is
unknown: assertions fail loudly on it rather than pass vacuously.
"""

from __future__ import annotations

import difflib
import fnmatch
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from blinker import Signal

from ckansig.catalog import CORE_SIGNALS
from ckansig.model import signal_key

__all__ = ["ANY_VALUE", "SignalSpec", "known_signals", "matches"]

#: "no filter" for an argument of an assertion
ANY_VALUE: Any = object()

_ATTRIBUTES = {s.attribute: s.name for s in CORE_SIGNALS if s.attribute != s.name}
_GLOB = frozenset("*?[")


def _namespaces() -> Iterator[tuple[str | None, Mapping[str, Signal]]]:
    """CKAN's (or ckansig's) ``ckan`` and ``ckanext`` namespaces, where loaded,
    and blinker's default namespace (as None)."""
    for module_name in ("ckan.lib.signals", "ckansig.signals"):
        module = sys.modules.get(module_name)
        for ns_name in ("ckan", "ckanext"):
            space = getattr(module, ns_name, None)
            if space is not None:
                yield ns_name, space
    default = getattr(sys.modules.get("blinker.base"), "default_namespace", None)
    if default is not None:
        yield None, default


def known_signals() -> dict[str, tuple[str | None, str, Signal | None]]:
    """Every signal name known now, by key: core signals and every signal in
    a namespace (created by CKAN, a plugin or a test)."""
    known: dict[str, tuple[str | None, str, Signal | None]] = {
        signal_key(s.namespace, s.name): (s.namespace, s.name, None) for s in CORE_SIGNALS}
    for namespace, space in _namespaces():
        for name, signal in list(space.items()):
            known[signal_key(namespace, name)] = (namespace, name, signal)
    return known


def module_signals() -> list[tuple[str | None, str, Signal | None]]:
    """Every signal a module holds, directly or in a namespace, by name."""
    from ckansig.loading.blinker_state import all_signals
    from ckansig.watching.records import signal_identity

    return [(*signal_identity(signal), signal) for signal in all_signals()]


class SignalSpec:
    """The signals one spec names (see the module's docstring)."""

    def __init__(self, spec: str | Signal) -> None:
        self.signal: Signal | None = None
        self.namespace: str | None = None
        self.pattern: str | None = None
        self.name: str | None = None
        if isinstance(spec, Signal):
            self.signal = spec
            from ckansig.watching.records import signal_identity

            namespace, name = signal_identity(spec)
            self.text = signal_key(namespace, name)
            return
        if not isinstance(spec, str) or not spec:
            raise TypeError(f"a signal is a name, 'namespace:name', a glob or a blinker "
                            f"Signal, not {spec!r}")
        self.text = spec
        prefix, colon, rest = spec.partition(":")
        if colon and prefix in ("ckan", "ckanext"):
            self.namespace, spec = prefix, rest
        if _GLOB.intersection(spec):
            self.pattern = spec
        else:
            self.name = _ATTRIBUTES.get(spec, spec)

    def matches(self, namespace: str | None, name: str, signal: Signal | None) -> bool:
        if self.signal is not None:
            return signal is self.signal
        if self.namespace is not None and namespace != self.namespace:
            return False
        if self.pattern is not None:
            return fnmatch.fnmatchcase(name, self.pattern) or fnmatch.fnmatchcase(
                signal_key(namespace, name), self.pattern)
        return name == self.name

    def check_known(self, sent: Iterable[tuple[str | None, str, Signal | None]] = ()) -> None:
        """Raise AssertionError, with a did-you-mean, when no known signal
        matches: a misspelled name must not make an assertion pass. Known are
        the core signals, those of CKAN's namespaces, those ``sent`` in the
        test, and any other signal a module holds (a private ``Namespace``'s,
        Flask's)."""
        if self.signal is not None:
            return
        known = [*known_signals().values(), *sent]
        if any(self.matches(ns, name, sig) for ns, name, sig in known):
            return
        held = module_signals()
        if any(self.matches(ns, name, sig) for ns, name, sig in held):
            return
        names = sorted({name for _, name, _ in [*known, *held]})
        close = difflib.get_close_matches(self.name or self.pattern or self.text, names, n=3)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        what = "matches" if self.pattern is not None else "is"
        raise AssertionError(
            f"no signal {what} {self.text!r}: no core signal and no signal created so far "
            f"(by CKAN, a plugin or the test) has that name{hint}")

    def closeness(self, name: str) -> float:
        """How close ``name`` is to the spec (1.0: the same), for ordering sends."""
        wanted = self.name or self.pattern or self.text
        return difflib.SequenceMatcher(None, wanted, name).ratio()


def matches(expected: Any, actual: Any,
            _pairs: frozenset[tuple[int, int]] = frozenset()) -> bool:
    """Whether ``actual`` matches ``expected``: a mapping matches as a subset
    (nested mappings too), a callable that is not a class is a predicate,
    anything else compares by equality (by identity when ``==`` raises, as on
    a cycle). Self-referential values match where they repeat the same
    pairing (a cycle met again is not compared again)."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        pair = (id(expected), id(actual))
        if pair in _pairs:
            return True
        if len(_pairs) > 200:  # deeper than any payload worth asserting: compare as is
            return _equal(expected, actual)
        inner = _pairs | {pair}
        return all(key in actual and matches(value, actual[key], inner)
                   for key, value in expected.items())
    if callable(expected) and not isinstance(expected, type) and not isinstance(
            expected, Signal):
        try:
            return bool(expected(actual))
        except Exception:
            return False
    return _equal(expected, actual)


def _equal(expected: Any, actual: Any) -> bool:
    try:
        return bool(actual == expected)
    except Exception:  # an __eq__ that raises, or a cycle (RecursionError)
        return actual is expected
