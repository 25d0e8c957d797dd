"""Load plugins and connect their subscriptions exactly as CKAN does.

For every entry of the config: import it, instantiate the plugin, call
``get_signal_subscriptions()`` and ``signal.connect(**options)`` each entry (a
bare callable means ``{"receiver": it}``). Along the way record where every
receiver came from, and every failure, without letting one bad plugin stop the
others. The result is a :class:`~ckansig.model.Registry`.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from blinker import ANY, Namespace, Signal

from ckansig.config.settings import Config, PluginSpec
from ckansig.errors import exc_text, raise_site
from ckansig.isolation import GC, plugin_code, watching_ctrl_c
from ckansig.loading.building import LoadRecord, build_registry, signal_where
from ckansig.loading.ckan_host import CkanHost
from ckansig.loading.connecting import Connector
from ckansig.loading.entries import read_items
from ckansig.loading.importing import (
    ENTRY_POINT_GROUPS,
    Found,
    PluginFailure,
    duplicate_plugin,
    forget_entry_points,
    resolve,
)
from ckansig.loading.tracking import Tracker, bound_signals, noting_sources
from ckansig.model import (
    LoadedPlugin,
    LoadError,
    LoadErrorKind,
    Registry,
    Sender,
    Subscription,
    brief,
)

__all__ = ["ENTRY_POINT_GROUPS", "load"]


_ANY_SENDER = Sender.of(ANY)
_make_subscription = Subscription._make

# The plugins of the last load stay alive, as CKAN's SingletonPlugin cache
# keeps them: bound-method receivers connected weakly must not vanish. A new
# load lets the previous load's plugins go (a process that loads again, a test
# suite, must not keep every plugin it ever loaded).
_KEEP_ALIVE: list[Any] = []


class _Loader:
    """Runs the plugins' code, recording what they did (see :meth:`record`)."""

    def __init__(self, config: Config, namespaces: Mapping[str, Namespace],
                 absent: Mapping[tuple[str, str], Signal]) -> None:
        self.config = config
        self.namespaces = namespaces
        self.absent = absent
        # CKAN mode: CKAN itself is set up first, so that what importing it
        # creates is not attributed to the first plugin
        self.host = CkanHost(config.ckan_config) if config.ckan_config is not None else None
        self.errors: list[LoadError] = []
        self.plugins: list[LoadedPlugin] = []
        # module name -> the plugin whose import brought it in: receivers
        # connected at import time belong to the plugin that loaded their module
        self.module_owner: dict[str, str] = {}
        self.defined_by: dict[int, tuple[str, str | None]] = {}
        self.mentioned_by: dict[int, list[str]] = {}
        self.ns_of: dict[int, tuple[str | None, str]] = {
            id(sig): key for key, sig in absent.items()}
        self.preexisting = {
            id(sig) for ns in namespaces.values() for sig in ns.values()
        }
        self.tracker = Tracker(namespaces)
        self.named: set[str] = set()  # the plugins a ckan.ini named, loaded without CKAN
        # the connections ckansig makes itself, from ISignal mappings
        self.connector = Connector(self.errors, self.module_owner, self._where, self._fault,
                                   self._read)

    # -- the steps -----------------------------------------------------------

    def _plugin_of_file(self, file: str | None) -> str | None:
        """The loaded plugin whose class is defined in ``file`` (where CKAN's
        set-up of all plugins' config declarations raised)."""
        for plugin in self.plugins:
            module = sys.modules.get(type(plugin.obj).__dict__.get("__module__") or "")
            if file is not None and getattr(module, "__file__", None) == file:
                return plugin.name
        return None

    def run(self, then: Callable[[], None] | None = None) -> Registry:
        for entry in reversed(self.config.paths):
            if entry in sys.path:
                sys.path.remove(entry)
            sys.path.insert(0, entry)
        forget_entry_points()  # scanned once per run, after the paths are in place
        host = self.host
        specs = list(self.config.plugins)
        if host is not None:
            try:
                specs += [PluginSpec(name, "name", name, source="ckan.system_plugins")
                          for name in host.system_plugins()]
            except PluginFailure as failure:
                self.errors.append(failure.error)
        limit = sys.getrecursionlimit()
        with noting_sources():
            for spec in specs:
                self._load_spec(spec, host if spec.kind == "name" else None)
                if sys.getrecursionlimit() < limit:  # a plugin lowered it: not ckansig's code
                    sys.setrecursionlimit(limit)
        if host is not None:
            try:
                host.finish()
            except Exception as exc:
                file, line = raise_site(exc)
                self.errors.append(LoadError(
                    self._plugin_of_file(file) or "ckan", "plugin_init_failed",
                    f"setting up CKAN's config declarations raised {exc_text(exc)}",
                    file=file, line=line))
        if then is not None:
            then()
        registry, doubtful = build_registry(self.record(), _KEEP_ALIVE)
        if doubtful:
            # A weakly connected receiver (or sender) kept alive only by a
            # reference cycle is garbage that blinker drops whenever the
            # collector happens to run: collect now, so that every run reports
            # it the same way (dropped), whatever the collector's thresholds or
            # the CLI's start-up GC pause. Skipped when every weak receiver is
            # surely alive (see liveness): then it cannot change a result.
            GC.collect()
            registry = build_registry(self.record(), _KEEP_ALIVE)[0]
        registry.settled = True
        return registry

    def record(self) -> LoadRecord:
        """What was recorded, as an immutable record for :func:`build_registry`."""
        return LoadRecord(
            self.config, self.namespaces, self.absent, tuple(self.errors), tuple(self.plugins),
            self.connector.records, tuple(self.connector.duplicates), self.module_owner,
            self.defined_by, self.mentioned_by, self.connector.extra, self.ns_of,
            frozenset(self.preexisting))

    def _where(self, signal: Signal) -> tuple[str | None, str]:
        found = self.ns_of[id(signal)] = signal_where(signal, self.ns_of, self.namespaces)
        return found

    def _sited(self, error: LoadError, spec: PluginSpec) -> LoadError:
        """``error``, pointing at the config line that names the plugin when
        nothing of the plugin's own could be pointed at (a module or plugin not
        found): every surface (list, doctor, diff) then says where to fix it."""
        if error.file is not None or spec.line is None:
            return error
        return error._replace(file=spec.source or self.config.path, line=spec.line)

    def _load_spec(self, spec: PluginSpec, ckan: CkanHost | None) -> None:
        """Import, create and subscribe what ``spec`` names (CKAN loads plugins
        by name). Whatever plugin code raises, wherever ckansig touches its
        objects, is a load error of that plugin alone."""
        name = spec.text
        if ckan is None and spec.source is not None:  # named by a ckan.ini
            if name in self.named:
                self.errors.append(duplicate_plugin(name, spec.source, spec.line))
                return
            self.named.add(name)
        found = Found([], [])
        with plugin_code() as guard:
            try:
                found = Found([(spec.text, ckan.load(spec.text))], []) if ckan is not None \
                    else resolve(spec)
            except PluginFailure as failure:
                found = Found([], [failure.error])
            self.errors.extend(self._sited(error, spec) for error in found.errors)
            self._afterimport_module(spec)
        if guard.error is not None:
            self._fault(name, "plugin_raised", "loading the plugin", guard.error)
            return
        for name, obj in found.plugins:
            _KEEP_ALIVE.append(obj)
            with plugin_code() as guard:
                isignal = ckan.implements_isignal(obj) if ckan is not None else None
                self.plugins.append(LoadedPlugin(name, spec.text, obj, isignal))
                if isignal is not False:  # CKAN's rule, inside CKAN
                    self._subscribe(name, spec, obj)
            if guard.error is not None:
                self._fault(name, "plugin_raised", "inspecting the plugin", guard.error)

    def _fault(self, plugin: str, kind: LoadErrorKind, doing: str, exc: BaseException,
               declared: tuple[str | None, int | None] = (None, None), **fields: Any) -> None:
        """Record that plugin code raised ``exc`` ``doing`` something."""
        file, line = raise_site(exc, default=declared)
        self.errors.append(LoadError(plugin, kind, f"{doing} raised {exc_text(exc)}",
                                     file=file, line=line, **fields))

    def _read(self, items: Iterable[Any], plugin: str, what: Callable[[int], str],
              declared: tuple[str | None, int | None], **fields: Any,
              ) -> Iterator[tuple[int, Any]]:
        """``(n, item)`` for each item of ``items``, which plugin code gave
        (see :func:`~ckansig.loading.entries.read_items`); a fault while
        reading is the plugin's load error, "reading " + ``what(n)``."""
        return read_items(items, lambda index, exc: self._fault(
            plugin, "subscriptions_raised", "reading " + what(index), exc, declared, **fields))

    def _afterimport_module(self, spec: PluginSpec) -> None:
        """Attribute what the import of ``spec`` created to it."""
        modules = self.tracker.new_modules()
        for module in modules:
            self.module_owner.setdefault(module.__name__, spec.text)
        bound = bound_signals(modules)
        for ns_name, sig_name, sig in self.tracker.new_signals():
            self.ns_of[id(sig)] = (ns_name, sig_name)
            self.defined_by[id(sig)] = (spec.text, bound.get(id(sig), spec.module))
        # A signal first created by a subscriber's lookup is still defined by
        # the module that binds it at import time, whatever the load order.
        for sig_id, module_name in bound.items():
            if sig_id in self.mentioned_by and sig_id not in self.defined_by:
                self.defined_by[sig_id] = (spec.text, module_name)

    def _subscribe(self, name: str, spec: PluginSpec, obj: Any) -> None:
        method: Any
        if inspect.isfunction(obj):
            method = obj
        else:
            method = getattr(obj, "get_signal_subscriptions", None)
            if not callable(method):
                return  # a plugin that does not implement ISignal: loaded, nothing to connect
        declared = _code_site(method)
        mapping = None
        try:
            with plugin_code() as guard:
                mapping = method()
        finally:
            for ns_name, sig_name, sig in self.tracker.new_signals():
                self.ns_of[id(sig)] = (ns_name, sig_name)
                self.mentioned_by.setdefault(id(sig), []).append(name)
        if guard.error is not None:
            file, line = raise_site(guard.error, default=declared)
            self.errors.append(LoadError(
                name, "subscriptions_raised",
                f"get_signal_subscriptions() raised {exc_text(guard.error)}", file=file,
                line=line))
            return
        items = getattr(mapping, "items", None)
        if mapping is None or not callable(items):
            self.errors.append(LoadError(
                name, "subscriptions_malformed",
                "get_signal_subscriptions() returned "
                + ("None" if mapping is None else f"a {type(mapping).__name__}")
                + ", not a mapping of signal to receivers"
                + (" (CKAN fails at start-up on it)" if mapping is None else ""),
                file=declared[0], line=declared[1]))
            return
        pairs: Any = ()
        with plugin_code() as guard:
            pairs = items()
        if guard.error is not None:
            self._fault(name, "subscriptions_raised",
                        "get_signal_subscriptions().items()", guard.error, declared)
            return
        for index, pair in self._read(
                pairs, name, lambda n: f"entry {n} of get_signal_subscriptions()", declared):
            if type(pair) is not tuple or len(pair) != 2:
                self.errors.append(LoadError(
                    name, "subscriptions_malformed",
                    f"entry {index} of get_signal_subscriptions().items() is {brief(pair)}, "
                    "not a (signal, receivers) pair", file=declared[0], line=declared[1]))
                continue
            with plugin_code() as guard:
                self.connector.connect_all(name, pair[0], pair[1], declared)
            if guard.error is not None:
                self._fault(name, "plugin_raised",
                            f"reading the receivers of {brief(pair[0])}", guard.error, declared)

def load(config: Config, namespaces: Mapping[str, Namespace] | None = None,
         absent: Mapping[tuple[str, str], Signal] | None = None, *,
         then: Callable[[], None] | None = None) -> Registry:
    """Load the plugins of ``config`` and return the subscription map.

    Never raises for a bad plugin: each failure is in ``Registry.errors``.
    ``namespaces`` defaults to :data:`ckansig.signals.NAMESPACES`, and
    ``absent`` (catalogue signals the installed CKAN does not define, shown
    with ``present`` false) to :data:`ckansig.signals.ABSENT`. ``then`` runs
    once the plugins are loaded, before the registry is built from what is
    connected (``fire --app`` starts CKAN's app there). Garbage is
    collected once the plugins are loaded, so a receiver that only a reference
    cycle kept alive is reported as dropped (``alive`` false).
    """
    if namespaces is None:
        from ckansig.signals import ABSENT, NAMESPACES

        namespaces, absent = NAMESPACES, ABSENT if absent is None else absent
    _KEEP_ALIVE.clear()
    with watching_ctrl_c():
        return _Loader(config, namespaces, absent or {}).run(then)


# -- helpers -------------------------------------------------------------------


def _code_site(func: Callable[..., Any]) -> tuple[str | None, int | None]:
    code = getattr(getattr(func, "__func__", func), "__code__", None)
    return (code.co_filename, code.co_firstlineno) if code is not None else (None, None)
