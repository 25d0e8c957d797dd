"""Values from plugins and users, made safe to show: secrets hidden
(:class:`Redactor`), a ``repr`` that never raises and stays short
(:func:`safe_repr`), and JSON-able copies (:func:`jsonable`).

Every output uses these: the renderers of :mod:`ckansig.output` and the JSON
lines of ``ckansig trace``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_DEPTH", "REDACTED", "Redactor", "is_secret_key", "jsonable", "safe_repr",
           "short", "unrepresentable"]

#: Secret words found anywhere in a key, whatever the case and separators.
_SECRET_PARTS = ("password", "passwd", "passphrase", "passcode", "secret", "token",
                 "credential", "apikey", "authorization", "privatekey", "accesskey", "cookie")
#: Short secret words, counted only as whole words of a key (``dbPass``, ``auth``;
#: not ``passenger`` or ``author``).
_SECRET_WORDS = frozenset({"pass", "pwd", "pw", "auth", "jwt", "bearer", "otp"})


def _words(key: str) -> list[str]:
    """``"dbPass_oldValue2"`` → ``["db", "pass", "old", "value", "2"]``."""
    words: list[str] = []
    current = ""
    for index, char in enumerate(key):
        boundary = not char.isalnum() or (
            char.isupper() and current and (
                current[-1].islower() or current[-1].isdigit()
                or (index + 1 < len(key) and key[index + 1].islower())))
        if boundary and current:
            words.append(current.lower())
            current = ""
        if char.isalnum():
            current += char
    if current:
        words.append(current.lower())
    return words


def is_secret_key(key: object) -> bool:
    """Whether a key looks like it holds a secret, matched on its words in any
    case: password, passphrase, secret, token, credentials, cookie, auth,
    authorization, pwd, ``pass`` as a word (``dbPass``), api/access/private
    keys, and any name whose last word is ``key`` (``privateKey``, ``api_key``)."""
    if not isinstance(key, str):
        return False
    words = _words(key)
    if not words:
        return False
    joined = "".join(words)
    return (words[-1] == "key" or any(part in joined for part in _SECRET_PARTS)
            or not _SECRET_WORDS.isdisjoint(words))


REDACTED = "***"
_NO_SECRET = (bool, type(None))  # values that carry no secret, whatever their key


class Redactor:
    """Hides secrets: values under secret-looking keys, and any text that
    repeats one of those values (a receiver echoing a password in its return
    value, its output or its exception message)."""

    def __init__(self, *sources: Any, enabled: bool = True) -> None:
        self.enabled = enabled
        #: every secret value, whatever its length: hidden where a value is exactly it
        self.exact: set[str] = set()
        #: the secrets long enough (3+ characters) to be hidden inside other text
        #: too; a shorter one would blank every word that happens to contain it
        self.secrets: list[str] = []
        if enabled:
            for source in sources:
                self._collect(source, secret=False)
            self.secrets = sorted((s for s in self.exact if len(s) >= 3), key=len,
                                  reverse=True)

    def _collect(self, value: Any, secret: bool, depth: int = 0,
                 seen: frozenset[int] = frozenset()) -> None:
        if isinstance(value, (dict, list, tuple)):
            if _unwalkable(value, depth, seen) is not None:  # shown as a marker anyway
                return
            seen = seen | {id(value)}
            if isinstance(value, dict):
                for key, item in value.items():
                    self._collect(item, secret or is_secret_key(key), depth + 1, seen)
            else:
                for item in value:
                    self._collect(item, secret, depth + 1, seen)
        elif secret and value is not None and not isinstance(value, bool):
            text = _text_of(value)
            if text:
                self.exact.add(text)

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
            _text_of(value) in self.exact
        ):
            return REDACTED  # a numeric secret, repeated elsewhere (as the sender, say)
        return value

    def text(self, text: str) -> str:
        """``text`` with every known secret value replaced: the whole text when
        it is a secret, and every secret of 3+ characters inside it."""
        if self.enabled:
            if text in self.exact:
                return REDACTED
            for secret in self.secrets:
                if secret in text:
                    text = text.replace(secret, REDACTED)
        return text


# -- showing values ---------------------------------------------------------------


def short(text: str, limit: int = 200) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


_SIMPLE = frozenset({int, float, bool, type(None)})


#: How deep a value is shown; deeper parts are markers (and deeper input is refused).
MAX_DEPTH = 100


def unrepresentable(reason: str) -> str:
    """The marker shown in place of a value that cannot be shown."""
    return f"<unrepresentable: {reason}>"


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


def _text_of(value: Any) -> str:
    """``str(value)``, or a marker when that raises (an int of more than 4,300
    digits, a ``__str__`` that raises)."""
    try:
        return str(value)
    except Exception as exc:
        return unrepresentable(f"{type(value).__name__}, str() raised {type(exc).__name__}")


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
    if value is None or isinstance(value, (bool, float)):
        return redactor.value(value)
    if isinstance(value, int):
        try:
            str(value)
        except ValueError:  # more than 4,300 digits: neither JSON nor repr can write it
            return unrepresentable(f"an int of {value.bit_length()} bits")
        return redactor.value(value)
    if isinstance(value, (dict, list, tuple)):
        marker = _unwalkable(value, depth, seen)
        if marker is not None:
            return marker
        inner = seen | {id(value)}
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {k: REDACTED if redactor.enabled and _hides(k, v)
                    else jsonable(v, redactor, depth + 1, inner) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [jsonable(v, redactor, depth + 1, inner) for v in value]
    return safe_repr(value, redactor)
