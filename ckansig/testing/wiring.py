"""The receivers connected to CKAN's signals, as the pytest plugin sees them:
which are connected (for ``assert_subscribed``, the leak guard and signal
coverage), and running only some of them (``only`` and ``mute``).

It reads the ``ckan`` and ``ckanext`` namespaces that are loaded (CKAN's in a
CKAN virtualenv, ckansig's otherwise) and never imports them: a test session
that never touched signals has nothing to look at.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from blinker import ANY, Signal

from ckansig.loading import blinker_state
from ckansig.loading.blinker_state import make_id

__all__ = ["Connected", "connected", "isolate", "module_of", "plugin_modules", "signals"]


def signals() -> list[Signal] | None:
    """The signals of the loaded ``ckan`` and ``ckanext`` namespaces; None when
    no such namespace has been imported yet."""
    found: dict[int, Signal] = {}
    seen = False
    for module_name in ("ckan.lib.signals", "ckansig.signals"):
        module = sys.modules.get(module_name)
        for ns_name in ("ckan", "ckanext"):
            space = getattr(module, ns_name, None)
            if space is not None:
                seen = True
                for signal in list(space.values()):
                    found[id(signal)] = signal
    return list(found.values()) if seen else None


class Connected(NamedTuple):
    """A receiver connected to a signal, alive at the time it was seen."""

    signal: Signal
    receiver_id: Hashable
    receiver: Any
    sender_ids: tuple[Hashable, ...]


def connected(among: Iterable[Signal] | None = None) -> dict[tuple[int, Hashable], Connected]:
    """Every live receiver of ``among`` (default: :func:`signals`), by
    (signal id, receiver id)."""
    found: dict[tuple[int, Hashable], Connected] = {}
    for signal in (among if among is not None else signals() or ()):
        for connection in blinker_state.connections(signal):
            receiver = connection.ref()
            if receiver is not None:
                found[(id(signal), connection.receiver_id)] = Connected(
                    signal, connection.receiver_id, receiver, connection.sender_ids)
    return found


def module_of(receiver: Any) -> str:
    """The module a receiver was defined in ("" when it has none)."""
    func = getattr(receiver, "__func__", receiver)
    module = getattr(func, "__module__", None)
    if not isinstance(module, str):
        module = getattr(type(receiver), "__module__", None)
    return module if isinstance(module, str) else ""


def plugin_modules(plugin: Any) -> str:
    """The package whose receivers belong to ``plugin``: a CKAN plugin name
    (in a CKAN virtualenv), a plugin object or class, or a module or package
    name. ``ckanext.demo.plugin:DemoPlugin`` -> ``ckanext.demo``."""
    module: str | None = None
    if isinstance(plugin, str):
        ckan_plugins = sys.modules.get("ckan.plugins")
        get_plugin = getattr(ckan_plugins, "get_plugin", None)
        if get_plugin is not None and "." not in plugin and ":" not in plugin:
            try:
                found = get_plugin(plugin)
            except Exception:
                found = None
            if found is not None:
                module = type(found).__module__
        if module is None:
            return plugin.partition(":")[0]
    else:
        cls = plugin if isinstance(plugin, type) else type(plugin)
        module = cls.__module__
    parts = module.split(".")
    if parts[0] == "ckanext" and len(parts) > 2:
        return ".".join(parts[:2])
    return ".".join(parts[:-1]) if len(parts) > 1 else module


def _in(module: str, packages: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def chooser(plugin: Any, receivers: Iterable[Any] | None) -> Callable[[Any], bool]:
    """Whether a receiver is one of ``receivers`` or belongs to ``plugin``
    (one plugin, or several in a list or tuple)."""
    if plugin is None and receivers is None:
        raise TypeError("name a plugin (plugin=...) or receivers (receivers=[...])")
    plugins = [] if plugin is None else list(plugin) if isinstance(plugin, list | tuple) \
        else [plugin]
    packages = [plugin_modules(p) for p in plugins]
    ids = {make_id(r) for r in receivers or ()}
    return lambda receiver: make_id(receiver) in ids or (
        bool(packages) and _in(module_of(receiver), packages))


def _is_forward(receiver: Any) -> bool:
    """A signal's bound ``send`` connected as a receiver (CKAN forwarding
    Flask's signals as its own): wiring, not behaviour, so never isolated."""
    return isinstance(getattr(receiver, "__self__", None), Signal) and \
        getattr(getattr(receiver, "__func__", None), "__name__", None) == "send"


class _Stashed(NamedTuple):
    """A receiver taken off a signal for the block, with what reconnects it."""

    signal: Signal
    receiver: Any
    receiver_id: Hashable
    senders: list[tuple[Hashable, Any]]  # (sender id, sender object) it was connected for
    weak: bool


@contextmanager
def isolate(keep: Callable[[Any], bool]) -> Iterator[list[Any]]:
    """Disconnect, from every signal there is (CKAN's and ckanext's, Flask's,
    a private ``Namespace``'s: see :func:`~ckansig.loading.blinker_state.all_signals`),
    the receivers for which ``keep`` is false, until the block ends. Then
    disconnect every receiver connected during the block, whatever signal it
    is on, and reconnect the receivers taken off, except those code in the
    block disconnected itself (a plugin unloaded by CKAN's ``with_plugins``).
    Everything goes through blinker's ``connect`` and ``disconnect``, so every
    later connect and disconnect behaves as if the block never ran. Forwards
    (a signal's bound ``send``) stay. Yields the receivers left connected."""
    before = blinker_state.all_signals()
    present = {(id(signal), c.receiver_id): _senders(signal, c.sender_ids) for signal in before
               for c in blinker_state.connections(signal)}
    kept: list[Any] = []
    stash: list[_Stashed] = []
    for signal in before:
        for item in connected([signal]).values():
            if keep(item.receiver) or _is_forward(item.receiver):
                kept.append(item.receiver)
            else:
                stash.append(_take_off(signal, item))
    gone: set[tuple[int, Hashable, Hashable]] = set()  # (signal, receiver, sender) ids

    def note(signal: Signal, receiver: Any = None, sender: Any = ANY,
             **_: Any) -> None:
        gone.add((id(signal), make_id(receiver), blinker_state.sender_id(sender)))

    watched = {id(s.signal): s.signal for s in stash}
    for signal in watched.values():
        signal.receiver_disconnected.connect(note, weak=False)
    try:
        yield kept
    finally:
        for signal in watched.values():
            signal.receiver_disconnected.disconnect(note)
        for signal in blinker_state.all_signals(also=before):
            for c in list(blinker_state.connections(signal)):
                receiver = c.ref()
                if receiver is not None:
                    _undo_connects(signal, receiver, c.sender_ids,
                                   present.get((id(signal), c.receiver_id)))
        for taken in stash:
            for sid, sender in taken.senders:
                if {(id(taken.signal), taken.receiver_id, sid),
                        (id(taken.signal), taken.receiver_id, blinker_state.ANY_ID)} & gone:
                    continue  # disconnected by code in the block: it stays so
                taken.signal.connect(taken.receiver, sender=sender, weak=taken.weak)


def _senders(signal: Signal, sender_ids: Iterable[Hashable]) -> list[tuple[Hashable, Any]]:
    """(sender id, sender) of each of ``sender_ids``; the sender is
    :data:`~ckansig.loading.blinker_state.UNKNOWN` where blinker holds none."""
    return [(sid, blinker_state.sender_for_id(signal, sid)) for sid in sender_ids]


def _undo_connects(signal: Signal, receiver: Any, sender_ids: Iterable[Hashable],
                   before: list[tuple[Hashable, Any]] | None) -> None:
    """Disconnect ``receiver`` from the senders it was connected for during
    the block (all of them when it was not connected before); the senders it
    had before stay."""
    old = {sid for sid, _ in before or ()}
    new = [sid for sid in sender_ids if sid not in old]
    if not new:
        return
    if before is None or blinker_state.ANY_ID in new:
        weak = blinker_state.is_weak(signal, blinker_state.make_id(receiver))
        signal.disconnect(receiver)  # every sender: then the old ones again
        for _, sender in before or ():
            if sender is not blinker_state.UNKNOWN:
                signal.connect(receiver, sender=sender, weak=weak)
        return
    for _, sender in _senders(signal, new):
        if sender is not blinker_state.UNKNOWN:
            signal.disconnect(receiver, sender=sender)


def _take_off(signal: Signal, item: Connected) -> _Stashed:
    """Disconnect ``item`` through blinker's API; what reconnects it. A sender
    blinker no longer knows the object of (an int on blinker 1.5) keeps its
    receiver connected for it."""
    senders, unknown = [], False
    for sid, sender in _senders(signal, item.sender_ids):
        if sender is blinker_state.UNKNOWN:
            unknown = True
        else:
            senders.append((sid, sender))
    weak = blinker_state.is_weak(signal, item.receiver_id)
    if unknown and blinker_state.ANY_ID not in item.sender_ids:
        for _, sender in senders:
            signal.disconnect(item.receiver, sender=sender)
    else:
        signal.disconnect(item.receiver)
    return _Stashed(signal, item.receiver, item.receiver_id, senders, weak)
