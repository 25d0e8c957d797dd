"""Snapshots of a send's arguments, to tell which of them a receiver modified."""

from __future__ import annotations

import copy
import marshal
from collections.abc import Mapping
from typing import Any

from ckansig.isolation import GC

__all__ = ["Snapshot", "top_level_keys"]

_PLAIN = (str, int, float, bool, type(None))
_EXACT_PLAIN = frozenset(_PLAIN)
_MAX_DEPTH = 50

#: what :func:`_kind` says of a value
_NOT_PLAIN, _PLAIN_DATA, _BUILTIN_DATA = 0, 1, 2


def _kind(value: Any) -> int:
    """Whether ``value`` is plain data whose copies compare equal (JSON-like),
    and whether it is made of the built-in types only (then ``marshal`` copies
    it, many times faster than ``deepcopy``). Walks one level at a time."""
    exact = True
    level = [value]
    for _ in range(_MAX_DEPTH + 1):
        deeper: list[Any] = []
        for item in level:
            kind = type(item)
            if kind is dict:
                if not all(type(k) in _EXACT_PLAIN for k in item):
                    if not all(isinstance(k, _PLAIN) for k in item):
                        return _NOT_PLAIN
                    exact = False
                deeper += item.values()
            elif kind is list or kind is tuple:
                deeper += item
            elif kind in _EXACT_PLAIN:
                if kind is float and item != item:  # NaN never equals itself
                    return _NOT_PLAIN
            elif isinstance(item, _PLAIN):  # a subclass: compares, but marshal would lose it
                if isinstance(item, float) and item != item:
                    return _NOT_PLAIN
                exact = False
            elif isinstance(item, dict) and all(isinstance(k, _PLAIN) for k in item):
                exact = False
                deeper += item.values()
            elif isinstance(item, (list, tuple)):
                exact = False
                deeper += item
            else:
                return _NOT_PLAIN
        if not deeper:
            return _BUILTIN_DATA if exact else _PLAIN_DATA
        level = deeper
    return _NOT_PLAIN  # nested deeper than is worth checking


def _comparable(value: Any) -> bool:
    """Whether ``value`` is plain data whose copies compare equal (JSON-like)."""
    return _kind(value) != _NOT_PLAIN


class Snapshot:
    """A deep copy of the sender and keyword arguments, to tell which of them a
    receiver modified. Only plain data (JSON-like values) can be checked;
    other values are listed in ``unchecked``."""

    def __init__(self, sender: Any, kwargs: Mapping[str, Any]) -> None:
        kinds = {k: _kind(v) for k, v in kwargs.items()}
        self.keys = tuple(k for k, kind in kinds.items() if kind != _NOT_PLAIN)
        self.builtin = all(kind == _BUILTIN_DATA for kind in kinds.values()) and all(
            type(k) is str for k in kinds)
        self.unchecked = tuple(k for k in kwargs if k not in self.keys)
        self.all_keys = len(self.keys) == len(kwargs)
        self.check_sender = not isinstance(sender, (str, int, float, bool, type(None))) and \
            _comparable(sender)
        self.take(sender, kwargs)

    def take(self, sender: Any, kwargs: Mapping[str, Any]) -> None:
        """Copy the current state (after a change has been reported). A value a
        receiver made into something that is no longer plain data (an object, a
        tuple key, a cycle) is not checked from then on: it moves to
        ``unchecked``, so that the receivers after it are never blamed for it."""
        if hasattr(self, "kwargs"):  # not the first copy: what changed may have left plain data
            still = tuple(k for k in self.keys if k in kwargs and _kind(kwargs[k]) != _NOT_PLAIN)
            if still != self.keys:
                self.unchecked += tuple(k for k in self.keys if k not in still)
                self.keys, self.all_keys = still, False
                self.builtin = self.builtin and all(
                    _kind(kwargs[k]) == _BUILTIN_DATA for k in still)
            if self.check_sender and not _comparable(sender):
                self.check_sender = False
        try:
            self.kwargs = _copy(self._view(kwargs), self.builtin)
        except Exception:  # a value whose copy raises: checked no more
            self.unchecked += self.keys
            self.keys, self.all_keys, self.kwargs = (), False, {}
        try:
            self.sender = copy.deepcopy(sender) if self.check_sender else None
        except Exception:
            self.check_sender, self.sender = False, None

    def _view(self, kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
        return kwargs if self.all_keys else {k: kwargs[k] for k in self.keys}

    def changed(self, sender: Any, kwargs: Mapping[str, Any]) -> bool:
        """Whether anything differs from the copy (fast: one C-level comparison).
        Values that cannot be compared (a cycle, an ``__eq__`` that raises) count
        as changed."""
        try:
            return self._view(kwargs) != self.kwargs or (
                self.check_sender and sender != self.sender)
        except Exception:
            return True

    def changes(self, sender: Any, kwargs: Mapping[str, Any]) -> list[str]:
        """Paths that differ from the copy, such as ``user.name`` or ``records[0]``
        (a whole argument, when it can no longer be compared)."""
        paths: list[str] = []
        if self.check_sender:
            _safe_diff(self.sender, sender, "sender", paths)
        for key in self.keys:
            if key not in kwargs:
                paths.append(key)
            else:
                _safe_diff(self.kwargs[key], kwargs[key], key, paths)
        return paths


def _copy(value: Any, builtin: bool) -> Any:
    """A deep copy of plain data; of built-in types only, by ``marshal`` (the
    same values and types, in C)."""
    if builtin:
        enabled = GC.isenabled()
        GC.disable()  # the copy holds no cycle (and marshal runs no code of anyone's)
        try:
            return marshal.loads(marshal.dumps(value))
        except (ValueError, TypeError):  # a receiver put something else in since
            pass
        finally:
            if enabled:
                GC.enable()
    return copy.deepcopy(value)


def _safe_diff(before: Any, after: Any, path: str, out: list[str]) -> None:
    found: list[str] = []
    try:
        _diff(before, after, path, found)
    except Exception:  # a cycle, an __eq__ that raises: the whole value changed
        found = [path]
    out.extend(found)


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
