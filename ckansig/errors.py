"""Domain exceptions, and how ckansig describes an exception it caught.

The exceptions carry fields; only the CLI turns them into messages and exit
codes. :func:`first_line`, :func:`exc_text` and :func:`raise_site` are the one
way every layer summarises an exception that plugin code raised.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from ckansig.isolation import plugin_code

__all__ = [
    "AmbiguousSignal",
    "CkansigError",
    "ConfigError",
    "SignalNotFound",
    "UsageProblem",
    "exc_text",
    "first_line",
    "raise_site",
    "type_name",
]


class CkansigError(Exception):
    """Base class of every error ckansig raises on purpose. ``exit_code`` is
    the command's exit code when one ends with it (as click's exceptions
    carry theirs): 2, a usage or configuration error, unless a subclass says
    otherwise. The CLI maps every one in one place (``ckansig.cli.errors``)."""

    exit_code = 2
    #: the command-line parameter the error is about: a usage error of it
    param: str | None = None


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
    """No signal has that name (in that namespace): a usage error of SIGNAL."""

    param = "SIGNAL"

    def __init__(self, name: str, namespace: str | None, suggestions: list[str]) -> None:
        self.name = name
        self.namespace = namespace
        self.suggestions = suggestions
        where = f" in namespace {namespace!r}" if namespace else ""
        hint = f"; did you mean {' or '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no signal named {name!r}{where}{hint}")


class AmbiguousSignal(CkansigError):
    """A signal name exists in more than one namespace: a usage error of SIGNAL."""

    param = "SIGNAL"

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


# -- describing exceptions that plugin code raised -------------------------------


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of ``exc``'s message ("" when it has none), cut to
    ``limit`` characters; a message that cannot be made (its ``__str__``
    raises) is said to be so."""
    message = ""
    with plugin_code() as guard:
        message = str(exc)
        if not isinstance(message, str):  # a str subclass whose methods are hooks
            message = str.__str__(message)
        message = message.strip()
    if guard.error is not None:
        return f"<message unrepresentable: str() raised {type(guard.error).__name__}>"
    line = message.split("\n", 1)[0].strip() if message else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def exc_text(exc: BaseException) -> str:
    """``"KeyError: 'x'"``: the type and the first line of the message."""
    line = first_line(exc)
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _foreign(filename: str) -> bool:
    """A frame of plugin code: neither ckansig's own nor importlib's machinery."""
    return not filename.startswith(_PACKAGE) and "importlib" not in filename \
        and filename != "<frozen runpy>"


def raise_site(
    exc: BaseException, default: tuple[str | None, int | None] = (None, None), *,
    prefer: str | None = None, keep: Callable[[str], bool] = _foreign,
    within: tuple[str, ...] = (),
) -> tuple[str | None, int | None]:
    """The file and line where ``exc`` surfaced in plugin code: the innermost
    frame outside ckansig and importlib, or the innermost in ``prefer`` (a
    receiver's own file) when the traceback passes through it, else the
    innermost under one of the folders ``within`` (the plugin's own package:
    not CKAN's ``blanket.py`` or a third-party library it called)."""
    # The traceback's own frames, walked by hand: no source is read, no plugin
    # loader is asked (and the traceback module is not imported).
    frames: list[tuple[str, int]] = []
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if keep(filename):
            frames.append((filename, tb.tb_lineno))
        tb = tb.tb_next
    if prefer:
        own = [f for f in frames if f[0] == prefer]
        frames = own or frames
    if within and not (prefer and frames and frames[-1][0] == prefer):
        own = [f for f in frames if f[0].startswith(within)]
        frames = own or frames
    if not frames:
        return default
    return frames[-1]


# -- naming the type of a value a user gave ------------------------------------

# type -> (its TOML name, its JSON name with an article)
_TYPE_NAMES: dict[type, tuple[str, str]] = {
    str: ("string", "a string"), int: ("integer", "a number"), float: ("float", "a number"),
    bool: ("boolean", "a boolean"), list: ("array", "an array"), dict: ("table", "an object"),
    type(None): ("null", "null"),
}


def type_name(value: object, *, json: bool = False) -> str:
    """The type of ``value`` as a config file names it (``"table"``), or as
    JSON does with ``json`` (``"an object"``); the Python name otherwise."""
    names = _TYPE_NAMES.get(type(value))
    if names is None:
        return type(value).__name__
    return names[1] if json else names[0]
