"""Snapshots of a send's arguments, to tell which of them a receiver modified."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

__all__ = ["Snapshot", "top_level_keys"]

_PLAIN = (str, int, float, bool, type(None))


def _comparable(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is plain data whose copies compare equal (JSON-like)."""
    if depth > 50:
        return False
    if isinstance(value, _PLAIN):
        return not (isinstance(value, float) and value != value)  # NaN never equals itself
    if isinstance(value, dict):
        return all(isinstance(k, _PLAIN) and _comparable(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_comparable(v, depth + 1) for v in value)
    return False


class Snapshot:
    """A deep copy of the sender and keyword arguments, to tell which of them a
    receiver modified. Only plain data (JSON-like values) can be checked;
    other values are listed in ``unchecked``."""

    def __init__(self, sender: Any, kwargs: Mapping[str, Any]) -> None:
        self.keys = tuple(k for k, v in kwargs.items() if _comparable(v))
        self.unchecked = tuple(k for k in kwargs if k not in self.keys)
        self.all_keys = len(self.keys) == len(kwargs)
        self.check_sender = not isinstance(sender, (str, int, float, bool, type(None))) and \
            _comparable(sender)
        self.take(sender, kwargs)

    def take(self, sender: Any, kwargs: Mapping[str, Any]) -> None:
        """Copy the current state (after a change has been reported)."""
        self.kwargs = copy.deepcopy(self._view(kwargs))
        self.sender = copy.deepcopy(sender) if self.check_sender else None

    def _view(self, kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
        return kwargs if self.all_keys else {k: kwargs[k] for k in self.keys}

    def changed(self, sender: Any, kwargs: Mapping[str, Any]) -> bool:
        """Whether anything differs from the copy (fast: one C-level comparison)."""
        return self._view(kwargs) != self.kwargs or (
            self.check_sender and sender != self.sender)

    def changes(self, sender: Any, kwargs: Mapping[str, Any]) -> list[str]:
        """Paths that differ from the copy, such as ``user.name`` or ``records[0]``."""
        paths: list[str] = []
        if self.check_sender:
            _diff(self.sender, sender, "sender", paths)
        for key in self.keys:
            _diff(self.kwargs[key], kwargs[key], key, paths)
        return paths


def _diff(before: Any, after: Any, path: str, out: list[str]) -> None:
    if type(before) is not type(after) and not (
        isinstance(before, dict) and isinstance(after, dict)
    ):
        out.append(path)
    elif isinstance(before, dict):
        for key in sorted(before.keys() | after.keys(), key=str):
            child = f"{path}.{key}"
            if key not in before or key not in after:
                out.append(child)
            else:
                _diff(before[key], after[key], child, out)
    elif isinstance(before, (list, tuple)):
        if len(before) != len(after):
            out.append(path)
        else:
            for index, (b, a) in enumerate(zip(before, after, strict=True)):
                _diff(b, a, f"{path}[{index}]", out)
    elif before != after:
        out.append(path)


def top_level_keys(paths: tuple[str, ...]) -> tuple[str, ...]:
    """``("user.name", "user.id", "records[0]")`` → ``("user", "records")``."""
    return tuple(dict.fromkeys(path.split(".", 1)[0].split("[", 1)[0] for path in paths))
