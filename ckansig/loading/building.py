"""From what the loader recorded, and what blinker holds, to the
:class:`~ckansig.model.Registry`: every signal of the namespaces with its
subscriptions, in display order.

The loader records while plugin code runs, and hands over an immutable
:class:`LoadRecord`; :func:`build_registry`, a plain function, reads
blinker's state, matches each connection to its record, and describes the
receivers ckansig did not connect (at a plugin's import, or before loading).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, NamedTuple

from blinker import Namespace, Signal

from ckansig.catalog import CORE_SIGNALS, core_signal
from ckansig.config.settings import Config
from ckansig.isolation import plugin_code
from ckansig.loading import blinker_state as _blinker
from ckansig.loading.describing import describe
from ckansig.loading.liveness import surely_alive
from ckansig.model import (
    CallableInfo,
    Duplicate,
    LoadedPlugin,
    LoadError,
    Registry,
    Sender,
    SignalInfo,
    Subscription,
)

__all__ = ["LoadRecord", "build_registry", "signal_where"]


class LoadRecord(NamedTuple):
    """What the loader recorded while plugin code ran, once it is done: which
    plugin connected what, where each signal was defined, what failed and
    what is a duplicate. Immutable: :func:`build_registry` reads it, with
    what blinker holds, into a :class:`~ckansig.model.Registry`."""

    config: Config
    namespaces: Mapping[str, Namespace]
    absent: Mapping[tuple[str, str], Signal]
    errors: tuple[LoadError, ...]
    plugins: tuple[LoadedPlugin, ...]
    #: signal id -> receiver id -> [(sender id, subscription)], as ckansig connected them
    records: Mapping[int, Mapping[Hashable, list[tuple[Hashable, Subscription]]]]
    duplicates: tuple[Duplicate, ...]
    #: module name -> the plugin whose import brought it in
    module_owner: Mapping[str, str]
    defined_by: Mapping[int, tuple[str, str | None]]
    mentioned_by: Mapping[int, list[str]]
    #: signals outside the namespaces that plugins subscribed to
    extra: Mapping[int, Signal]
    ns_of: Mapping[int, tuple[str | None, str]]
    preexisting: frozenset[int]


def signal_where(signal: Signal, known: Mapping[int, tuple[str | None, str]],
                 namespaces: Mapping[str, Namespace]) -> tuple[str | None, str]:
    """The namespace and name of ``signal`` (namespace None outside ckan/ckanext)."""
    found = known.get(id(signal))
    if found is None:
        name = getattr(signal, "name", None)
        ns_name = next((n for n, ns in namespaces.items()
                        if isinstance(name, str) and ns.get(name) is signal), None)
        found = (ns_name, name if isinstance(name, str) else
                 f"<anonymous signal {id(signal):#x}>")
    return found


def build_registry(record: LoadRecord, kept: list[Any]) -> tuple[Registry, bool]:
    """The registry of what is connected now, and whether a weak receiver or
    sender may be garbage that only a reference cycle keeps (then collect and
    build again). ``kept`` are the plugin objects that stay alive (their
    methods cannot be dropped)."""
    kept_ids = {id(obj) for obj in kept}
    absent_ids = {id(sig) for sig in record.absent.values()}
    all_signals: list[tuple[str | None, str, Signal]] = [
        (ns_name, sig_name, sig)
        for ns_name, ns in record.namespaces.items() for sig_name, sig in ns.items()
    ]
    all_signals += [(ns_name, sig_name, sig) for (ns_name, sig_name), sig in
                    record.absent.items()]
    all_signals += [(None, signal_where(sig, record.ns_of, record.namespaces)[1], sig)
                    for sig in record.extra.values()]
    doubtful = False
    infos = []
    for ns_name, sig_name, sig in all_signals:
        info, unsure = _signal_info(record, ns_name, sig_name, sig, kept_ids, doubtful)
        doubtful = doubtful or unsure
        info.present = id(sig) not in absent_ids
        infos.append(info)
    infos.sort(key=_display_order)
    return Registry(infos, list(record.errors), list(record.plugins), record.config.path,
                    list(record.duplicates)), doubtful


def _signal_info(record: LoadRecord, ns_name: str | None, sig_name: str, sig: Signal,
                 kept: set[int], doubtful: bool) -> tuple[SignalInfo, bool]:
    records = record.records.get(id(sig), {})
    info = SignalInfo(ns_name, sig_name, sig, core_signal(ns_name, sig_name))
    if info.core is not None:
        info.defined_by = "core"
    elif id(sig) in record.defined_by:
        info.defined_by, info.defined_module = record.defined_by[id(sig)]
    elif id(sig) in record.preexisting:
        info.defined_by = "preloaded"
    info.mentioned_by = record.mentioned_by.get(id(sig), [])
    subs = info.subscriptions
    live: set[Hashable] = set()
    for conn in _blinker.connections(sig):
        rid, ref, weak, sender_ids = conn
        live.add(rid)
        receiver = ref()
        alive = receiver is not None
        if weak and alive and not doubtful and not surely_alive(receiver, kept):
            doubtful = True
        if sender_ids is not _blinker.ANY_ONLY and not doubtful:
            doubtful = any(_blinker.held_weakly(sig, sid) for sid in sender_ids)
        recs = records.get(rid, ())
        for sid in sender_ids:
            if len(recs) == 1:  # the common case: one connection, from ISignal
                sub = recs[0][1] if recs[0][0] == sid else None
            else:
                sub = next((s for recorded, s in recs if recorded == sid), None)
            if sub is None:
                subs.append(_foreign(record, info, sig, conn, sid))
            elif alive and sub.weak == weak:
                subs.append(sub)  # as recorded when ckansig connected it
            else:
                subs.append(sub._replace(weak=weak, alive=alive, ref=ref))
    for rid, recs in records.items():
        if rid not in live:  # connected weakly by a plugin, since garbage-collected
            subs.append(recs[0][1]._replace(alive=False))
    return info, doubtful


def _foreign(record: LoadRecord, info: SignalInfo, sig: Signal, conn: _blinker.Connection,
             sid: Hashable) -> Subscription:
    """A receiver ckansig did not connect: at a plugin's import, or before loading."""
    receiver = conn.ref()
    module = None
    with plugin_code():  # a hook of the receiver's own may raise
        module = getattr(receiver, "__module__", None)
    plugin = record.module_owner.get(module) if isinstance(module, str) else None
    described = describe(receiver) if receiver is not None else CallableInfo(
        f"<collected receiver {conn.receiver_id!r}>", "?", None, None, None, "unknown",
        False)
    sender = _blinker.sender_for_id(sig, sid)
    return Subscription(
        info.namespace, info.name, described, plugin, "import" if plugin else "unknown",
        Sender.of(sender) if sender is not _blinker.UNKNOWN else Sender(
            "object", "object", f"<object id {sid!r}>"),
        conn.weak, receiver is not None, conn.receiver_id, ref=conn.ref)


_NS_ORDER = {"ckan": 0, "ckanext": 1}
_CORE_ORDER = {(s.namespace, s.name): i for i, s in enumerate(CORE_SIGNALS)}


def _display_order(info: SignalInfo) -> tuple[int, str, int, str]:
    ns_rank = _NS_ORDER.get(info.namespace or "", 2 if info.namespace else 3)
    core_rank = _CORE_ORDER.get((info.namespace or "", info.name), len(_CORE_ORDER))
    return ns_rank, info.namespace or "", core_rank, info.name
