"""The order in which a send calls its receivers, chosen instead of left to chance.

blinker 1.8+ keeps a signal's receivers in sets: the order ``Signal.send``
calls them in is an accident of memory layout, different from one process to
the next, and CKAN promises none. Two features choose it instead, both through
:func:`arrange_receivers`: ``pytest --signals-shuffle`` (a seeded random order
per send) and ``--orders`` of ``call`` and ``fire`` (every order, one run each).

Both start from :func:`canonical`, an order that is the same in every process
(by name, then file and line), so that an order can be replayed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from blinker.base import Signal

from ckansig.isolation import OWN_PATCH

__all__ = ["DEFAULT_SAMPLE", "EVERY_UP_TO", "Arrange", "arrange_receivers", "canonical",
           "receiver_name"]

#: ``--orders``: sends with at most this many receivers are run in every order
EVERY_UP_TO = 6
#: ``--orders``: the orders tried when a send has more receivers than that
DEFAULT_SAMPLE = 24

#: Given a signal and its receivers for one send, in :func:`canonical` order
#: (always two or more), the order to call them in.
Arrange = Callable[[Signal, list[Any]], list[Any]]


def receiver_name(receiver: Any) -> str:
    """The dotted name ckansig shows for ``receiver`` everywhere."""
    from ckansig.loading.describing import describe

    return describe(receiver).name


def _sort_key(receiver: Any) -> tuple[str, str, int]:
    from ckansig.loading.describing import describe

    info = describe(receiver)
    return info.name, info.file or "", info.line or 0


def canonical(receivers: list[Any]) -> list[Any]:
    """``receivers`` in an order that does not depend on the process: by name,
    then source file and line."""
    return sorted(receivers, key=_sort_key)


@contextlib.contextmanager
def arrange_receivers(arrange: Arrange) -> Iterator[None]:
    """While inside, every ``Signal.receivers_for`` (so every ``send``, and
    ckansig's own ``fire``) gives its receivers in the order ``arrange``
    chooses. Put in place before ckansig's recorder, which times the
    receivers in whatever order they come."""
    original = Signal.__dict__["receivers_for"]

    def receivers_for(signal: Signal, sender: Any) -> Iterator[Any]:
        found = list(original(signal, sender))
        if len(found) > 1:
            found = arrange(signal, canonical(found))
        return iter(found)

    setattr(receivers_for, OWN_PATCH, True)
    Signal.receivers_for = receivers_for  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        Signal.receivers_for = original  # type: ignore[method-assign]
