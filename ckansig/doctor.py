"""Check the subscription map against CKAN's rules and blinker's behaviour.

:func:`diagnose` returns a :class:`Report` of :class:`Problem` records (data,
not text); ``render`` turns it into text, JSON or GitHub annotations. The
checks and their IDs are catalogued in :mod:`ckansig.checks`.
"""

from __future__ import annotations

import fnmatch
import gc
import linecache
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from ckansig import static
from ckansig.catalog import CORE_SIGNALS, KNOWN_RELEASES, CoreSignal
from ckansig.checks import CHECKS, SEVERITY_RANK
from ckansig.config import Config
from ckansig.inspection import call_shape
from ckansig.names import NameIndex
from ckansig.registry import LoadError, Registry, SignalInfo, Subscription

__all__ = ["Problem", "Report", "default_ckan_version", "diagnose"]

_LOAD_ERROR_CHECKS = {
    "module_not_found": "SIG001", "import_error": "SIG001", "attribute_missing": "SIG001",
    "not_a_plugin": "SIG001", "plugin_init_failed": "SIG001",
    "subscriptions_raised": "SIG002", "subscriptions_malformed": "SIG002",
    "bad_signal_key": "SIG003",
    "entry_malformed": "SIG004", "connect_failed": "SIG004",
    "not_callable": "SIG005",
}

# Senders blinker compares by identity although equal values look "the same".
_VALUE_LIKE = frozenset({"float", "complex", "list", "dict", "tuple", "set", "frozenset",
                         "bytes", "bytearray", "Decimal"})


class Problem(NamedTuple):
    """One finding. ``silenced`` tells whether (and how) it was silenced."""

    id: str
    severity: str
    message: str
    hint: str
    plugin: str | None = None
    signal: str | None = None
    namespace: str | None = None
    receiver: str | None = None
    file: str | None = None
    line: int | None = None
    silenced: str | None = None  # "--ignore", "config", "comment" or None


class Report(NamedTuple):
    """Every problem found, and what they were checked against."""

    problems: list[Problem]
    ckan_version: tuple[int, int]

    def active(self) -> list[Problem]:
        return [p for p in self.problems if p.silenced is None]

    def summary(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0, "silenced": 0}
        for problem in self.problems:
            counts["silenced" if problem.silenced else problem.severity] += 1
        return counts

    def fails(self, level: str) -> bool:
        """Whether any active problem is at or above ``level``."""
        floor = SEVERITY_RANK[level]
        return any(SEVERITY_RANK[p.severity] >= floor for p in self.active())


def default_ckan_version() -> tuple[int, int]:
    """The installed CKAN's release, else the newest release ckansig knows."""
    from ckansig.signals import REAL_CKAN

    if REAL_CKAN:
        try:
            import ckan

            major, minor = str(ckan.__version__).split(".")[:2]
            return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)
        except (ImportError, AttributeError, ValueError):
            pass
    return KNOWN_RELEASES[-1]


def diagnose(
    registry: Registry,
    config: Config | None = None,
    *,
    ckan_version: tuple[int, int] | None = None,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    collect_garbage: bool = True,
) -> Report:
    """Run every check on ``registry`` and return the problems found.

    ``select`` keeps only those check IDs; ``ignore`` (and the config's
    ``[ckansig.doctor]`` settings and ``# ckansig: ignore[...]`` comments)
    marks problems as silenced rather than dropping them, so that the summary
    can count them. Garbage is collected first, so that receivers blinker has
    silently dropped are found (SIG007).
    """
    settings = config.doctor if config is not None else None
    release = ckan_version or (settings.ckan_version if settings else None) \
        or default_ckan_version()
    if collect_garbage:
        gc.collect()
    doctor = _Doctor(registry, config, release)
    problems = doctor.run()
    chosen = set(select) or set(settings.select if settings else ())
    if chosen:
        problems = [p for p in problems if p.id in chosen]
    ignored = set(ignore)
    configured = set(settings.ignore if settings else ())
    per_receiver = settings.per_receiver if settings else {}
    result = []
    for problem in problems:
        reason = None
        if problem.id in ignored:
            reason = "--ignore"
        elif problem.id in configured or _receiver_silenced(problem, per_receiver):
            reason = "config"
        elif _comment_silenced(problem, doctor.def_lines.get((problem.file, problem.receiver))):
            reason = "comment"
        result.append(problem._replace(silenced=reason))
    result.sort(key=lambda p: (-SEVERITY_RANK[p.severity], p.id, p.plugin or "", p.signal or "",
                               p.receiver or "", p.file or "", p.line or 0))
    return Report(result, release)


def _receiver_silenced(problem: Problem, per_receiver: Mapping[str, Sequence[str]]) -> bool:
    if not problem.receiver:
        return False
    return any(
        fnmatch.fnmatchcase(problem.receiver, pattern) and (problem.id in ids or "*" in ids)
        for pattern, ids in per_receiver.items()
    )


def _comment_silenced(problem: Problem, def_line: int | None) -> bool:
    ids = static.silenced(problem.file, problem.line, def_line)
    return bool(ids) and (problem.id in ids or "*" in ids)  # type: ignore[operator]


class _Doctor:
    def __init__(self, registry: Registry, config: Config | None,
                 release: tuple[int, int]) -> None:
        self.registry = registry
        self.config = config
        self.release = release
        self.problems: list[Problem] = []
        self.def_lines: dict[tuple[str | None, str | None], int | None] = {}
        self.spec_sites = {s.text: (s.source or config.path, s.line)
                           for s in config.plugins} if config else {}
        self.known_names: dict[str | None, NameIndex] = {}

    def add(self, check_id: str, message: str, *, severity: str | None = None,
            sub: Subscription | None = None, info: SignalInfo | None = None,
            **fields: Any) -> None:
        check = CHECKS[check_id]
        if sub is not None:
            fields.setdefault("plugin", sub.plugin)
            fields.setdefault("signal", sub.signal)
            fields.setdefault("namespace", sub.namespace)
            fields.setdefault("receiver", sub.receiver.name)
            fields.setdefault("file", sub.receiver.file or sub.declared_file)
            fields.setdefault("line", sub.receiver.line if sub.receiver.file
                              else sub.declared_line)
            self.def_lines[(fields["file"], fields["receiver"])] = sub.receiver.line
        if info is not None:
            fields.setdefault("signal", info.name)
            fields.setdefault("namespace", info.namespace)
        self.problems.append(Problem(check_id, severity or check.severity, message, check.hint,
                                     **fields))

    def run(self) -> list[Problem]:
        for error in self.registry.errors:
            self.load_error(error)
        for info in self.registry.signals:
            self.signal_checks(info)
            seen: set[Hashable] = set()
            for sub in info.subscriptions:
                self.subscription_checks(info, sub, first=sub.receiver_id not in seen)
                seen.add(sub.receiver_id)
        for dup in self.registry.duplicates:
            self.add("SIG013", f"{dup.receiver.name} is subscribed to {dup.signal!r} "
                     f"(sender {dup.sender.repr}) again by {dup.plugin}, after "
                     f"{dup.first_plugin or 'an earlier connection'}: blinker keeps one",
                     plugin=dup.plugin, signal=dup.signal, namespace=dup.namespace,
                     receiver=dup.receiver.name, file=dup.declared_file,
                     line=dup.declared_line)
        return self.problems

    # -- load errors -----------------------------------------------------------

    def load_error(self, error: LoadError) -> None:
        check_id = _LOAD_ERROR_CHECKS.get(error.kind, "SIG001")
        file, line = error.file, error.line
        if file is None:
            file, line = self.spec_sites.get(error.plugin, (None, None))
        self.add(check_id, error.message, plugin=error.plugin, signal=error.signal,
                 namespace=error.namespace, receiver=error.receiver, file=file, line=line)

    # -- signals -----------------------------------------------------------------

    def signal_checks(self, info: SignalInfo) -> None:
        subscribed = [s for s in info.subscriptions if s.alive]
        typo = None
        if info.core is None and (subscribed or info.mentioned_by):
            typo = self.close_name(info)
        first = subscribed[0] if subscribed else (
            info.subscriptions[0] if info.subscriptions else None)
        if info.namespace == "ckan" and info.core is None:
            hint = f"; did you mean {typo}?" if typo else ""
            self.add("SIG009", f"{info.name!r} is not a core signal, but it is in the ckan "
                     f"namespace, where only core signals live{hint} Custom signals belong "
                     "in ckanext.", sub=first, info=info, receiver=None,
                     plugin=first.plugin if first else info.defined_by)
        elif typo:
            self.add("SIG009", f"{info.key!r} is one edit away from {typo!r}: did you mean "
                     f"{typo}?", sub=first, info=info, receiver=None)
        if info.core is not None and subscribed and not info.core.sent_in(self.release):
            self.add("SIG010", self.never_sent(info.core), sub=subscribed[0], info=info,
                     receiver=None)
        if (info.namespace == "ckanext" and info.core is None and info.defined_by is None
                and subscribed and not typo):
            plugins = ", ".join(sorted({s.plugin or "?" for s in subscribed}))
            self.add("SIG011", f"{info.name!r} is only looked up by subscribers ({plugins}); "
                     "no loaded module defines it, so unless its provider is installed it "
                     "is never sent", sub=subscribed[0], info=info, receiver=None)
        if (info.namespace == "ckanext" and info.core is None and info.defined_module
                and info.defined_by not in (None, "preloaded", "core")):
            self.prefix_check(info)

    def close_name(self, info: SignalInfo) -> str | None:
        """A known name in ``info``'s namespace one edit away from its name."""
        index = self.known_names.get(info.namespace)
        if index is None:
            names = {s.name for s in CORE_SIGNALS if s.namespace == info.namespace}
            names |= {s.attribute for s in CORE_SIGNALS if s.namespace == info.namespace}
            names |= {other.name for other in self.registry.signals
                      if other.namespace == info.namespace and other.defined_by is not None}
            index = self.known_names[info.namespace] = NameIndex(names)
        return index.one_edit_from(info.name)

    def never_sent(self, core: CoreSignal) -> str:
        version = f"{self.release[0]}.{self.release[1]}"
        if core.since is None:
            return (f"{core.attribute} is in CKAN's guide but no CKAN release sends it; "
                    f"use {core.replacement} (CKAN 2.11+)")
        return (f"CKAN {version} does not send {core.attribute} (sent from CKAN "
                f"{core.since[0]}.{core.since[1]} on)")

    def prefix_check(self, info: SignalInfo) -> None:
        module = info.defined_module or ""
        parts = module.split(".")
        extension = parts[1] if parts[0] == "ckanext" and len(parts) > 1 else parts[0]
        if info.name.startswith(extension):
            return
        file, line = _binding_site(module, info.name)
        self.add("SIG012", f"{info.name!r} is defined by {module} but does not start with "
                 f"its extension's name {extension!r}", info=info, plugin=info.defined_by,
                 file=file, line=line)

    # -- receivers -----------------------------------------------------------------

    def subscription_checks(self, info: SignalInfo, sub: Subscription, first: bool) -> None:
        receiver = sub.ref() if sub.alive else None
        if receiver is None:
            if sub.weak:
                self.add("SIG007", f"{sub.receiver.name} ({sub.receiver.kind}) was connected "
                         f"weakly to {info.name!r} and has been garbage-collected: it never "
                         "runs", sub=sub)
            return
        self.sender_checks(info, sub)
        if not first:
            return  # the same receiver for another sender: checked once
        if sub.via == "import":
            self.add("SIG014", f"{sub.receiver.name} is connected to {info.name!r} when "
                     f"{sub.plugin} is imported, not through ISignal", sub=sub)
        if sub.receiver.is_async:
            self.add("SIG008", f"{sub.receiver.name} is a coroutine function: Signal.send() "
                     f"raises RuntimeError when it reaches it on {info.name!r}", sub=sub)
        self.signature_check(info, sub, receiver)
        for finding in static.analyse(receiver, sub.receiver.file, sub.receiver.line):
            if finding.kind == "mutates":
                self.add("SIG016", f"{sub.receiver.name} {finding.what}: it modifies its "
                         "arguments", sub=sub, line=finding.line)
            else:
                self.add("SIG016", f"{sub.receiver.name} {finding.what}; CKAN does not "
                         "guarantee which arguments are sent", sub=sub, line=finding.line,
                         severity="info")

    def sender_checks(self, info: SignalInfo, sub: Subscription) -> None:
        sender = sub.sender
        if sender.kind == "object" and sender.type in _VALUE_LIKE:
            self.add("SIG015", f"{sub.receiver.name} filters {info.name!r} by the "
                     f"{sender.type} {sender.repr}: blinker compares it by identity, and a "
                     "value sent later is a different object", sub=sub)
        elif info.core is not None and info.core.sender_kind == "app" and sender.kind == "value":
            self.add("SIG015", f"{sub.receiver.name} filters {info.name!r} by "
                     f"{sender.repr}, but CKAN sends {info.name} from the Flask app, never "
                     f"a {sender.type}", sub=sub)

    def signature_check(self, info: SignalInfo, sub: Subscription, receiver: Any) -> None:
        shape = call_shape(receiver)
        if shape is None:
            return
        positional, required, keywords, required_kw, varargs, varkw = shape
        sends = info.core.kwargs if info.core is not None else None
        sent = set(sends or ())
        name = sub.receiver.name
        if not positional and not varargs:
            self.add("SIG006", f"{name} has no positional parameter for the sender: "
                     f"{info.name!r} calls it as receiver(sender, **kwargs)", sub=sub)
            return
        extra = [p for p in required[1:] if p not in sent]
        if extra:
            self.add("SIG006", f"{name} requires {', '.join(extra)} besides the sender, "
                     f"which {info.name!r} does not send", sub=sub)
        missing_kw = [p for p in required_kw if p not in sent]
        if missing_kw:
            self.add("SIG006", f"{name} requires keyword argument(s) {', '.join(missing_kw)}, "
                     f"which {info.name!r} does not send", sub=sub)
        if varkw:
            return
        accepted = set(positional[1:]) | set(keywords)
        refused = [k for k in (sends or ()) if k not in accepted]
        if refused:
            self.add("SIG006", f"{name} has no **kwargs and cannot take {', '.join(refused)}, "
                     f"which {info.name!r} sends", sub=sub)
        elif not extra and not missing_kw:
            what = ("whose keyword arguments are not documented" if sends is None
                    else "which may send more in a later release")
            self.add("SIG006", f"{name} has no **kwargs on {info.name!r}, {what}: receivers "
                     "must accept arbitrary keyword arguments", sub=sub, severity="warning")


def _binding_site(module: str, name: str) -> tuple[str | None, int | None]:
    """The file of ``module`` and the first line that mentions ``name`` quoted."""
    import sys

    file = getattr(sys.modules.get(module), "__file__", None)
    if not file:
        return None, None
    for number, text in enumerate(linecache.getlines(file), 1):
        if f'"{name}"' in text or f"'{name}'" in text:
            return file, number
    return file, None
