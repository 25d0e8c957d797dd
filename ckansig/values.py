"""Values from plugins and users, made safe to show: secrets hidden
(:class:`Redactor`), a ``repr`` that never raises and stays short
(:func:`safe_repr`), and JSON-able copies (:func:`jsonable`).

Every output uses these: the renderers of :mod:`ckansig.output` and the JSON
lines of ``ckansig trace``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["REDACTED", "Redactor", "is_secret_key", "jsonable", "safe_repr", "short"]

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

    def _collect(self, value: Any, secret: bool) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                self._collect(item, secret or is_secret_key(key))
        elif isinstance(value, (list, tuple)):
            for item in value:
                self._collect(item, secret)
        elif secret and value is not None and not isinstance(value, bool):
            text = str(value)
            if text:
                self.exact.add(text)

    def value(self, value: Any) -> Any:
        """``value`` with secret-keyed entries replaced (a copy; never mutates)."""
        if not self.enabled:
            return value
        if isinstance(value, dict):  # (a flag such as ignore_auth=True hides nothing)
            return {k: REDACTED if is_secret_key(k) and not isinstance(v, _NO_SECRET)
                    else self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.value(v) for v in value)
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and (
            str(value) in self.exact
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


def safe_repr(value: Any, redactor: Redactor, limit: int = 200) -> str:
    """The repr of ``value`` (a receiver's result), secrets hidden, shortened."""
    if type(value) in _SIMPLE:  # the common case: nothing to shorten
        text = repr(value)
        return redactor.text(text) if redactor.exact else text  # a numeric password
    try:
        text = repr(redactor.value(value))
    except Exception as exc:  # a broken __repr__ belongs to the plugin
        text = f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"
    return short(redactor.text(text), limit)


def jsonable(value: Any, redactor: Redactor) -> Any:
    """``value`` as JSON data: plain data as is (secrets hidden), anything else as its repr."""
    value = redactor.value(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: jsonable(v, redactor) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, redactor) for v in value]
    return safe_repr(value, redactor)
