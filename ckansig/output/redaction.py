"""Hiding secrets in everything ckansig prints: values under secret-looking
keys, and any text that repeats one of those values."""

from __future__ import annotations

from typing import Any

__all__ = ["REDACTED", "Redactor", "is_secret_key"]

_SECRET_WORDS = ("password", "passwd", "secret", "token", "apikey", "api_key",
                 "authorization", "credential", "private_key")


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


