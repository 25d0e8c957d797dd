"""How checks are registered and what they see.

A check is one function registered against its catalogue entry, as Django
registers its system checks::

    @check("SIG008", RECEIVER)
    def coroutine_receiver(ctx, info, sub, receiver):
        if sub.receiver.is_async:
            ctx.report("... is a coroutine function ...", sub=sub)

The scope says what the function is called with, once per item:

- ``LOAD_ERROR``: ``(ctx, error)`` for every load error;
- ``SIGNAL``: ``(ctx, info)`` for every signal;
- ``DROPPED``: ``(ctx, info, sub)`` for every receiver garbage-collected since it was connected;
- ``CONNECTION``: ``(ctx, info, sub, receiver)`` for every live receiver and sender;
- ``RECEIVER``: ``(ctx, info, sub, receiver)`` once per live receiver of a signal;
- ``DUPLICATE``: ``(ctx, duplicate)`` for every receiver subscribed twice;
- ``PLUGIN``: ``(ctx, plugin)`` for every plugin loaded (a ``LoadedPlugin``).

Only the selected checks run (``--select`` skips the others).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Literal, NamedTuple

from ckansig.catalog import CORE_SIGNALS
from ckansig.config.settings import Config
from ckansig.doctor.catalogue import CHECKS, Check, Severity
from ckansig.doctor.names import NameIndex
from ckansig.doctor.problems import Problem
from ckansig.errors import exc_text, raise_site
from ckansig.isolation import plugin_code
from ckansig.model import LoadedPlugin, Registry, SignalInfo, Subscription
from ckansig.sends.index import SendIndex, Sent

__all__ = ["CONNECTION", "DROPPED", "DUPLICATE", "LOAD_ERROR", "PLUGIN", "RECEIVER",
           "REGISTERED", "SIGNAL", "CheckContext", "Registered", "Scope", "Shared", "check",
           "run_checks"]

Scope = Literal["load_error", "signal", "dropped", "connection", "receiver", "duplicate",
                "plugin"]
LOAD_ERROR: Scope = "load_error"
SIGNAL: Scope = "signal"
DROPPED: Scope = "dropped"
CONNECTION: Scope = "connection"
RECEIVER: Scope = "receiver"
DUPLICATE: Scope = "duplicate"
PLUGIN: Scope = "plugin"


class Registered(NamedTuple):
    """A check function, its catalogue entry and its scope."""

    check: Check
    scope: Scope
    run: Callable[..., None]


#: check ID -> the function registered for it
REGISTERED: dict[str, Registered] = {}


def check(check_id: str, scope: Scope) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register the decorated function as the check ``check_id`` of the catalogue."""
    entry = CHECKS[check_id]  # a KeyError here: the ID is not in the catalogue

    def register(func: Callable[..., None]) -> Callable[..., None]:
        if check_id in REGISTERED:
            raise ValueError(f"{check_id} is registered twice")
        REGISTERED[check_id] = Registered(entry, scope, func)
        return func

    return register


class Shared:
    """What every check of one run shares: the registry and config, the
    release checked against, the problems found and cached lookups."""

    def __init__(self, registry: Registry, config: Config | None,
                 release: tuple[int, int]) -> None:
        self.registry = registry
        self.config = config
        self.release = release
        self.problems: list[Problem] = []
        #: (file, receiver) -> the line of the receiver's def, for silencing comments
        self.def_lines: dict[tuple[str | None, str | None], int | None] = {}
        self.spec_sites = {s.text: (s.source or config.path, s.line)
                           for s in config.plugins} if config else {}
        self._names: dict[str | None, NameIndex] = {}
        #: what a check computes once per run for every item (see checks.py)
        self.cache: dict[str, Any] = {}
        self._typos: dict[int, str | None] = {}
        self._sends: SendIndex | None = None
        self._unsent: dict[int, tuple[bool, str | None]] = {}
        self._sent: dict[int, Sent | None] = {}
        self._sent_names: dict[str | None, NameIndex] = {}

    def sends(self) -> SendIndex:
        """The send sites in the source of CKAN and the extensions (read once
        per run, from the per-file cache)."""
        if self._sends is None:
            from ckansig.sends import send_index

            self._sends = send_index(self.registry, self.config)
        return self._sends

    def sent(self, info: SignalInfo) -> Sent | None:
        """The keyword arguments ``info`` is sent with: what its send sites
        pass, else (a core signal whose sites were not read, or are forwards)
        what the catalogue documents, else None: not known."""
        key = id(info)
        if key in self._sent:
            return self._sent[key]
        sent = self.sends().sent(info.namespace, info.name)
        if sent is None and info.core is not None:
            documented = frozenset(info.core.kwargs)
            sent = Sent(documented, documented, 0)
        self._sent[key] = sent
        return sent

    def unsent(self, info: SignalInfo) -> tuple[bool, str | None]:
        """Whether nothing sends ``info``, and if so a name that is sent one
        edit away from its name (worked out once per signal)."""
        key = id(info)
        found: tuple[bool, str | None] | None = self._unsent.get(key)
        if found is None:
            if self.sends().sites_of(info.namespace, info.name):
                found = (False, None)
            else:
                index = self._sent_names.get(info.namespace)
                if index is None:
                    index = self._sent_names[info.namespace] = NameIndex(
                        self.sends().names(info.namespace))
                found = (True, index.one_edit_from(info.name))
            self._unsent[key] = found
        return found

    def close_name(self, info: SignalInfo) -> str | None:
        """A known name in ``info``'s namespace one edit away from its name,
        for a signal that is not a core one and that someone subscribes to."""
        key = id(info)
        if key not in self._typos:
            typo = None
            if info.core is None and (
                any(s.alive for s in info.subscriptions) or info.mentioned_by
            ):
                typo = self._index(info.namespace).one_edit_from(info.name)
            self._typos[key] = typo
        return self._typos[key]

    def _index(self, namespace: str | None) -> NameIndex:
        index = self._names.get(namespace)
        if index is None:
            names = {s.name for s in CORE_SIGNALS if s.namespace == namespace}
            names |= {s.attribute for s in CORE_SIGNALS if s.namespace == namespace}
            names |= {other.name for other in self.registry.signals
                      if other.namespace == namespace and other.defined_by is not None}
            index = self._names[namespace] = NameIndex(names)
        return index


class CheckContext:
    """What one check sees: the shared state, and :meth:`report` for its findings."""

    def __init__(self, shared: Shared, entry: Check) -> None:
        self.shared = shared
        self.entry = entry
        self.registry = shared.registry
        self.release = shared.release
        self.close_name = shared.close_name

    def report(self, message: str, *, severity: Severity | None = None,
               sub: Subscription | None = None, info: SignalInfo | None = None,
               **fields: Any) -> None:
        """Record a finding of this check. ``sub`` and ``info`` fill in the
        plugin, signal, receiver, file and line unless ``fields`` name them."""
        if sub is not None:
            fields.setdefault("plugin", sub.plugin)
            fields.setdefault("signal", sub.signal)
            fields.setdefault("namespace", sub.namespace)
            fields.setdefault("receiver", sub.receiver.name)
            fields.setdefault("file", sub.receiver.file or sub.declared_file)
            fields.setdefault("line", sub.receiver.line if sub.receiver.file
                              else sub.declared_line)
            self.shared.def_lines[(fields["file"], fields["receiver"])] = sub.receiver.line
        if info is not None:
            fields.setdefault("signal", info.name)
            fields.setdefault("namespace", info.namespace)
        self.shared.problems.append(Problem(
            self.entry.id, severity or self.entry.severity, message, self.entry.hint, **fields))


class _Runs:
    """The checks of one scope, run on one item at a time. Plugin code that
    raises while a check inspects its objects (a property, ``__signature__``,
    ``__class__``) is a finding of that check about that plugin, reported once
    per object; the other checks still run. The ``try`` is set up once per
    item, not once per check."""

    def __init__(self, failed: set[int]) -> None:
        self.checks: list[tuple[Callable[..., None], CheckContext]] = []
        self.failed = failed

    def __call__(self, *args: Any) -> None:
        checks, index, count = self.checks, 0, len(self.checks)
        while index < count:
            with plugin_code() as guard:
                while index < count:
                    run, ctx = checks[index]
                    index += 1
                    run(ctx, *args)
            if guard.error is not None:
                self._report(checks[index - 1][1], guard.error, args)

    def _report(self, ctx: CheckContext, exc: BaseException, args: tuple[Any, ...]) -> None:
        item = args[-1]
        if id(item) in self.failed:
            return
        self.failed.add(id(item))
        sub = next((a for a in args if isinstance(a, Subscription)), None)
        file, line = raise_site(exc)
        message = f"could not be checked: inspecting it raised {exc_text(exc)}"
        fields: dict[str, Any] = {"file": file, "line": line} if file is not None else {}
        if isinstance(item, LoadedPlugin):
            fields["plugin"] = item.name
        ctx.report(message, severity="error", sub=sub, **fields)


def run_checks(shared: Shared, selected: Collection[str]) -> list[Problem]:
    """Run the ``selected`` checks over the registry, each item visited once."""
    failed: set[int] = set()  # the objects a check could not inspect: reported once each
    runs: dict[Scope, _Runs] = {
        scope: _Runs(failed)
        for scope in (LOAD_ERROR, SIGNAL, DROPPED, CONNECTION, RECEIVER, DUPLICATE, PLUGIN)}
    for check_id in sorted(selected):
        registered = REGISTERED[check_id]
        runs[registered.scope].checks.append(
            (registered.run, CheckContext(shared, registered.check)))
    registry = shared.registry
    on_error, on_signal, on_dropped = runs[LOAD_ERROR], runs[SIGNAL], runs[DROPPED]
    on_connection, on_receiver = runs[CONNECTION], runs[RECEIVER]
    for error in registry.errors:
        on_error(error)
    for info in registry.signals:
        on_signal(info)
        seen: set[Any] = set()
        for sub in info.subscriptions:
            receiver = sub.ref() if sub.alive else None
            first = sub.receiver_id not in seen
            seen.add(sub.receiver_id)
            if receiver is None:
                on_dropped(info, sub)
                continue
            on_connection(info, sub, receiver)
            if first:  # the same receiver for another sender: checked once
                on_receiver(info, sub, receiver)
    on_duplicate, on_plugin = runs[DUPLICATE], runs[PLUGIN]
    for duplicate in registry.duplicates:
        on_duplicate(duplicate)
    if on_plugin.checks:
        for plugin in registry.plugins:
            on_plugin(plugin)
    return shared.problems
