"""The record of a send, and the linking of records into trees.

Every surface is a view of these: ``fire``, ``call``, ``trace`` (its file and
``--tree``), the pytest plugin's report and the Signals panel. A
:class:`SendRecord` is made by the recorder (:mod:`ckansig.watching.recorder`)
or by ``fire`` for its own send; :func:`link` turns a scope's records into
trees, each send under the receiver call that made it, found by its position
in the parent's receivers (``via_index``), never by name: two bound methods of
two instances share a name, not a position.
"""

from __future__ import annotations

import itertools
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar

from blinker import Signal

from ckansig.model import signal_key

if TYPE_CHECKING:
    from types import CodeType

    from ckansig.redaction import SecretBook

__all__ = ["LOST", "ORDER_CAVEAT", "NotCalled", "Outcome", "OutcomeStatus", "SendRecord",
           "children_by_receiver", "link", "link_by", "not_called", "signal_identity", "walk"]


#: Said wherever receivers are shown in the order they ran (every view).
ORDER_CAVEAT = ("receivers are shown in the order they ran here; blinker does not promise "
                "an order (1.8+ keeps them in sets), so CKAN may run them in another")

#: What happened to a receiver during a recorded send.
OutcomeStatus = Literal["ok", "error", "not_reached", "unknown"]


class _Lost:
    def __repr__(self) -> str:
        return "<lost: a later receiver raised>"


#: The result of a receiver that returned before a later one raised: blinker's
#: ``send`` loses it with the exception.
LOST: Any = _Lost()


class Outcome(NamedTuple):
    """What one receiver did during a recorded send: status is "ok", "error",
    "not_reached" (after the receiver that raised) or "unknown" (the send
    raised and no receiver's code was in the traceback). ``result`` is
    :data:`LOST` for a receiver that returned before a later one raised."""

    receiver: Any
    status: OutcomeStatus
    result: Any = None
    error: BaseException | None = None
    #: seconds from the receiver's call to the next (None: not measured)
    duration: float | None = None


_ids = itertools.count(1)


def renumber(start: int) -> None:
    """Ids from ``start`` on: a forked child (an rq work horse) writing to its
    parent's trace file must not reuse the parent's ids."""
    global _ids
    _ids = itertools.count(start)


class SendRecord:
    """One send: the signal, the sender and keyword arguments as sent, each
    receiver's :class:`Outcome`, and where it sits in its tree (``parent``,
    the id of the send whose receiver made it, and ``via_index``, that
    receiver's position in the parent's receivers, with ``via`` the receiver
    itself). ``secrets`` is the :class:`~ckansig.redaction.SecretBook` of its
    scope: every view hides what it holds."""

    __slots__ = ("_codes", "_handed", "_marks", "_position", "children", "duration", "error",
                 "id", "is_async", "kwargs", "name", "namespace", "outcomes", "parent", "scope",
                 "secrets", "sender", "signal", "time", "via", "via_index")

    def __init__(self, signal: Signal, sender: Any, kwargs: dict[str, Any], is_async: bool,
                 started: float, scope: str | None = None,
                 secrets: SecretBook | None = None) -> None:
        self.signal = signal
        self.namespace, self.name = signal_identity(signal)
        self.sender = sender
        self.kwargs = kwargs
        self.is_async = is_async
        self.time = started
        self.duration = 0.0
        self.outcomes: list[Outcome] = []
        self.error: BaseException | None = None
        self.id = next(_ids)
        self.parent: int | None = None
        self.via: Any = None
        self.via_index: int | None = None
        self.scope = scope
        self.secrets = secrets
        #: the sends its receivers made, once :func:`link` ran
        self.children: list[SendRecord] | None = None
        self._codes: dict[CodeType, Any] | None = None
        #: perf_counter() as each receiver was handed to send, and after the last
        self._marks: list[float] | None = None
        #: the receivers handed to send so far (the last one is running)
        self._handed: list[Any] | None = None
        #: for a send whose receivers are called by ckansig (fire): the index
        #: of the receiver running now
        self._position: Callable[[], int] | None = None

    def __repr__(self) -> str:
        return f"<send {self.key} sender={self.sender!r} kwargs={sorted(self.kwargs)}>"

    @property
    def key(self) -> str:
        """``namespace:name`` (see :func:`ckansig.model.signal_key`)."""
        return signal_key(self.namespace, self.name)

    @property
    def raised(self) -> list[Outcome]:
        """The outcomes of the receivers that raised."""
        return [o for o in self.outcomes if o.status == "error"]

    def running(self) -> tuple[int | None, Any]:
        """The position and the receiver of the receiver running now (during
        the send), as far as they can be known."""
        if self._position is not None:
            return self._position(), None
        handed = self._handed
        if handed:
            return len(handed) - 1, handed[-1]
        return None, None


#: signal_identity's answers, with the namespace found: a signal outside CKAN's
#: namespaces stays outside (a namespace makes its own signals); one inside is
#: checked again, one dict lookup, in case a test emptied the namespace.
_identities: weakref.WeakKeyDictionary[Signal, tuple[str | None, str, Any]] = \
    weakref.WeakKeyDictionary()


def signal_identity(signal: Signal) -> tuple[str | None, str]:
    """(namespace, name) of ``signal``: "ckan"/"ckanext" for CKAN's namespaces
    (without importing anything), else None and the signal's own name."""
    try:
        ns_name, name, ns = _identities[signal]
    except KeyError:
        pass
    except TypeError:  # a Signal subclass that cannot be weakly referenced or hashed
        return _identify(signal)[:2]
    else:
        if ns is None or ns.get(name) is signal:
            return ns_name, name
    found = _identify(signal)
    _identities[signal] = found
    return found[:2]


def _identify(signal: Signal) -> tuple[str | None, str, Any]:
    name = getattr(signal, "name", None)
    if isinstance(name, str):
        for module_name in ("ckan.lib.signals", "ckansig.signals"):
            module = sys.modules.get(module_name)
            for ns_name in ("ckan", "ckanext"):
                ns = getattr(module, ns_name, None)
                if ns is not None and ns.get(name) is signal:
                    return ns_name, name, ns
        return None, name, None
    return None, f"<anonymous signal {id(signal):#x}>", None


# -- trees ------------------------------------------------------------------------------

_Item = TypeVar("_Item")


def link_by(items: Iterable[_Item], ident: Callable[[_Item], Any],
            parent: Callable[[_Item], Any]) -> tuple[list[_Item], dict[Any, list[_Item]]]:
    """The roots among ``items`` (those whose parent is not among them), and
    the children of each item by its id, all in the order given. Records and
    their JSON lines (``trace --tree``) are linked by this one function."""
    items = list(items)
    known = {ident(item) for item in items}
    roots: list[_Item] = []
    children: dict[Any, list[_Item]] = {}
    for item in items:
        up = parent(item)
        if up is not None and up in known:
            children.setdefault(up, []).append(item)
        else:
            roots.append(item)
    return roots, children


def link(records: Iterable[SendRecord]) -> list[SendRecord]:
    """Fill in each record's ``children`` from the parent ids; return the roots
    (sends no other recorded send caused), in the order they were made."""
    ordered = sorted(records, key=lambda r: r.id)
    roots, children = link_by(ordered, lambda r: r.id, lambda r: r.parent)
    for rec in ordered:
        rec.children = children.get(rec.id, [])
    return roots


def walk(records: Iterable[SendRecord]) -> Iterator[SendRecord]:
    """Each of ``records`` and, after it, every send it caused, depth first."""
    for rec in records:
        yield rec
        yield from walk(rec.children or [])


def children_by_receiver(rec: SendRecord) -> tuple[list[list[SendRecord]], list[SendRecord]]:
    """The sends each receiver of ``rec`` made (in the order of
    ``rec.outcomes``), and those made by code no receiver position leads back to."""
    made: list[list[SendRecord]] = [[] for _ in rec.outcomes]
    unplaced: list[SendRecord] = []
    for child in rec.children or ():
        index = child.via_index
        if index is not None and 0 <= index < len(made):
            made[index].append(child)
        else:
            unplaced.append(child)
    return made, unplaced


class NotCalled(NamedTuple):
    """The receivers a send did not call: connected for other senders
    (``filtered``, the receivers), or weakly connected and already garbage
    (``dead``, how many)."""

    filtered: list[Any]
    dead: int


def not_called(signal: Signal, sender: Any) -> NotCalled:
    """Which of ``signal``'s receivers a send from ``sender`` does not call."""
    from ckansig.loading.blinker_state import not_called as find

    return NotCalled(*find(signal, sender))
