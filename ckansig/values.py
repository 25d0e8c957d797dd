"""User-supplied values: ``--kw``/``--kwargs``/``--sender`` parsing, attribute
dicts, secret redaction, and snapshots for spotting mutated arguments.

Everything here is pure data handling with domain errors
(:class:`~ckansig.errors.UsageProblem`); the CLI only turns them into usage
errors.
"""

from __future__ import annotations

import copy
import json
import keyword
from collections.abc import Iterable, Mapping
from typing import Any

from ckansig.catalog import CoreSignal
from ckansig.errors import UsageProblem

__all__ = [
    "AttrDict",
    "Redactor",
    "Snapshot",
    "build_call",
    "is_secret_key",
    "parse_json_object",
    "parse_kw",
    "parse_value",
    "to_objects",
]

#: Keyword names a receiver can never be given: blinker's own parameters.
RESERVED_KEYS = frozenset({"sender", "_async_wrapper", "_sync_wrapper"})

_SECRET_WORDS = ("password", "passwd", "secret", "token", "apikey", "api_key",
                 "authorization", "credential", "private_key")


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; taken as text they stay comparable.
    raise ValueError(name)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_pairs)


def parse_value(text: str) -> Any:
    """JSON when ``text`` is valid JSON, else the text itself: ``3`` → 3,
    ``'"3"'`` → "3", ``bob`` → "bob", ``{"a": 1}`` → a dict."""
    try:
        return _loads(text)
    except (ValueError, RecursionError):
        return text


def parse_kw(text: str) -> tuple[str, Any]:
    """One ``--kw KEY=VALUE`` entry."""
    key, sep, raw = text.partition("=")
    if not sep:
        raise UsageProblem(f"{text!r} has no '=' (expected KEY=VALUE)", "--kw")
    check_key(key, "--kw")
    return key, parse_value(raw)


def check_key(key: str, param: str) -> None:
    """A keyword argument name must be usable as ``receiver(sender, **{key: …})``."""
    if not key.isidentifier() or keyword.iskeyword(key):
        raise UsageProblem(f"key {key!r} is not a Python identifier", param)
    if key in RESERVED_KEYS:
        what = "the sender is given with --sender" if key == "sender" else "blinker reserves it"
        raise UsageProblem(f"key {key!r} cannot be a keyword argument: {what}", param)


def parse_json_object(text: str, source: str = "--kwargs") -> dict[str, Any]:
    """A JSON object of keyword arguments (``source`` names it in errors)."""
    try:
        value = _loads(text)
    except RecursionError:
        raise UsageProblem(f"{source}: JSON nested too deeply", "--kwargs") from None
    except ValueError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "invalid JSON"
        raise UsageProblem(f"{source}: invalid JSON: {message}", "--kwargs") from None
    if not isinstance(value, dict):
        raise UsageProblem(
            f"{source}: expected a JSON object of keyword arguments, not {_json_type(value)}",
            "--kwargs")
    for key in value:
        check_key(key, "--kwargs")
    return value


def build_call(
    core: CoreSignal | None,
    *,
    sender: Any = None,
    sender_given: bool = False,
    kwargs: Mapping[str, Any] | None = None,
    kw: Iterable[tuple[str, Any]] = (),
) -> tuple[Any, dict[str, Any]]:
    """The sender and keyword arguments for one send.

    ``kw`` entries override ``kwargs``; a key twice in ``kw`` is an error.
    Where the signal documents its sender by name (``user_created (username,
    user)``), a keyword argument of that name is the sender.
    """
    result = dict(kwargs or {})
    seen: set[str] = set()
    for key, value in kw:
        if key in seen:
            raise UsageProblem(f"key {key!r} is given twice", "--kw")
        seen.add(key)
        result[key] = value
    if core is not None and core.sender in result:
        if sender_given:
            raise UsageProblem(
                f"the sender of {core.name} is {core.sender!r}: give it as --sender or as "
                f"--kw {core.sender}=…, not both", "--sender")
        sender = result.pop(core.sender)
    return sender, result


def _json_type(value: object) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number",
            bool: "a boolean", type(None): "null"}.get(type(value), type(value).__name__)


class AttrDict(dict[str, Any]):
    """A dict whose keys are attributes too (``user.name`` and ``user["name"]``),
    as receivers read attributes of CKAN's model objects."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None


def to_objects(value: Any) -> Any:
    """Every JSON object inside ``value`` as an :class:`AttrDict`."""
    if isinstance(value, dict):
        return AttrDict({k: to_objects(v) for k, v in value.items()})
    if isinstance(value, list):
        return [to_objects(v) for v in value]
    return value


# -- secrets --------------------------------------------------------------------


def is_secret_key(key: object) -> bool:
    """Whether a key looks like it holds a secret: password, token, secret,
    api_key/apikey, authorization, key, and names ending in ``_key``."""
    if not isinstance(key, str):
        return False
    name = key.lower().replace("-", "_")
    return name == "key" or name.endswith("_key") or any(w in name for w in _SECRET_WORDS)


REDACTED = "***"


class Redactor:
    """Hides secrets: values under secret-looking keys, and any text that
    repeats one of those values (a receiver echoing a password in its return
    value, its output or its exception message)."""

    def __init__(self, *sources: Any, enabled: bool = True) -> None:
        self.enabled = enabled
        self.secrets: list[str] = []
        if enabled:
            for source in sources:
                self._collect(source, secret=False)
            self.secrets.sort(key=len, reverse=True)

    def _collect(self, value: Any, secret: bool) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                self._collect(item, secret or is_secret_key(key))
        elif isinstance(value, (list, tuple)):
            for item in value:
                self._collect(item, secret)
        elif secret and value is not None and not isinstance(value, bool):
            text = str(value)
            if len(text) >= 3:
                self.secrets.append(text)

    def value(self, value: Any) -> Any:
        """``value`` with secret-keyed entries replaced (a copy; never mutates)."""
        if not self.enabled:
            return value
        if isinstance(value, dict):
            return {k: REDACTED if is_secret_key(k) else self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.value(v) for v in value)
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and (
            str(value) in self.secrets
        ):
            return REDACTED  # a numeric secret, repeated elsewhere (as the sender, say)
        return value

    def text(self, text: str) -> str:
        """``text`` with every known secret value replaced."""
        if self.enabled:
            for secret in self.secrets:
                if secret in text:
                    text = text.replace(secret, REDACTED)
        return text


# -- mutation snapshots ------------------------------------------------------------

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
