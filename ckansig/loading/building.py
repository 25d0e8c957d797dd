"""From what the loader recorded, and what blinker holds, to the
:class:`~ckansig.model.Registry`: every signal of the namespaces with its
subscriptions, in display order.

:class:`RegistryBuilder` is the loader's second half: ``_Loader`` records
while plugin code runs (which plugin connected what, where each signal was
defined, what is a duplicate), and these methods read blinker's state once it
is done, match each connection to its record, and describe the receivers
ckansig did not connect (at a plugin's import, or before loading).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

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

__all__ = ["RegistryBuilder"]


class RegistryBuilder:
    """Builds the registry from the loader's records (a base class of the loader)."""

    config: Config
    namespaces: Mapping[str, Namespace]
    absent: Mapping[tuple[str, str], Signal]
    errors: list[LoadError]
    plugins: list[LoadedPlugin]
    #: signal id -> receiver id -> [(sender id, subscription)], as ckansig connected them
    records: dict[int, dict[Hashable, list[tuple[Hashable, Subscription]]]]
    duplicates: list[Duplicate]
    module_owner: dict[str, str]
    defined_by: dict[int, tuple[str, str | None]]
    mentioned_by: dict[int, list[str]]
    extra: dict[int, Signal]
    ns_of: dict[int, tuple[str | None, str]]
    preexisting: set[int]
    #: whether some weak receiver or sender may be garbage kept by a cycle
    doubtful: bool

    def _where(self, signal: Signal) -> tuple[str | None, str]:
        """The namespace and name of ``signal`` (namespace None outside ckan/ckanext)."""
        found = self.ns_of.get(id(signal))
        if found is None:
            name = getattr(signal, "name", None)
            ns_name = next((n for n, ns in self.namespaces.items()
                            if isinstance(name, str) and ns.get(name) is signal), None)
            found = (ns_name, name if isinstance(name, str) else
                     f"<anonymous signal {id(signal):#x}>")
            self.ns_of[id(signal)] = found
        return found


    def _build(self, kept: list[Any]) -> Registry:
        """The registry of what is connected now; ``kept`` are the plugin
        objects that stay alive (their methods cannot be dropped)."""
        self.kept = {id(obj) for obj in kept}
        self.absent_ids = {id(sig) for sig in self.absent.values()}
        records = self.records
        all_signals: list[tuple[str | None, str, Signal]] = [
            (ns_name, sig_name, sig)
            for ns_name, ns in self.namespaces.items() for sig_name, sig in ns.items()
        ]
        all_signals += [(ns_name, sig_name, sig) for (ns_name, sig_name), sig in
                        self.absent.items()]
        all_signals += [(None, self._where(sig)[1], sig) for sig in self.extra.values()]
        infos = [self._signal_info(ns_name, sig_name, sig, records.get(id(sig), {}))
                 for ns_name, sig_name, sig in all_signals]
        for info in infos:
            if id(info.signal) in self.absent_ids:
                info.present = False
        infos.sort(key=_display_order)
        return Registry(infos, self.errors, self.plugins, self.config.path, self.duplicates)

    def _signal_info(
        self, ns_name: str | None, sig_name: str, sig: Signal,
        records: dict[Hashable, list[tuple[Hashable, Subscription]]],
    ) -> SignalInfo:
        info = SignalInfo(ns_name, sig_name, sig, core_signal(ns_name, sig_name))
        if info.core is not None:
            info.defined_by = "core"
        elif id(sig) in self.defined_by:
            info.defined_by, info.defined_module = self.defined_by[id(sig)]
        elif id(sig) in self.preexisting:
            info.defined_by = "preloaded"
        info.mentioned_by = self.mentioned_by.get(id(sig), [])
        subs = info.subscriptions
        live: set[Hashable] = set()
        for conn in _blinker.connections(sig):
            rid, ref, weak, sender_ids = conn
            live.add(rid)
            receiver = ref()
            alive = receiver is not None
            if weak and alive and not self.doubtful and not surely_alive(receiver, self.kept):
                self.doubtful = True
            if sender_ids is not _blinker.ANY_ONLY and not self.doubtful:
                self.doubtful = any(_blinker.held_weakly(sig, sid) for sid in sender_ids)
            recs = records.get(rid, ())
            for sid in sender_ids:
                if len(recs) == 1:  # the common case: one connection, from ISignal
                    sub = recs[0][1] if recs[0][0] == sid else None
                else:
                    sub = next((s for recorded, s in recs if recorded == sid), None)
                if sub is None:
                    subs.append(self._foreign(info, sig, conn, sid))
                elif alive and sub.weak == weak:
                    subs.append(sub)  # as recorded when ckansig connected it
                else:
                    subs.append(sub._replace(weak=weak, alive=alive, ref=ref))
        for rid, recs in records.items():
            if rid not in live:  # connected weakly by a plugin, since garbage-collected
                subs.append(recs[0][1]._replace(alive=False))
        return info

    def _foreign(
        self, info: SignalInfo, sig: Signal, conn: _blinker.Connection, sid: Hashable
    ) -> Subscription:
        """A receiver ckansig did not connect: at a plugin's import, or before loading."""
        receiver = conn.ref()
        module = None
        with plugin_code():  # a hook of the receiver's own may raise
            module = getattr(receiver, "__module__", None)
        plugin = self.module_owner.get(module) if isinstance(module, str) else None
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
