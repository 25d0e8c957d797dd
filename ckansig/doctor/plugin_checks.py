"""The doctor checks about plugins as CKAN sees them (SIG019, SIG020): one
function per catalogue ID, as in :mod:`ckansig.doctor.checks`."""

from __future__ import annotations

import inspect
from typing import Any

from ckansig.doctor.context import PLUGIN, CheckContext, check
from ckansig.loading import blinker_state
from ckansig.loading.describing import describe
from ckansig.model import LoadedPlugin, Subscription


def _connected_by_ckan(ctx: CheckContext, plugin: LoadedPlugin) -> bool | None:
    """Whether CKAN connects ``plugin``'s subscriptions under the checked
    release's rules: known in CKAN mode, judged from ckansig's plugin classes
    outside it (None: not a plugin class whose rules are known)."""
    if plugin.isignal is not None:
        return plugin.isignal
    from ckansig.plugins import ISignal, Plugin

    cls = type(plugin.obj)
    if not issubclass(cls, Plugin):
        return None
    if issubclass(cls, ISignal):  # implements(ISignal, inherit=True) here or in a base
        return True
    declared = getattr(cls, "_declared_here" if ctx.release < (2, 11) else "_implements", ())
    return ISignal in declared


@check("SIG019", PLUGIN)
def never_connected(ctx: CheckContext, plugin: LoadedPlugin) -> None:
    if _connected_by_ckan(ctx, plugin) is not False:
        return
    method = getattr(plugin.obj, "get_signal_subscriptions", None)
    if not callable(method):
        return
    code = getattr(getattr(method, "__func__", method), "__code__", None)
    release = f"{ctx.release[0]}.{ctx.release[1]}"
    inherited = ctx.release < (2, 11) and any(
        _connected_by_ckan_class(base) for base in type(plugin.obj).__mro__[1:])
    why = (" (a base class implements it, without inherit=True: on CKAN 2.10 that does not "
           "make this class an ISignal plugin)" if inherited else "")
    ctx.report(f"plugin {plugin.name} has get_signal_subscriptions() but does not implement "
               f"ISignal under CKAN {release}'s rules{why}: CKAN never connects these "
               "subscriptions", plugin=plugin.name,
               file=code.co_filename if code else None,
               line=code.co_firstlineno if code else None)


def _connected_by_ckan_class(cls: type) -> bool:
    from ckansig.plugins import ISignal

    return ISignal in getattr(cls, "_declared_here", ())


#: plugin -> signal id -> (receiver ids it connected, whether one was dropped, a subscription)
_Connections = dict[str, dict[int, tuple[set[Any], bool, Subscription]]]


def _isignal_connections(ctx: CheckContext) -> _Connections:
    """What each plugin connected through ISignal, per signal: built once per
    run (one pass over every subscription), not once per plugin."""
    cached: _Connections | None = ctx.shared.cache.get("isignal_connections")
    if cached is None:
        cached = {}
        for info in ctx.registry.signals:
            for sub in info.subscriptions:
                if sub.via != "isignal" or sub.plugin is None:
                    continue
                per_signal = cached.setdefault(sub.plugin, {})
                ids, dropped, first = per_signal.get(id(info.signal), (set(), False, sub))
                ids.add(sub.receiver_id)
                per_signal[id(info.signal)] = (ids, dropped or not sub.alive, first)
        ctx.shared.cache["isignal_connections"] = cached
    return cached


@check("SIG020", PLUGIN)
def not_disconnectable(ctx: CheckContext, plugin: LoadedPlugin) -> None:
    obj = plugin.obj
    if plugin.isignal is False or inspect.isfunction(obj):
        return  # never connected, or a module-level function (ckansig's own; never unloaded)
    method = getattr(obj, "get_signal_subscriptions", None)
    if not callable(method):
        return
    connected = _isignal_connections(ctx).get(plugin.name)
    if not connected:
        return
    again = method()  # what CKAN's unload gets: plugin code, guarded by the runner
    for signal, entries in list(again.items()):
        if id(signal) not in connected:
            continue
        ids, dropped, sub = connected[id(signal)]
        if dropped:
            continue  # a dropped receiver is SIG007's
        new = []
        for entry in entries:
            receiver = entry.get("receiver") if isinstance(entry, dict) else entry
            if callable(receiver) and blinker_state.make_id(receiver) not in ids:
                new.append(describe(receiver).name)
        if new:
            ctx.report(f"{', '.join(new)} on {sub.signal!r}: a new object on each call to "
                       "get_signal_subscriptions(), so CKAN's unload, which disconnects what a "
                       "second call returns, leaves the connected one in place",
                       sub=sub, receiver=new[0], file=sub.declared_file or sub.receiver.file,
                       line=sub.declared_line if sub.declared_file else sub.receiver.line)
