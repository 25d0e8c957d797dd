"""Which keys hold secrets: matched on a key's words, in any case
(``password``, ``dbPass``, ``api_key``, ``privateKey``; not ``passenger`` or
``author``). The redaction policy (:mod:`ckansig.redaction`) and the values
shown (:mod:`ckansig.values`) both ask here."""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["is_secret_key", "secret_keys_among", "secret_keys_in", "secret_keys_of"]

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
    if type(key) is not str:
        return isinstance(key, str) and _secret_words(str.__str__(key))
    return _secret_words(key)


@functools.lru_cache(maxsize=1024)
def secret_keys_among(keys: tuple[str, ...]) -> frozenset[str]:
    """The secret-looking keys among ``keys``, all ``str`` (a dict's keys, in
    order): cached, as a document of records repeats a few sets of keys."""
    return frozenset(key for key in keys if is_secret_key(key))


def secret_keys_of(mapping: dict[Any, Any]) -> frozenset[Any]:
    """The secret-looking keys of ``mapping``: cached by its keys when they are
    all strings (a document of records repeats a few sets of keys)."""
    return secret_keys_in(tuple(mapping))


def secret_keys_in(keys: tuple[Any, ...]) -> frozenset[Any]:
    """The secret-looking keys among ``keys`` (a dict's keys, in order)."""
    if all(type(key) is str for key in keys):
        return secret_keys_among(keys)
    return frozenset(key for key in keys if is_secret_key(key))


@functools.lru_cache(maxsize=4096)  # the same few keys, in every record of a big document
def _secret_words(key: str) -> bool:
    words = _words(key)
    if not words:
        return False
    joined = "".join(words)
    return (words[-1] == "key" or any(part in joined for part in _SECRET_PARTS)
            or not _SECRET_WORDS.isdisjoint(words))
