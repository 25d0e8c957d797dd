"""Send sites: which code sends which signal, with which sender and arguments.

:func:`build_index` resolves the per-file facts of :mod:`ckansig.sends.scan`
across files: ``signals.user_created.send(...)`` in ``ckan/logic/action/create.py``
is ``ckan:user_created`` because ``signals`` is imported from
``ckan.lib.signals``, which binds ``user_created = ckan.signal("user_created")``.
The result is a :class:`SendIndex`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from ckansig.catalog import CORE_SIGNALS
from ckansig.model import signal_key

__all__ = ["SendIndex", "SendSite", "Sent", "build_index"]

_CORE_ATTRIBUTES = {s.attribute: (s.namespace, s.name) for s in CORE_SIGNALS}


class SendSite(NamedTuple):
    """One place that sends a signal. ``name`` is None when the name is only
    known as ``pattern`` (an f-string, or a variable: ``.*``). ``sender`` is
    the sender's source text (None: no sender, so blinker sends None);
    ``kwargs`` the keyword names passed, None when unknown (``**mapping``, or
    a ``forward`` of another signal). ``via`` names the wrapper function a
    site goes through."""

    namespace: str | None
    name: str | None
    pattern: str | None
    file: str
    line: int
    method: str  # send, send_async, send_robust, or forward (connected to another signal)
    sender: str | None
    kwargs: tuple[str, ...] | None
    via: str | None = None

    @property
    def key(self) -> str:
        """``namespace:name`` (the pattern for a name not known)."""
        return signal_key(self.namespace, self.name if self.name is not None
                          else f"/{self.pattern}/")


class Sent(NamedTuple):
    """The keyword arguments a signal's send sites pass: ``always`` by every
    site, ``ever`` by at least one."""

    always: frozenset[str]
    ever: frozenset[str]
    sites: int


class SendIndex:
    """Every send site found, by signal."""

    def __init__(self, sites: list[SendSite], files: int) -> None:
        self.sites = sites
        self.files = files
        self._exact: dict[tuple[str | None, str], list[SendSite]] = {}
        self._patterns: list[tuple[re.Pattern[str], SendSite]] = []
        for site in sites:
            if site.name is not None:
                self._exact.setdefault((site.namespace, site.name), []).append(site)
            elif site.pattern is not None:
                try:
                    self._patterns.append((re.compile(site.pattern, re.S), site))
                except re.error:  # pragma: no cover - patterns are escaped text and .*
                    continue

    def sites_of(self, namespace: str | None, name: str) -> list[SendSite]:
        """The sites that send ``name``: by that name, then those whose name
        is a pattern it matches."""
        found = list(self._exact.get((namespace, name), ()))
        found += [site for pattern, site in self._patterns
                  if site.namespace == namespace and pattern.fullmatch(name)]
        return found

    def sent(self, namespace: str | None, name: str) -> Sent | None:
        """What the sites of ``name`` pass; None when that is not known: no
        site sends it by name, or one passes ``**mapping`` or forwards."""
        sites = self._exact.get((namespace, name))
        if not sites or any(site.kwargs is None for site in sites):
            return None
        first = frozenset(sites[0].kwargs or ())
        always, ever = first, first
        for site in sites[1:]:
            names = frozenset(site.kwargs or ())
            always &= names
            ever |= names
        return Sent(always, ever, len(sites))

    def names(self, namespace: str | None) -> set[str]:
        """The names sent by name in ``namespace``."""
        return {name for ns, name in self._exact if ns == namespace}


#: One file's facts: (module, facts as :func:`ckansig.sends.scan.file_facts` gives them)
FileFacts = tuple[str, Mapping[str, Any]]


def build_index(files: Mapping[str, FileFacts]) -> SendIndex:
    """Resolve every file's sends (and calls of wrappers) to signals."""
    return _Resolver(files).index()


class _Resolver:
    def __init__(self, files: Mapping[str, FileFacts]) -> None:
        self.files = files
        self.by_module: dict[tuple[str, str], list[Any]] = {}
        by_name: dict[str, set[tuple[Any, ...]]] = {}
        self.wrappers: dict[str, list[tuple[str, list[Any]]]] = {}
        for path, (module, facts) in files.items():
            for name, made in facts["defs"].items():
                self.by_module[(module, name)] = made
                by_name.setdefault(name, set()).add(tuple(made))
            for name, wrapper in facts["wrappers"].items():
                self.wrappers.setdefault(name, []).append((path, wrapper))
        self.unique = {name: list(made.pop()) for name, made in by_name.items()
                       if len(made) == 1}

    def index(self) -> SendIndex:
        sites: list[SendSite] = []
        for path, (_, facts) in self.files.items():
            for ref, method, line, sender, kwargs in facts["sends"]:
                made = self.resolve(ref, facts)
                if made is not None:
                    sites.append(SendSite(made[1], made[2], made[3], path, line, method, sender,
                                          None if kwargs is None else tuple(kwargs)))
            for call in facts["calls"]:
                site = self._wrapped(path, facts, call)
                if site is not None:
                    sites.append(site)
        sites.sort(key=lambda s: (s.namespace or "", s.name or "", s.file, s.line))
        return SendIndex(sites, len(self.files))

    def resolve(self, ref: list[Any], facts: Mapping[str, Any]) -> list[Any] | None:
        """The ``["call", namespace, name, pattern]`` that ``ref`` stands for."""
        kind = ref[0]
        if kind == "call":
            return ref
        if kind == "name":
            name = ref[1]
            made = facts["defs"].get(name)
            if made is not None:
                return list(made)
            target = facts["imports"].get(name)
            if target is None or "." not in target:
                return None
            module, _, attribute = target.rpartition(".")
            return self._attribute(module, attribute, module.split("."))
        if kind == "attr":
            chain: list[str] = ref[1]
            base, attribute = chain[:-1], chain[-1]
            imported = facts["imports"].get(base[0])
            module = ".".join([imported, *base[1:]]) if imported else None
            found = self._attribute(module, attribute, base)
            if found is None and (imported or base[0] in ("self", "cls")):
                # bound once anywhere: an attribute of a module imported by another path
                found = self.unique.get(attribute)
            return found
        return None

    def _attribute(self, module: str | None, attribute: str,
                   base: list[str]) -> list[Any] | None:
        if module is not None:
            made = self.by_module.get((module, attribute))
            if made is not None:
                return list(made)
        if base and base[-1] == "signals" and attribute in _CORE_ATTRIBUTES:
            namespace, name = _CORE_ATTRIBUTES[attribute]
            return ["call", namespace, name, None]
        return None

    def _wrapped(self, path: str, facts: Mapping[str, Any], call: list[Any]) -> SendSite | None:
        callee, index, ref, line, args, kwargs = call
        candidates = self.wrappers.get(callee)
        if not candidates:
            return None
        # the wrapper in the same file, else the only one of that name
        own = [w for p, w in candidates if p == path]
        if own:
            wrapper = own[0]
        elif len(candidates) == 1:
            wrapper = candidates[0][1]
        else:
            return None
        param, inner, passes, sender_param, sender, _, positional = wrapper
        shift = 1 if positional and positional[0] in ("self", "cls") else 0
        if param - shift != index:
            return None
        made = self.resolve(ref, facts)
        if made is None:
            return None
        names: tuple[str, ...] | None = None
        if inner is not None and (not passes or kwargs is not None):
            bound = set(positional)
            names = tuple(dict.fromkeys(
                [*inner, *([k for k in kwargs if k not in bound] if passes else [])]))
        if sender_param is not None:
            at = sender_param - shift
            if at >= 0:  # else the wrapper sends its own self
                sender = args[at] if at < len(args) else None
        return SendSite(made[1], made[2], made[3], path, line, "send", sender, names,
                        via=callee)

