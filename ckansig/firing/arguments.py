"""The arguments of a send, from user input: ``--kw``/``--kwargs``/``--sender``
parsing, the documented sender, and attribute dicts.

Everything here is pure data handling with domain errors
(:class:`~ckansig.errors.UsageProblem`); the CLI only turns them into usage
errors.
"""

from __future__ import annotations

import json
import keyword
from collections.abc import Iterable, Mapping
from typing import Any

from ckansig.catalog import CoreSignal
from ckansig.errors import UsageProblem, first_line, type_name
from ckansig.values import MAX_DEPTH

__all__ = [
    "RESERVED_KEYS",
    "AttrDict",
    "build_call",
    "check_key",
    "parse_json_object",
    "parse_kw",
    "parse_value",
    "to_objects",
]

#: Keyword names a receiver can never be given: blinker's own parameters.
RESERVED_KEYS = frozenset({"sender", "_async_wrapper", "_sync_wrapper"})


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


class TooDeep(ValueError):
    """JSON nested deeper than ckansig shows (:data:`ckansig.values.MAX_DEPTH`)."""


def _loads(text: str) -> Any:
    """Parse JSON; :class:`TooDeep` when it nests deeper than
    :data:`~ckansig.values.MAX_DEPTH` (or than the parser can go)."""
    try:
        value = json.loads(text, parse_constant=_reject_constant,
                           object_pairs_hook=_unique_pairs)
    except RecursionError:
        raise TooDeep(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if _depth(value) > MAX_DEPTH:
        raise TooDeep(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


def _depth(value: Any) -> int:
    """How deeply ``value`` (parsed JSON) nests, one level at a time (no
    recursion), stopping past :data:`MAX_DEPTH`."""
    depth, level = 0, [value]
    while level and depth <= MAX_DEPTH:
        containers = [item for item in level if type(item) is dict or type(item) is list]
        if not containers:
            break
        depth += 1
        level = []
        for item in containers:
            level += item.values() if type(item) is dict else item
    return depth


def parse_value(text: str, param: str | None = None) -> Any:
    """JSON when ``text`` is valid JSON, else the text itself: ``3`` → 3,
    ``'"3"'`` → "3", ``bob`` → "bob", ``{"a": 1}`` → a dict. JSON nested too
    deeply is a :class:`UsageProblem`, not text."""
    try:
        return _loads(text)
    except TooDeep as exc:
        raise UsageProblem(str(exc), param) from None
    except ValueError:
        return text


def parse_kw(text: str) -> tuple[str, Any]:
    """One ``--kw KEY=VALUE`` entry."""
    key, sep, raw = text.partition("=")
    if not sep:
        raise UsageProblem(f"{text!r} has no '=' (expected KEY=VALUE)", "--kw")
    check_key(key, "--kw")
    return key, parse_value(raw, "--kw")


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
    except TooDeep as exc:
        raise UsageProblem(f"{source}: {exc}", "--kwargs") from None
    except ValueError as exc:
        message = first_line(exc) or "invalid JSON"
        raise UsageProblem(f"{source}: invalid JSON: {message}", "--kwargs") from None
    if not isinstance(value, dict):
        raise UsageProblem(f"{source}: expected a JSON object of keyword arguments, not "
                           f"{type_name(value, json=True)}", "--kwargs")
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
    objects: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """The sender and keyword arguments for one send.

    ``kw`` entries override ``kwargs``; a key twice in ``kw`` is an error.
    Where the signal documents its sender by name (``user_created (username,
    user)``), a keyword argument of that name is the sender. With ``objects``,
    JSON objects become :class:`AttrDict` values (``user.name`` works).
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
    if objects:
        return to_objects(sender), to_objects(result)
    return sender, result


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
