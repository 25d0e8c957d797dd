"""What the pytest plugin watches across a session: receivers a test leaves
connected (the leak guard), and which subscribed receivers ever ran (signal
coverage). Both keep names and counts, never a send's arguments."""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from typing import Any, NamedTuple

from ckansig.isolation import GC
from ckansig.testing.wiring import Connected, connected, module_of

__all__ = ["Coverage", "Leak", "LeakGuard", "SignalLeakWarning", "plugin_of"]


class SignalLeakWarning(UserWarning):
    """A test left receivers connected to CKAN's signals that were not there
    before it (``--signals-leaks=warn``, the default)."""


class Leak(NamedTuple):
    signal: str
    receiver: str


def _key(item: Connected) -> str:
    from ckansig.model import signal_key
    from ckansig.watching.recorder import signal_identity

    return signal_key(*signal_identity(item.signal))


def _name(receiver: Any) -> str:
    from ckansig.loading.describing import describe

    return describe(receiver).name


class LeakGuard:
    """Receivers connected before a test, to compare with those connected
    after its teardown (fixtures such as CKAN's ``with_plugins`` included)."""

    def __init__(self) -> None:
        self.before: set[tuple[int, Hashable]] | None = None

    def start(self) -> None:
        from ckansig.testing.wiring import signals

        found = signals()
        self.before = set(connected(found)) if found is not None else None

    def leaks(self) -> list[Leak]:
        """What is connected now and was not before (none when the signals
        were first imported during the test: nothing was known before)."""
        if self.before is None:
            return []
        new = [key for key in connected() if key not in self.before]
        if new:  # a receiver only a reference cycle keeps is not a leak: collect, look again
            GC.collect()
            now = connected()
            found = [now[key] for key in new if key in now]
        else:
            found = []
        return sorted({Leak(_key(item), _name(item.receiver)) for item in found})


def plugin_of(receiver: Any) -> str:
    """The extension a receiver belongs to, for coverage: ``ckanext.<name>``
    for a CKAN extension, else its top-level package."""
    parts = module_of(receiver).split(".")
    if parts[0] == "ckanext" and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0] or "(unknown)"


class Coverage:
    """Which subscribed receivers ran during the session: every receiver seen
    connected when a test started, and every receiver a recorded send reached."""

    def __init__(self) -> None:
        #: (signal key, receiver name) -> plugin, for every receiver seen subscribed
        self.subscribed: dict[tuple[str, str], str] = {}
        self.ran: set[tuple[str, str]] = set()
        self._named: dict[Hashable, str] = {}

    def note_subscribed(self) -> None:
        for item in connected().values():
            self.subscribed.setdefault((_key(item), self._receiver(item.receiver)),
                                       plugin_of(item.receiver))

    def note_ran(self, key: str, receiver: Any) -> None:
        self.ran.add((key, self._receiver(receiver)))

    def _receiver(self, receiver: Any) -> str:
        from ckansig.loading.blinker_state import make_id

        rid = make_id(receiver)
        name = self._named.get(rid)
        if name is None:
            name = self._named[rid] = _name(receiver)
        return name

    def per_plugin(self) -> dict[str, tuple[int, list[tuple[str, str]]]]:
        """plugin -> (receivers subscribed, those that never ran), by plugin name."""
        result: dict[str, tuple[int, list[tuple[str, str]]]] = {}
        for where, plugin in sorted(self.subscribed.items(), key=lambda kv: (kv[1], kv[0])):
            total, never = result.get(plugin, (0, []))
            if where not in self.ran:
                never.append(where)
            result[plugin] = (total + 1, never)
        return result

    def percent(self) -> float:
        total = len(self.subscribed)
        ran = sum(1 for where in self.subscribed if where in self.ran)
        return 100.0 if total == 0 else 100.0 * ran / total

    def to_json(self) -> dict[str, Any]:
        plugins = self.per_plugin()
        return {
            "version": 1,
            "receivers": len(self.subscribed),
            "ran": sum(1 for where in self.subscribed if where in self.ran),
            "percent": round(self.percent(), 2),
            "plugins": {
                plugin: {"receivers": total, "never_ran": [
                    {"signal": signal, "receiver": receiver} for signal, receiver in never]}
                for plugin, (total, never) in plugins.items()},
        }

    def write_json(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as stream:
            json.dump(self.to_json(), stream, indent=2)
            stream.write("\n")


def summary_lines(coverage: Coverage) -> list[str]:
    """"3 of 12 receivers never ran", then per plugin."""
    plugins: Mapping[str, tuple[int, list[tuple[str, str]]]] = coverage.per_plugin()
    total = len(coverage.subscribed)
    never = sum(len(n) for _, n in plugins.values())
    lines = [f"{never} of {total} subscribed receiver(s) never ran "
             f"({coverage.percent():.1f}% ran)"]
    for plugin, (count, missing) in plugins.items():
        lines.append(f"  {plugin}: {len(missing)} of {count} never ran")
        lines += [f"    {receiver} on {signal}" for signal, receiver in missing[:10]]
        if len(missing) > 10:
            lines.append(f"    ... and {len(missing) - 10} more")
    return lines
