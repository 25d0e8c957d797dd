"""How an object is shown when it is not plain data, and the small helpers
every view of a value uses: :func:`short`, :func:`unrepresentable`. A
database model object (CKAN's ``User``) is summarized by type, id and name
(:func:`model_summary`), and so is any object whose repr shows a
secret-named field."""

from __future__ import annotations

import re
from typing import Any

from ckansig.secret_keys import is_secret_key

__all__ = ["Shown", "model_summary", "object_text", "short", "text_of", "unrepresentable"]


class Shown:
    """An object as it may be shown: its repr is the text given."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


#: ``name=`` or ``'name':`` in a repr: a field an object shows of itself
_FIELD = re.compile(r"""['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?\s*[=:]""")


def object_text(value: Any) -> str:
    """How an object other than plain data is shown: a database model object
    (SQLAlchemy-mapped: CKAN's ``User``, ``Package``) by its type, id and name
    only, read without touching the database; any other object by its repr,
    unless that repr shows a secret-named field (``password=``), when it is
    summarized the same way. A repr that raises gives a marker."""
    try:
        fields = object.__getattribute__(value, "__dict__")
    except Exception:
        fields = None
    if not isinstance(fields, dict):
        fields = {}
    if "_sa_instance_state" in fields:
        return model_summary(value, fields)
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ belongs to the plugin
        return unrepresentable(f"{type(value).__name__}, repr() raised {type(exc).__name__}")
    if any(is_secret_key(name) for name in _FIELD.findall(text)):
        return model_summary(value, fields)
    return text


def model_summary(value: Any, fields: dict[str, Any]) -> str:
    """``<User id='…' name='bob'>``: the type, and the id and name the object
    holds (loaded already; nothing is fetched)."""
    parts = [f"{key}={short(text_of(fields[key]), 60)!r}" for key in ("id", "name")
             if key in fields and isinstance(fields[key], (str, int))]
    return f"<{type(value).__name__}{''.join(' ' + part for part in parts)}>"


def short(text: str, limit: int = 200) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unrepresentable(reason: str) -> str:
    """The marker shown in place of a value that cannot be shown."""
    return f"<unrepresentable: {reason}>"


def text_of(value: Any) -> str:
    """``str(value)``, or a marker when that raises (an int of more than 4,300
    digits, a ``__str__`` that raises)."""
    try:
        return str(value)
    except Exception as exc:
        return unrepresentable(f"{type(value).__name__}, str() raised {type(exc).__name__}")
