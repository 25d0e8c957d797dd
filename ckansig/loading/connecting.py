"""Connect the receivers of a plugin's ``get_signal_subscriptions()`` as CKAN
does: ``signal.connect(**options)`` for each entry, a bare callable meaning
``{"receiver": it}``. Record each connection ckansig made (with where it came
from), each one blinker drops as a duplicate, the signals outside the
namespaces, and every failure, as the plugin's load error.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from types import FunctionType
from typing import Any

from blinker import ANY, Signal

from ckansig.errors import exc_text
from ckansig.isolation import plugin_error
from ckansig.loading import blinker_state as _blinker
from ckansig.loading.describing import describe
from ckansig.loading.entries import check_options
from ckansig.model import (
    CallableInfo,
    Duplicate,
    LoadError,
    Sender,
    Subscription,
    brief,
)

__all__ = ["Connector"]

_ANY_SENDER = Sender.of(ANY)
_make_subscription = Subscription._make

Site = tuple[str | None, int | None]


class Connector:
    """Connects one plugin's subscriptions at a time (:meth:`connect_all`).

    ``errors`` is the loader's list of load errors, ``module_owner`` its map of
    module name to the plugin that imported it, ``where`` names a signal,
    ``fault`` records that plugin code raised, and ``read`` reads items that
    plugin code gave (see :func:`~ckansig.loading.entries.read_items`).
    """

    def __init__(
        self, errors: list[LoadError], module_owner: Mapping[str, str],
        where: Callable[[Signal], tuple[str | None, str]],
        fault: Callable[..., None],
        read: Callable[..., Iterator[tuple[int, Any]]],
    ) -> None:
        self.errors = errors
        #: signal id -> receiver id -> [(sender id, subscription)], as ckansig connected them
        self.records: dict[int, dict[Hashable, list[tuple[Hashable, Subscription]]]] = {}
        self.duplicates: list[Duplicate] = []
        #: signals outside the namespaces that plugins subscribed to
        self.extra: dict[int, Signal] = {}
        self._module_owner = module_owner
        self._where = where
        self._fault = fault
        self._read = read

    def connect_all(self, name: str, key: Any, listeners: Any, declared: Site) -> None:
        """Connect the receivers ``listeners`` that plugin ``name`` maps signal
        ``key`` to, in ``get_signal_subscriptions()`` at ``declared``."""
        file, line = declared
        if not isinstance(key, Signal):
            hint = " (the name of a signal; use the signal object, e.g. " \
                "toolkit.signals.ckanext.signal(name))" if isinstance(key, str) else ""
            self.errors.append(LoadError(
                name, "bad_signal_key", f"subscription key {brief(key)} is not a blinker "
                f"signal{hint}", signal=key if isinstance(key, str) else brief(key),
                file=file, line=line))
            return
        ns, signal_name = self._where(key)
        if isinstance(listeners, (str, bytes, Mapping)) or not isinstance(listeners, Iterable):
            self.errors.append(LoadError(
                name, "subscriptions_malformed",
                f"receivers of {signal_name!r} must be a list, not a {type(listeners).__name__}",
                signal=signal_name, namespace=ns, file=file, line=line))
            return
        records = self.records.setdefault(id(key), {})
        for index, entry in self._read(
                listeners, name, lambda n: f"receiver {n} of {signal_name!r}", declared,
                signal=signal_name, namespace=ns):
            try:  # per receiver: plugin_error, not a with (see there)
                if type(entry) is FunctionType and id(entry) not in key.receivers:
                    # The common case (a function, not connected before) of
                    # _connect_one, kept in the loop: it runs once per receiver.
                    info = describe(entry)
                    try:
                        key.connect(entry, sender=ANY, weak=True)
                    except BaseException as exc:
                        self._connect_failed(name, ns, signal_name, info, declared, exc)
                        continue
                    rid = id(entry)
                    if ns is None:
                        self.extra.setdefault(id(key), key)
                    records.setdefault(rid, []).append((_blinker.ANY_ID, _make_subscription((
                        ns, signal_name, info, name, "isignal", _ANY_SENDER, True, True, rid,
                        file, line, _blinker.reference(key, rid)))))
                    continue
                self._connect_one(name, key, ns, signal_name, entry, declared, records)
            except BaseException as exc:
                self._fault(name, "plugin_raised",
                            f"inspecting receiver {index} of {signal_name!r}",
                            plugin_error(exc), declared, signal=signal_name, namespace=ns)

    def _connect_one(
        self, name: str, signal: Signal, ns: str | None, signal_name: str, entry: Any,
        declared: Site,
        records: dict[Hashable, list[tuple[Hashable, Subscription]]],
    ) -> None:
        # Any entry: a dict of options, a method, a callable object, a function
        # connected before (a duplicate); connect_all keeps a new function's case.
        if isinstance(entry, dict):
            problem = check_options(entry, signal_name)
            if problem is not None:
                kind, message, receiver_name, site = problem
                self.errors.append(LoadError(
                    name, kind, message, signal=signal_name, namespace=ns,
                    receiver=receiver_name, file=site[0] or declared[0],
                    line=site[1] if site[0] else declared[1]))
                return
            receiver = entry["receiver"]
            sender = entry.get("sender", ANY)
            weak = entry.get("weak", True)
        else:
            receiver, sender, weak = entry, ANY, True
        if not callable(receiver):
            self.errors.append(LoadError(
                name, "not_callable", f"receiver {brief(receiver)} of {signal_name!r} is not "
                "callable", signal=signal_name, namespace=ns, receiver=brief(receiver),
                file=declared[0], line=declared[1]))
            return
        info = describe(receiver)
        rid = _blinker.make_id(receiver)
        sid = _blinker.ANY_ID if sender is ANY else _blinker.make_id(sender)
        if rid in signal.receivers and sid in _blinker.sender_ids_of(signal, rid):
            # blinker keeps one connection per receiver and sender: this one is lost
            self.duplicates.append(Duplicate(
                ns, signal_name, info, _ANY_SENDER if sender is ANY else Sender.of(sender),
                self._connected_by(signal, rid, sid), name, declared[0], declared[1]))
        try:  # per receiver: plugin_error, not a with (see there)
            signal.connect(receiver, sender=sender, weak=weak)
        except BaseException as exc:
            self._connect_failed(name, ns, signal_name, info, declared, exc)
            return
        if ns is None:
            self.extra.setdefault(id(signal), signal)
        sub = _make_subscription((  # every field, in order: this runs once per receiver
            ns, signal_name, info, name, "isignal",
            _ANY_SENDER if sender is ANY else Sender.of(sender), bool(weak), True, rid,
            declared[0], declared[1], _blinker.reference(signal, rid)))
        records.setdefault(rid, []).append((sid, sub))

    def _connect_failed(self, name: str, ns: str | None, signal_name: str, info: CallableInfo,
                        declared: Site, exc: BaseException) -> None:
        self.errors.append(LoadError(
            name, "connect_failed", f"connecting {info.name} to {signal_name!r} raised "
            f"{exc_text(plugin_error(exc))}", signal=signal_name, namespace=ns,
            receiver=info.name, file=info.file or declared[0],
            line=info.line if info.file else declared[1]))

    def _connected_by(self, signal: Signal, rid: Hashable, sid: Hashable) -> str | None:
        for recorded, sub in self.records.get(id(signal), {}).get(rid, ()):
            if recorded == sid:
                return sub.plugin
        receiver = _blinker.reference(signal, rid)()
        return self._module_owner.get(getattr(receiver, "__module__", None) or "")
