"""The records every layer passes around: the subscription map.

A :class:`Registry` is what loading builds and what ``list``, ``fire`` and
``doctor`` read: every known signal (:class:`SignalInfo`), its receivers
(:class:`Subscription`, described by :class:`CallableInfo`) and the plugins
that failed to load (:class:`LoadError`). It is data: loading, rendering and
checking live in their own packages.
"""


import fnmatch
from collections.abc import Callable, Hashable
from typing import Any, Literal, NamedTuple, cast

from blinker import ANY, Signal

from ckansig.catalog import CoreSignal
from ckansig.errors import AmbiguousSignal, SignalNotFound
from ckansig.isolation import plugin_code

__all__ = [
    "CallableInfo",
    "Duplicate",
    "LoadError",
    "LoadErrorKind",
    "LoadedPlugin",
    "ReceiverKind",
    "Registry",
    "Sender",
    "SignalInfo",
    "Subscription",
    "Via",
    "brief",
    "signal_key",
]

#: How a receiver was connected: from ``get_signal_subscriptions()``, while its
#: plugin was imported, or before ckansig loaded anything.
Via = Literal["isignal", "import", "unknown"]

#: What kind of callable a receiver is.
ReceiverKind = Literal["function", "lambda", "closure", "method", "classmethod", "partial",
                       "callable", "builtin", "unknown"]

#: Why a plugin (or one of its subscriptions) failed to load.
LoadErrorKind = Literal[
    "module_not_found", "import_error", "attribute_missing", "not_a_plugin",
    "plugin_init_failed", "plugin_not_found", "duplicate_plugin", "subscriptions_raised",
    "subscriptions_malformed", "bad_signal_key", "entry_malformed", "not_callable",
    "connect_failed", "plugin_raised",
]


def signal_key(namespace: str | None, name: str) -> str:
    """``"ckan:user_created"``, or the bare name for a signal outside a namespace."""
    return f"{namespace}:{name}" if namespace else name


def brief(value: object, limit: int = 60) -> str:
    """``repr(value)`` shortened to ``limit`` characters; a ``__repr__`` that
    raises is the plugin's problem, never ckansig's."""
    text = ""
    with plugin_code() as guard:
        text = repr(value)
    if guard.error is not None:
        text = f"<unrepresentable {type(value).__name__}: {type(guard.error).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class CallableInfo(NamedTuple):
    """Where a receiver comes from: its names, source file and line, its
    :data:`ReceiverKind`, and whether it is a coroutine function."""

    name: str
    qualname: str
    module: str | None
    file: str | None
    line: int | None
    kind: ReceiverKind
    is_async: bool


class Sender(NamedTuple):
    """A sender filter. ``kind`` is "any" (no filter), "value" (a str or int,
    matched by value) or "object" (anything else, matched by identity)."""

    kind: Literal["any", "value", "object"]
    type: str
    repr: str
    value: str | int | None = None

    @classmethod
    def of(cls, sender: object) -> "Sender":
        """The filter for ``sender`` as passed to ``Signal.connect``."""
        if sender is ANY:
            return cls("any", "ANY", "ANY")
        if issubclass(type(sender), (str, int)):  # type(), not isinstance: no __class__ hook
            if issubclass(type(sender), int) and int.bit_length(cast(int, sender)) > 14_000:
                # past ~4,300 digits Python will not write it in decimal (nor JSON)
                shown = f"<int of {int.bit_length(cast(int, sender))} bits>"
                return cls("value", type(sender).__name__, shown, shown)
            return cls("value", type(sender).__name__, brief(sender, 1000),
                       cast("str | int", sender))
        return cls("object", type(sender).__name__, brief(sender, 80))

    def to_json(self) -> str | int | None:
        """None for ANY, the value for str/int senders, the repr otherwise."""
        if self.kind == "any":
            return None
        return self.value if self.kind == "value" else self.repr


class LoadError(NamedTuple):
    """Something that went wrong while loading one plugin (a :data:`LoadErrorKind`)."""

    plugin: str
    kind: LoadErrorKind
    message: str
    signal: str | None = None
    namespace: str | None = None
    receiver: str | None = None
    file: str | None = None
    line: int | None = None
    missing_module: str | None = None


def _nothing() -> None:
    return None


class Subscription(NamedTuple):
    """One receiver connected to one signal for one sender. ``declared_file``
    and ``declared_line`` locate the ``get_signal_subscriptions`` that declared
    it, when it came from ISignal; ``ref`` returns the receiver (None once it
    has been garbage-collected)."""

    namespace: str | None
    signal: str
    receiver: CallableInfo
    plugin: str | None
    via: Via
    sender: Sender
    weak: bool
    alive: bool
    receiver_id: Hashable
    declared_file: str | None = None
    declared_line: int | None = None
    ref: Callable[[], Any] = _nothing


class SignalInfo:
    """A signal with its receivers. ``defined_by`` is the plugin whose import
    created the signal ("core" for the catalogue, "preloaded" for signals that
    existed before loading) and ``defined_module`` the module that binds it;
    ``mentioned_by`` lists plugins that only looked it up while returning
    their subscriptions. ``present`` is false for a catalogue signal that the
    installed CKAN release does not define (and so never sends)."""

    __slots__ = ("core", "defined_by", "defined_module", "mentioned_by", "name", "namespace",
                 "present", "signal", "subscriptions")

    def __init__(
        self, namespace: str | None, name: str, signal: Signal, core: CoreSignal | None,
        subscriptions: list[Subscription] | None = None, defined_by: str | None = None,
        mentioned_by: list[str] | None = None, defined_module: str | None = None,
    ) -> None:
        self.namespace = namespace
        self.name = name
        self.signal = signal
        self.core = core
        self.subscriptions: list[Subscription] = subscriptions or []
        self.defined_by = defined_by
        self.mentioned_by: list[str] = mentioned_by or []
        self.defined_module = defined_module
        self.present = True

    def __repr__(self) -> str:
        return f"<SignalInfo {self.key} ({len(self.subscriptions)} receivers)>"

    def with_subscriptions(self, subscriptions: list[Subscription]) -> "SignalInfo":
        """A copy holding only ``subscriptions``."""
        copy = SignalInfo(self.namespace, self.name, self.signal, self.core, subscriptions,
                          self.defined_by, self.mentioned_by, self.defined_module)
        copy.present = self.present
        return copy

    @property
    def key(self) -> str:
        """``namespace:name`` (see :func:`signal_key`)."""
        return signal_key(self.namespace, self.name)

    @property
    def args(self) -> tuple[str, ...]:
        """The documented arguments of a core signal (sender first); () otherwise."""
        return self.core.args if self.core else ()

    @property
    def doc(self) -> str | None:
        """A one-line description: the catalogue's, else the signal's own docstring."""
        if self.core:
            return self.core.doc
        doc = self.signal.__doc__
        if isinstance(doc, str) and doc.strip() and doc != type(self.signal).__doc__:
            return doc.strip().splitlines()[0]
        return None


class Duplicate(NamedTuple):
    """A receiver subscribed a second time to the same signal and sender:
    blinker keeps one connection, so one of the two is silently lost."""

    namespace: str | None
    signal: str
    receiver: CallableInfo
    sender: Sender
    first_plugin: str | None
    plugin: str
    declared_file: str | None
    declared_line: int | None


class LoadedPlugin(NamedTuple):
    """A plugin object ckansig loaded, kept alive as CKAN keeps its plugins.
    ``isignal`` is whether CKAN connects its subscriptions under the running
    release's rules (None outside CKAN mode, where having
    ``get_signal_subscriptions`` is enough)."""

    name: str
    spec: str
    obj: Any
    isignal: bool | None = None


class Registry:
    """Everything the loader found: signals (in display order), load errors,
    plugins, and the config they came from."""

    def __init__(
        self, signals: list[SignalInfo], errors: list[LoadError], plugins: list[LoadedPlugin],
        config_path: str | None = None, duplicates: list[Duplicate] | None = None,
    ) -> None:
        self.signals = signals
        self.errors = errors
        self.plugins = plugins
        self.config_path = config_path
        self.duplicates = duplicates or []
        #: set by the loader: whether a receiver is alive is final (every weak
        #: receiver that only a reference cycle kept alive has been collected,
        #: and every other one is surely alive), so checks need not collect again
        self.settled = False
        self._index: dict[int, dict[Hashable, Subscription]] = {}

    def provenance(self, signal: Signal, receiver_id: Hashable) -> Subscription | None:
        """The subscription that connected ``receiver_id`` to ``signal``, if known."""
        return self.receivers_of(signal).get(receiver_id)

    def receivers_of(self, signal: Signal) -> dict[Hashable, Subscription]:
        """``signal``'s subscriptions by receiver id (the first, for a receiver
        connected for several senders)."""
        index = self._index.get(id(signal))
        if index is None:
            index = {}
            for info in self.signals:
                if info.signal is signal:
                    for sub in info.subscriptions:
                        index.setdefault(sub.receiver_id, sub)
            self._index[id(signal)] = index
        return index

    def names(self) -> list[str]:
        """Every signal name, sorted."""
        return sorted({info.name for info in self.signals})

    def find(self, name: str, namespace: str | None = None) -> SignalInfo:
        """The signal called ``name`` (in ``namespace``), or a domain error with
        suggestions."""
        matches = [
            info for info in self.signals
            if info.name == name and (namespace is None or info.namespace == namespace)
        ]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise AmbiguousSignal(name, [str(m.namespace) for m in matches])
        pool = [i.name for i in self.signals if namespace is None or i.namespace == namespace]
        # Let people type the attribute name of a core signal (action_succeeded).
        for info in self.signals:
            if info.core and info.core.attribute == name and info.name != name and (
                namespace is None or info.namespace == namespace
            ):
                return info
        import difflib

        raise SignalNotFound(name, namespace, difflib.get_close_matches(name, pool, n=3))

    def select(
        self,
        pattern: str | None = None,
        namespace: str | None = None,
        plugin: str | None = None,
        subscribed: bool = False,
    ) -> list[SignalInfo]:
        """Signals matching ``pattern`` (a glob, else a substring), ``namespace``,
        having a receiver from ``plugin``, or any receiver at all."""
        result = []
        for info in self.signals:
            if namespace is not None and info.namespace != namespace:
                continue
            if pattern and not _matches(pattern, info):
                continue
            subs = info.subscriptions
            if plugin is not None:
                subs = [s for s in subs if _from_plugin(s.plugin, plugin)]
                if not subs:
                    continue
            if subscribed and not subs:
                continue
            if subs is not info.subscriptions:
                info = info.with_subscriptions(subs)
            result.append(info)
        return result


    def why_empty(self, pattern: str | None = None, namespace: str | None = None,
                  plugin: str | None = None) -> str | None:
        """Why :meth:`select` found nothing for the filters a person typed:
        the first filter that matches nothing on its own, with the closest
        names (None when each matches something alone, as ``--subscribed`` can
        leave nothing)."""
        import difflib

        def closest(wanted: str, pool: set[str]) -> str:
            near = difflib.get_close_matches(wanted, sorted(pool), n=3, cutoff=0.5)
            return f"; closest: {', '.join(near)}" if near else ""

        spaces = {str(info.namespace) for info in self.signals}
        if namespace is not None and namespace not in spaces:
            return (f"no signal in namespace {namespace!r} (namespaces: "
                    f"{', '.join(sorted(spaces))})")
        if pattern and not self.select(pattern, namespace):
            names = {n for info in self.signals if namespace in (None, info.namespace)
                     for n in [info.name] + ([info.core.attribute] if info.core else [])}
            return f"no signal matches {pattern!r}{closest(pattern, names)}"
        if plugin is not None and not self.select(pattern, namespace, plugin):
            plugins = {p.name for p in self.plugins} | {
                s.plugin for info in self.signals for s in info.subscriptions if s.plugin}
            if not any(_from_plugin(name, plugin) for name in plugins):
                return f"no plugin named {plugin!r}{closest(plugin, plugins)}"
            return f"plugin {plugin!r} has no receiver on the signals selected"
        return None


def _from_plugin(name: str | None, wanted: str) -> bool:
    # A module entry "pkg.mod" names its plugins "pkg.mod:Class"; either selects.
    return name is not None and (name == wanted or name.startswith(wanted + ":"))


def _matches(pattern: str, info: SignalInfo) -> bool:
    names = [info.name] + ([info.core.attribute] if info.core else [])
    if any(ch in pattern for ch in "*?["):
        return any(fnmatch.fnmatchcase(n, pattern) for n in names)
    return any(pattern in n for n in names)
