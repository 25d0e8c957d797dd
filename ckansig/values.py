"""Values from plugins and users, made safe to show: secrets hidden
(:class:`Redactor`), a ``repr`` that never raises and stays short
(:func:`safe_repr`), and JSON-able copies (:func:`jsonable`).

Every output uses these: the renderers of :mod:`ckansig.output` and the JSON
lines of ``ckansig trace``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ckansig.secret_keys import (
    is_secret_key,
    secret_keys_among,
    secret_keys_in,
    secret_keys_of,
)
from ckansig.shown import Shown, model_summary, object_text, short, text_of, unrepresentable

__all__ = [
    "MAX_DEPTH",
    "REDACTED",
    "Redactor",
    "collect_secrets",
    "is_secret_key",
    "jsonable",
    "model_summary",
    "safe_repr",
    "short",
    "unrepresentable",
]


def _longest_first(secret: str) -> tuple[int, str]:
    """The order secrets are replaced in: longest first, then alphabetical (a
    fixed order, so that overlapping secrets always give the same text)."""
    return -len(secret), secret


def _in_replacing_order(secrets: Iterable[str]) -> list[str]:
    """``secrets`` sorted by :func:`_longest_first`, with C-level keys only:
    alphabetically, then (a stable sort) by length, longest first."""
    found = sorted(secrets)
    found.sort(key=len, reverse=True)
    return found


_CONTAINER_TYPES = (dict, list, tuple)


def _is_container(value: Any) -> bool:
    # type(), not isinstance(): a proxy's __class__ (werkzeug's LocalProxy of
    # Flask-Login's current_user) would load what it stands for
    return issubclass(type(value), _CONTAINER_TYPES)


REDACTED = "***"
#: What an object standing in for None or a bool prints as (a proxy of an
#: anonymous user, say): not a secret, or every "None" would be hidden.
_SINGLETON_TEXTS = frozenset({"None", "True", "False"})
#: Up to this many secrets, a text is searched for each (C-speed ``in``); past
#: it, for those whose beginning the text contains (see ``Redactor._within``).
_FEW_SECRETS = 16
_CONTAINERS = frozenset({dict, list, tuple})
_SCALARS = frozenset({str, int, float, bool, type(None)})
_NO_SECRET = (bool, type(None))  # values that carry no secret, whatever their key


def may_hold_secrets(source: Any) -> bool:
    """False when ``source`` surely holds no secret: not a container (a sender,
    most often), or a flat dict without a secret-looking key (most keyword
    arguments). Asked before every recorded send: it allocates nothing."""
    kind = type(source)
    if kind is dict:
        for item in source.values():
            item_kind = type(item)
            if item_kind in _CONTAINERS or (item_kind not in _SCALARS
                                            and issubclass(item_kind, _CONTAINER_TYPES)):
                return True
        return any(map(is_secret_key, source))  # a few keys: each looked up, cached
    return kind in _CONTAINERS or _is_container(source)


def collect_secrets(source: Any, exact: set[str], objects: bool = True) -> set[str]:
    """Add to ``exact`` every value under a secret-looking key, one level at a time
    (no recursion). A container is walked once in each role (secret or
    not), so neither a cycle nor nesting past :data:`MAX_DEPTH` (shown as
    markers anyway) is followed. A dict's secret keys are looked up once
    per set of keys (:func:`~ckansig.secret_keys.secret_keys_among`): big
    documents repeat a few shapes.
    Strings and numbers are learned; other objects by their ``str()`` only
    with ``objects`` (not while a program runs: that is code of theirs, a
    proxy that loads a user from the database; they are hidden by key anyway)."""
    if not may_hold_secrets(source):
        return exact
    plain: list[Any] = [source]  # containers outside any secret
    hidden: list[Any] = []  # values under a secret key, and what they contain
    walked: set[int] = set()
    walked_hidden: set[int] = set()
    for _ in range(MAX_DEPTH + 1):
        next_plain: list[Any] = []
        next_hidden: list[Any] = []
        for value in plain:
            if id(value) in walked or not _is_container(value):
                continue
            walked.add(id(value))
            if isinstance(value, dict):
                for key in secret_keys_of(value):
                    next_hidden.append(value[key])
                items: Any = value.values()
            else:
                items = value
            next_plain += [item for item in items if type(item) in _CONTAINERS or (
                type(item) not in _SCALARS and _is_container(item))]
        for value in hidden:
            kind = type(value)
            if kind in _CONTAINERS or (kind not in _SCALARS and _is_container(value)):
                if id(value) not in walked_hidden:
                    walked_hidden.add(id(value))
                    next_hidden += value.values() if isinstance(value, dict) else value
            elif value is not None and kind is not bool and (
                    objects or issubclass(kind, (str, int, float))):
                text = value if kind is str else text_of(value)
                if text and (kind is str or text not in _SINGLETON_TEXTS):
                    exact.add(text)
        if not next_plain and not next_hidden:
            break
        plain, hidden = next_plain, next_hidden
    return exact


class Redactor:
    """Hides secrets: values under secret-looking keys, and any text that
    repeats one of those values (a receiver echoing a password in its return
    value, its output or its exception message)."""

    def __init__(self, *sources: Any, enabled: bool = True) -> None:
        self.enabled = enabled
        #: every secret value, whatever its length: hidden where a value is exactly it
        self.exact: set[str] = set()
        if enabled:
            for source in sources:
                collect_secrets(source, self.exact)
        self._index()

    @classmethod
    def of(cls, secrets: Iterable[str], enabled: bool = True) -> Redactor:
        """A redactor hiding ``secrets`` (values already known to be secret)."""
        redactor = cls(enabled=enabled)
        if enabled:
            redactor.exact = set(secrets)
            redactor._index()
        return redactor

    def _index(self) -> None:
        #: the secrets long enough (3+ characters) to be hidden inside other text
        #: too; a shorter one would blank every word that happens to contain it
        self.secrets: list[str] = []
        # With many secrets, a text is searched only for the secrets that share
        # a piece with it: see _within.
        self._width = 0
        self._chunks: re.Pattern[str] | None = None
        #: no text shorter than this contains a secret (it can only be one)
        self.shortest = 3
        self._pieces: dict[str, list[str]] = {}
        self._piece_set: frozenset[str] = frozenset()
        #: the secrets of 1 or 2 characters, hidden inside other text where they
        #: stand as a word of their own ("pw=ab"), never inside a word ("table")
        self._short: re.Pattern[str] | None = None
        if not self.enabled:
            return
        short = _in_replacing_order(s for s in self.exact if 0 < len(s) < 3 and s.strip())
        if short:
            self._short = re.compile("(?<![0-9A-Za-z])(?:" + "|".join(map(re.escape, short))
                                     + ")(?![0-9A-Za-z])")
        self.secrets = _in_replacing_order(s for s in self.exact if len(s) >= 3)
        if self.secrets:
            self.shortest = len(self.secrets[-1])
        self._long_shortest = self.shortest  # no shorter text holds a long secret
        if len(self.secrets) > _FEW_SECRETS:
            self._width = width = (self.shortest + 1) // 2  # of the long secrets
            self._chunks = re.compile(f".{{{width}}}", re.DOTALL)
            pieces = self._pieces
            for secret in self.secrets:
                for piece in {secret[offset:offset + width] for offset in range(width)}:
                    found = pieces.get(piece)
                    if found is None:
                        pieces[piece] = [secret]
                    else:
                        found.append(secret)
            # a set answers "any of these chunks?" about 4x faster than the dict's keys
            self._piece_set = frozenset(pieces)
        if short:  # a text of one character may stand for a short secret
            self.shortest = min(self.shortest, len(short[-1]))

    def value(self, value: Any, depth: int = 0, seen: frozenset[int] = frozenset()) -> Any:
        """``value`` with secret-keyed entries replaced (a copy; never mutates).
        A cycle, or nesting deeper than :data:`MAX_DEPTH`, becomes a marker."""
        if not self.enabled:
            return value
        if isinstance(value, (dict, list, tuple)):
            marker = _unwalkable(value, depth, seen)
            if marker is not None:
                return marker
            seen = seen | {id(value)}
            if isinstance(value, dict):
                return {k: REDACTED if _hides(k, v) else self.value(v, depth + 1, seen)
                        for k, v in value.items()}
            items = [self.value(v, depth + 1, seen) for v in value]
            return items if isinstance(value, list) else tuple(items)
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and self.exact and (
            text_of(value) in self.exact
        ):
            return REDACTED  # a numeric secret, repeated elsewhere (as the sender, say)
        if type(value) in _SCALARS or isinstance(value, (int, float)):
            return value
        return Shown(object_text(value))

    def text(self, text: str) -> str:
        """``text`` with every known secret value replaced: the whole text when
        it is a secret, every secret of 3+ characters inside it, and every
        shorter one where it stands as a word of its own."""
        if not self.enabled or not self.exact:
            return text
        if text in self.exact:
            return REDACTED
        if self.secrets and len(text) >= self._long_shortest:
            secrets = self.secrets if not self._width else self._within(text)
            for secret in secrets:
                if secret in text:
                    text = text.replace(secret, REDACTED)
        if self._short is not None:  # after the long ones, which may hold a short one
            text = self._short.sub(REDACTED, text)
        return text

    def _within(self, text: str) -> list[str]:
        """The secrets that may occur in ``text``, longest first, in time
        linear in its length whatever the number of secrets.

        Every secret is at least ``2 * width - 1`` characters long, so an
        occurrence of one covers a whole chunk of the text (``text`` cut into
        ``width``-character pieces), equal to the piece of the secret at one
        of its first ``width`` offsets. The secrets are indexed by those
        pieces, and the text's chunks are looked up, in C."""
        assert self._chunks is not None
        chunks = self._chunks.findall(text)
        if self._piece_set.isdisjoint(chunks):
            return []
        pieces = self._pieces
        found = {chunk for chunk in chunks if chunk in pieces}
        if len(found) == 1:
            return pieces[found.pop()]
        return sorted({s for piece in found for s in pieces[piece]}, key=_longest_first)


# -- showing values ---------------------------------------------------------------


_SIMPLE = frozenset({int, float, bool, type(None)})


#: How deep a value is shown; deeper parts are markers (and deeper input is refused).
MAX_DEPTH = 100


def _unwalkable(container: Any, depth: int, seen: frozenset[int]) -> str | None:
    """The marker for a container reached again (a cycle) or nested deeper
    than :data:`MAX_DEPTH`; None when it can be walked."""
    if id(container) in seen:
        return unrepresentable("a cycle")
    if depth > MAX_DEPTH:
        return unrepresentable(f"nested deeper than {MAX_DEPTH} levels")
    return None


def _hides(key: Any, value: Any) -> bool:
    """Whether ``value`` under ``key`` is shown as ``***`` (a flag such as
    ``ignore_auth=True``, or None, hides nothing)."""
    return is_secret_key(key) and not isinstance(value, _NO_SECRET)


def safe_repr(value: Any, redactor: Redactor, limit: int = 200) -> str:
    """The repr of ``value`` (a receiver's result), secrets hidden, shortened. A
    ``__repr__`` that raises, a huge int or nesting Python cannot repr gives a marker."""
    if type(value) in _SIMPLE:  # the common case: nothing to shorten
        try:
            text = repr(value)
        except ValueError:  # an int of more than 4,300 digits
            return unrepresentable(f"an int of {value.bit_length()} bits")
        return redactor.text(text) if redactor.exact else text  # a numeric password
    try:
        text = repr(redactor.value(value))
    except Exception as exc:  # a broken __repr__ belongs to the plugin
        text = unrepresentable(f"{type(value).__name__}, repr() raised {type(exc).__name__}")
    return short(redactor.text(text), limit)


def jsonable(value: Any, redactor: Redactor, depth: int = 0,
             seen: frozenset[int] = frozenset()) -> Any:
    """``value`` as JSON data: plain data as is (secrets hidden), anything else
    as its repr; a cycle, nesting deeper than :data:`MAX_DEPTH` or an int JSON
    cannot write becomes a marker."""
    if isinstance(value, str):
        return redactor.text(value)
    if isinstance(value, (dict, list, tuple)):
        marker = _unwalkable(value, depth, seen)
        if marker is not None:
            return marker
        inner, deeper = seen | {id(value)}, depth + 1
        # Strings inline, the short ones without a call: a big document is mostly strings.
        text, exact, shortest = redactor.text, redactor.exact, redactor.shortest
        if not isinstance(value, dict):
            return [(REDACTED if v in exact else v) if type(v) is str and len(v) < shortest
                    else text(v) if type(v) is str else jsonable(v, redactor, deeper, inner)
                    for v in value]
        keys = tuple(value)
        plain_keys = all(type(k) is str for k in keys)  # once: the common case, cached
        if plain_keys or all(isinstance(k, str) for k in keys):
            secret: frozenset[Any] = frozenset() if not redactor.enabled else (
                secret_keys_among(keys) if plain_keys else secret_keys_in(keys))
            return {k: REDACTED if k in secret and not isinstance(v, _NO_SECRET)
                    else (REDACTED if v in exact else v)
                    if type(v) is str and len(v) < shortest
                    else text(v) if type(v) is str else jsonable(v, redactor, deeper, inner)
                    for k, v in value.items()}
    elif value is None or isinstance(value, (bool, float)):
        return redactor.value(value)
    elif isinstance(value, int):
        if value.bit_length() > 14_000:  # near 4,300 digits: can str() write it?
            try:
                str(value)
            except ValueError:  # neither JSON nor repr can write it
                return unrepresentable(f"an int of {value.bit_length()} bits")
        return redactor.value(value)
    return safe_repr(value, redactor)
