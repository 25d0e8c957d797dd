"""What an entry of a ``get_signal_subscriptions()`` list may be: a callable,
or a dict of ``Signal.connect`` options, checked before CKAN's way of
connecting it (``signal.connect(**options)``) would fail at start-up."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from blinker import ANY

from ckansig.isolation import plugin_code
from ckansig.loading.describing import describe
from ckansig.model import LoadErrorKind, brief

__all__ = ["CONNECT_OPTIONS", "check_options", "read_items"]

#: The keyword arguments ``Signal.connect`` takes.
CONNECT_OPTIONS = frozenset({"receiver", "sender", "weak"})


def check_options(
    options: dict[Any, Any], signal_name: str
) -> tuple[LoadErrorKind, str, str | None, tuple[str | None, int | None]] | None:
    """What is wrong with a dict subscription entry, if anything: the kind,
    the message, the receiver's name and its file and line."""
    if "receiver" not in options:
        keys = ", ".join(map(str, options)) or "none"
        return ("entry_malformed", f"subscription to {signal_name!r} is a dict without "
                f"'receiver' (keys: {keys})", None, (None, None))
    receiver = options["receiver"]
    info = describe(receiver) if callable(receiver) else None
    label = info.name if info else brief(receiver)
    site = (info.file, info.line) if info else (None, None)
    unknown = sorted(str(k) for k in options if k not in CONNECT_OPTIONS)
    if unknown:
        return ("entry_malformed", f"subscription of {label} to {signal_name!r} has option(s) "
                f"{', '.join(unknown)} that Signal.connect() does not take "
                "(CKAN passes them on and fails at load)", label, site)
    sender = options.get("sender", ANY)
    if isinstance(sender, int) and sender == 0:
        return ("entry_malformed", f"subscription of {label} to {signal_name!r} uses sender "
                f"{sender!r}, which blinker cannot tell from ANY (it asserts)", label, site)
    return None


#: Iterables whose reading runs no plugin code (a subclass's could).
_PLAIN_ITERABLES = frozenset({list, tuple, type({}.items())})


def read_items(items: Iterable[Any], fault: Callable[[int, BaseException], None],
               ) -> Iterator[tuple[int, Any]]:
    """``(n, item)`` for each item of ``items``, which plugin code gave. When
    reading item ``n`` raises, ``fault(n, exc)`` is told and the reading stops;
    what came before stays. (A list, tuple or dict's items run no plugin code
    while read: they are read directly, as the common case for thousands of
    receivers.)"""
    if type(items) in _PLAIN_ITERABLES:
        return enumerate(items, 1)
    return _read_guarded(items, fault)


def _read_guarded(items: Iterable[Any], fault: Callable[[int, BaseException], None],
                  ) -> Iterator[tuple[int, Any]]:
    iterator: Iterator[Any] | None = None
    end = object()
    for index in itertools.count(1):
        item: Any = end
        with plugin_code() as guard:
            if iterator is None:
                iterator = iter(items)
            item = next(iterator, end)
        if guard.error is not None:
            fault(index, guard.error)
            return
        if item is end:
            return
        yield index, item
