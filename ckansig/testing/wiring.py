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

from blinker import Signal

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


@contextmanager
def isolate(keep: Callable[[Any], bool]) -> Iterator[list[Any]]:
    """Disconnect, from every signal of :func:`signals`, the receivers for
    which ``keep`` is false, until the block ends; then put every signal's
    receivers back exactly as they were (what the block connected is gone
    again), even when it raises. Yields the receivers left connected."""
    saved = []
    kept: list[Any] = []
    for signal in signals() or ():
        saved.append((signal, blinker_state.snapshot(signal)))
        for item in connected([signal]).values():
            if keep(item.receiver):
                kept.append(item.receiver)
            else:
                blinker_state.drop(signal, item.receiver_id)
    try:
        yield kept
    finally:
        for signal, state in saved:
            blinker_state.restore(signal, state)
