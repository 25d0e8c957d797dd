"""Read the plugin list from a CKAN config file (``ckan.ini``).

``ckan.plugins`` in ``[app:main]`` names plugins by their entry-point names,
whitespace-separated, possibly over continuation lines; ``%(here)s`` is the
file's folder; ``use = config:base.ini`` inherits from another file, as CKAN's
own loader does. Nothing of CKAN is imported and nothing else is read.
"""

from __future__ import annotations

import configparser
import os

from ckansig.errors import ConfigError, first_line

__all__ = ["read_plugins"]
_SECTION = "app:main"
_KEY = "ckan.plugins"


def read_plugins(path: str | os.PathLike[str]) -> tuple[list[str], str, int | None]:
    """The plugin names in ``path``, the file that sets them and its line."""
    return _read(os.path.abspath(os.fspath(path)), set())


def _read(path: str, seen: set[str]) -> tuple[list[str], str, int | None]:
    if path in seen:
        raise ConfigError("inherits from itself (use = config:…)", path=path)
    seen.add(path)
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except FileNotFoundError:
        raise ConfigError("CKAN config file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"cannot read CKAN config file: {reason}", path=path) from None
    parser = configparser.ConfigParser(
        defaults={"here": os.path.dirname(path), "__file__": path}, strict=False,
        interpolation=configparser.BasicInterpolation())
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        message = first_line(exc)
        raise ConfigError(f"invalid CKAN config: {message}", path=path, line=line) from None
    if not parser.has_section(_SECTION):
        raise ConfigError(f"no [{_SECTION}] section", path=path)
    section = parser[_SECTION]
    try:
        raw = section.get(_KEY)
        use = section.get("use", "")
    except configparser.Error as exc:
        raise ConfigError(f"[{_SECTION}]: {first_line(exc)}", path=path,
                          line=_line_of(text, _KEY), key=_KEY) from None
    if raw is None:
        if use.startswith("config:"):
            parent = os.path.join(os.path.dirname(path), use[len("config:"):].strip())
            return _read(os.path.abspath(parent), seen)
        return [], path, None
    return raw.split(), path, _line_of(text, _KEY)


def _line_of(text: str, key: str) -> int | None:
    in_main = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_main = stripped == f"[{_SECTION}]"
        elif in_main and stripped.split("=", 1)[0].strip() == key:
            return number
    return None
