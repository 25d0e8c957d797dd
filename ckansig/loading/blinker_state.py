"""The one place that reads blinker's bookkeeping, for blinker 1.5 to 1.9.

blinker's public API tells which receivers a send would call
(``receivers_for``) but not which sender each receiver was connected for.
``list`` and ``doctor`` need that for receivers connected at import time, which
ckansig did not connect itself, so this module reads ``Signal._by_receiver``
and ``Signal._weak_senders`` (unchanged from 1.5 to 1.9). Where they are
missing, every receiver is reported as connected for ANY.
"""


import functools
import inspect
import sys
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from types import FunctionType, MethodType
from typing import Any, NamedTuple, cast

import blinker
from blinker import ANY, Signal

ANY_ID: Hashable = 0  # blinker's bookkeeping id of ANY

try:  # blinker < 1.6 holds bound methods in its own BoundMethodWeakref
    from blinker._utilities import WeakTypes as _WEAK_TYPES  # type: ignore[attr-defined]
except ImportError:
    _WEAK_TYPES = (weakref.ref,)


try:  # blinker 1.8+ files str and int (so bool) by value
    from blinker._utilities import make_id as _  # type: ignore[attr-defined, unused-ignore]  # noqa: F401

    #: Whether this blinker files ``int`` senders by value (1.8+) or by ``id()``.
    INT_BY_VALUE = True
except ImportError:  # blinker < 1.8 (hashable_identity): only str by value
    INT_BY_VALUE = False

_BY_VALUE: tuple[type, ...] = (str, int) if INT_BY_VALUE else (str,)


def make_id(obj: object) -> Hashable:
    """The installed blinker's identity rule: a bound method is its function
    and instance; ``str`` (and ``int``, from blinker 1.8 on) is its value;
    everything else its ``id()``. blinker 1.5 files an ``int`` sender under
    ``id(10)``, not 10."""
    if type(obj) is FunctionType:  # the common case first: this runs per receiver
        return id(obj)
    if inspect.ismethod(obj) or (not INT_BY_VALUE and hasattr(obj, "__func__")):
        return id(obj.__func__), id(obj.__self__)  # type: ignore[attr-defined]
    if isinstance(obj, _BY_VALUE):
        return obj
    return id(obj)


def sender_id(sender: object) -> Hashable:
    """The bookkeeping id blinker files ``sender`` under."""
    return ANY_ID if sender is ANY else make_id(sender)


class Connection(NamedTuple):
    """One live entry of a signal: a receiver and the sender ids it listens for.

    ``ref()`` returns the receiver, or None once a weakly held receiver has
    been garbage-collected (for a weak receiver it is blinker's own weakref).
    """

    receiver_id: Hashable
    ref: Callable[[], Any]
    weak: bool
    sender_ids: tuple[Hashable, ...]


def _strong(receiver: Any) -> Callable[[], Any]:
    return lambda: receiver


def connections(signal: Signal) -> Iterator[Connection]:
    """Every receiver connected to ``signal``, with its sender ids (ANY first)."""
    by_receiver = getattr(signal, "_by_receiver", None)
    for rid, held in list(signal.receivers.items()):
        weak = isinstance(held, _WEAK_TYPES)
        ids: Any = by_receiver.get(rid, ()) if by_receiver is not None else ANY_ONLY
        if ids == _ANY_SET:  # the common case: connected for ANY alone
            ids = ANY_ONLY
        elif len(ids) > 1:
            ids = tuple(sorted(
                ids, key=lambda sid: (sid != ANY_ID, type(sid).__name__, repr(sid))))
        else:
            ids = tuple(ids)
        yield _new_connection((rid, held if weak else _strong(held), weak, ids))


#: The sender ids of a receiver connected for ANY alone (one shared tuple).
ANY_ONLY: tuple[Hashable, ...] = (ANY_ID,)
_ANY_SET = frozenset(ANY_ONLY)
# Connection._make without its Python-level frame: this runs once per receiver.
_new_connection = functools.partial(tuple.__new__, Connection)


def not_called(signal: Signal, sender: Any) -> tuple[list[Any], int]:
    """The receivers of ``signal`` a send from ``sender`` does not call: those
    connected for other senders only, and how many weak ones are already
    garbage. Read from the by-sender index, so a signal of 10,000 receivers
    for ANY costs one pass over its weak references, not a walk of its
    connections (the same answer, tested against that walk; a receiver that
    blinker keeps after disconnecting it from its only sender is connected
    for no sender, and not listed)."""
    try:
        sid = sender_id(sender)
    except Exception:  # an unhashable sender: blinker could not file it either
        sid = None
    by_sender = getattr(signal, "_by_sender", None)
    receivers = signal.receivers
    dead = sum(1 for held in receivers.values()
               if isinstance(held, _WEAK_TYPES) and held() is None)
    if by_sender is None:  # no index: every receiver is connected for ANY
        return [], dead
    called = set(by_sender.get(ANY_ID, ())) | set(by_sender.get(sid, ()))
    others: set[Hashable] = set()
    for key, ids in list(by_sender.items()):
        if key != ANY_ID and key != sid:
            others |= ids
    pending = others - called
    if not pending:  # the common case
        return [], dead
    filtered = []
    for rid in receivers:  # in blinker's order of connection
        if rid in pending:
            receiver = reference(signal, rid)()
            if receiver is not None:
                filtered.append(receiver)
    return filtered, dead


def reference(signal: Signal, receiver_id: Hashable) -> Callable[[], Any]:
    """A callable returning the receiver connected as ``receiver_id`` (None once
    collected): blinker's own weakref for a weak receiver."""
    held = signal.receivers.get(receiver_id)
    return held if isinstance(held, _WEAK_TYPES) else _strong(held)


def sender_ids_of(signal: Signal, receiver_id: Hashable) -> set[Hashable]:
    """The sender ids ``receiver_id`` is connected for (ANY when unknown)."""
    by_receiver = getattr(signal, "_by_receiver", None)
    if by_receiver is None:
        return {ANY_ID}
    return set(by_receiver.get(receiver_id, ()))


def held_weakly(signal: Signal, sid: Hashable) -> bool:
    """Whether blinker holds the sender filed as ``sid`` by a weak reference
    (an object sender, as opposed to ANY, a str or an int)."""
    return sid in getattr(signal, "_weak_senders", {})


UNKNOWN = object()  # a sender blinker files by id() and holds no reference to


def sender_for_id(signal: Signal, sid: Hashable) -> object:
    """The sender object behind ``sid``: ANY, the value itself for a sender
    filed by value, the object when blinker holds a weak reference to it, else
    :data:`UNKNOWN` (an ``int`` sender on blinker < 1.8, say)."""
    if sid == ANY_ID and not isinstance(sid, bool):
        return ANY
    if isinstance(sid, _BY_VALUE):
        return sid
    ref = getattr(signal, "_weak_senders", {}).get(sid)
    obj = ref() if ref is not None else None
    return UNKNOWN if obj is None else obj


def is_weak(signal: Signal, receiver_id: Hashable) -> bool:
    """Whether blinker holds the receiver ``receiver_id`` by a weak reference."""
    return isinstance(signal.receivers.get(receiver_id), _WEAK_TYPES)


def all_signals(also: Iterable[Signal] = ()) -> list[Signal]:
    """Every signal a module holds, directly or in a ``Namespace`` (CKAN's,
    Flask's, an extension's, a test module's private one), and ``also``."""
    found: dict[int, Signal] = {id(signal): signal for signal in also}
    for module in list(sys.modules.values()):
        try:
            values = list(vars(module).values())
        except Exception:  # not a module (a placeholder some tools put there, a proxy)
            continue
        for value in values:
            # type(), not isinstance(): a lazy proxy's __class__ may raise
            if issubclass(type(value), Signal):
                found.setdefault(id(value), value)
            elif issubclass(type(value), _NAMESPACES):
                for signal in list(cast("Mapping[str, Any]", value).values()):
                    if isinstance(signal, Signal):
                        found.setdefault(id(signal), signal)
    return list(found.values())


# -- forwards: another signal's bound send, connected as a receiver ---------------------

def redirect_forwards(signals: Iterable[Signal], original: Callable[..., Any],
                      replacement: Callable[..., Any]) -> Callable[[], None]:
    """Make every forward among ``signals`` (a receiver of one that is
    ``original`` bound to another) call ``replacement``.

    CKAN forwards Flask's and Flask-Login's signals with
    ``flask.signals.request_started.connect(request_started.send)``: blinker
    keeps that bound method's *function*, so a ``Signal.send`` patched later is
    never called through it. Each such forward is held, while redirected, as
    ``replacement`` bound to the same signal, under the same id and in the same
    place. Returns the undo, which leaves alone a forward disconnected in the
    meantime.
    """
    signals = list(signals)
    # A bound method's id is its function's and its instance's ids (in this order
    # from blinker 1.6, the other way round in 1.5). A signal with few receivers
    # has each looked at; one with many (a fire of 10,000) is asked for the ids
    # of ``original`` bound to each of ``signals``, a dict lookup each.
    mark = id(original)
    ids = [pair for target in signals for pair in ((mark, id(target)), (id(target), mark))]
    undo: list[tuple[Signal, Hashable, Any, Any]] = []
    for source in signals:
        receivers = source.receivers
        if len(receivers) <= len(ids):
            candidates = [rid for rid in receivers if type(rid) is tuple and mark in rid]
        else:
            candidates = [rid for rid in ids if rid in receivers]
        for rid in candidates:
            held = receivers[rid]
            receiver: Any = held() if isinstance(held, _WEAK_TYPES) else held
            target = getattr(receiver, "__self__", None)
            if getattr(receiver, "__func__", None) is original and isinstance(target, Signal):
                redirected = MethodType(replacement, target)
                receivers[rid] = redirected
                undo.append((source, rid, held, redirected))

    def restore_forwards() -> None:
        for signal, rid, held, redirected in undo:
            if signal.receivers.get(rid) is redirected:
                signal.receivers[rid] = held

    return restore_forwards


def loaded_signals() -> list[Signal]:
    """The signals of the imported ``*signals`` modules (Flask's, Flask-Login's,
    CKAN's, an extension's), including those in their namespaces: where forwards
    are connected."""
    found: dict[int, Signal] = {}
    for name in _signals_module_names():
        module = sys.modules.get(name)
        if module is None:
            continue
        try:
            items = list(vars(module).items())
        except Exception:  # not a module
            continue
        for attribute, value in items:
            kind = type(value)
            if issubclass(kind, Signal):
                if not attribute.startswith("__"):
                    found.setdefault(id(value), value)
            elif issubclass(kind, _NAMESPACES) and not attribute.startswith("__"):
                for candidate in list(cast("Mapping[str, Any]", value).values()):
                    if issubclass(type(candidate), Signal):
                        found.setdefault(id(candidate), candidate)
    return list(found.values())


_names_seen: frozenset[str] = frozenset()
_signals_names: list[str] = []


def _signals_module_names() -> list[str]:
    """The names of the imported modules that end with "signals", in import
    order: looked for again only when the set of imported names changed
    (asked in C; a recorder is installed for every fire)."""
    global _names_seen, _signals_names
    names = sys.modules.keys()
    if names != _names_seen:
        _names_seen = frozenset(names)
        _signals_names = [name for name in list(sys.modules) if name.endswith("signals")]
    return _signals_names


_NAMESPACES: tuple[type, ...] = tuple(
    kind for kind in (getattr(blinker, "Namespace", None), getattr(blinker, "WeakNamespace", None))
    if isinstance(kind, type))
