"""``# ckansig: ignore`` comments, read strictly.

A suppression comment is exactly ``# ckansig: ignore`` (every check) or
``# ckansig: ignore[SIG016]`` (IDs comma-separated), alone at the end of its
line. Anything else that starts with ``# ckansig:`` (a typo, a missing
bracket, an ID no check has, ``ignored, see ticket``) silences nothing and is
reported (SIG017), so that a comment can never silence by accident.
"""

from __future__ import annotations

import re
from collections.abc import Container
from typing import NamedTuple

__all__ = ["Comment", "has_mark", "parse_comment"]

_MARK = re.compile(r"#\s*ckansig\s*:", re.IGNORECASE)
_EXACT = re.compile(r"#[ \t]*ckansig:[ \t]*ignore(?:\[[ \t]*(SIG\d{3}(?:[ \t]*,[ \t]*SIG\d{3})*)"
                    r"[ \t]*\])?[ \t]*$")


def has_mark(text: str) -> bool:
    """Whether ``text`` holds a ``# ckansig:`` comment (of any form)."""
    return _MARK.search(text) is not None


class Comment(NamedTuple):
    """A ``# ckansig:`` comment: the check IDs it silences (``{"*"}`` for all),
    none when it has a ``problem``; ``text`` is the comment as written."""

    ids: frozenset[str]
    problem: str | None
    text: str


def parse_comment(line: str, known: Container[str]) -> Comment | None:
    """The ``# ckansig:`` comment on source ``line``, or None when it has none.
    IDs not in ``known`` make it a problem."""
    mark = _MARK.search(line)
    if mark is None:
        return None
    text = line[mark.start():].rstrip("\r\n")
    exact = _EXACT.fullmatch(text.rstrip())
    if exact is None:
        return Comment(frozenset(), f"{text.strip()!r} is not a suppression comment: write "
                       "'# ckansig: ignore' or '# ckansig: ignore[SIG016]'", text)
    if exact.group(1) is None:
        return Comment(frozenset({"*"}), None, text)
    ids = frozenset(part.strip() for part in exact.group(1).split(","))
    unknown = sorted(i for i in ids if i not in known)
    if unknown:
        return Comment(frozenset(), f"{text.strip()!r} names {', '.join(unknown)}, which no "
                       "check has", text)
    return Comment(ids, None, text)
