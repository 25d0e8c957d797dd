"""Domain exceptions. They carry fields; only the CLI turns them into messages."""

from __future__ import annotations

import os


class CkansigError(Exception):
    """Base class of every error ckansig raises on purpose."""


class ConfigError(CkansigError):
    """The configuration is unreadable or wrong.

    ``path``, ``line`` and ``key`` point at the culprit when they are known.
    """

    def __init__(
        self, message: str, *, path: str | os.PathLike[str] | None = None, line: int | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = os.fspath(path) if path is not None else None
        self.line = line
        self.key = key

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line else "") + ": "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}"


class SignalNotFound(CkansigError):
    """No signal has that name (in that namespace)."""

    def __init__(self, name: str, namespace: str | None, suggestions: list[str]) -> None:
        self.name = name
        self.namespace = namespace
        self.suggestions = suggestions
        where = f" in namespace {namespace!r}" if namespace else ""
        hint = f"; did you mean {' or '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no signal named {name!r}{where}{hint}")


class AmbiguousSignal(CkansigError):
    """A signal name exists in more than one namespace."""

    def __init__(self, name: str, namespaces: list[str]) -> None:
        self.name = name
        self.namespaces = namespaces
        super().__init__(
            f"signal {name!r} exists in namespaces {', '.join(namespaces)}; "
            "pick one with --namespace"
        )


class UsageProblem(CkansigError):
    """Bad user input for a command (a ``--kw`` entry, ``--kwargs`` JSON, a
    sender). ``param`` names the option it came from."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
