"""Read a CKAN config file (``ckan.ini``).

``ckan.plugins`` in ``[app:main]`` names plugins by their entry-point names,
whitespace-separated, possibly over continuation lines.

- Inside CKAN (:func:`read_with_ckan`), CKAN's own loader reads the whole
  file: ``use = config:`` chains, ``%(here)s``, and ``%(CKAN_…)s`` filled
  from the environment, with CKAN's errors.
- Without CKAN (:func:`read_plugins`), ckansig reads ``ckan.plugins`` alone:
  ``%(here)s`` is the file's folder and ``use = config:base.ini`` inherits
  from another file. Nothing else is read.
"""

from __future__ import annotations

import configparser
import os
import stat
from typing import Any

from ckansig.errors import ConfigError, first_line

__all__ = ["ckan_importable", "read_plugins", "read_with_ckan"]
_SECTION = "app:main"
_KEY = "ckan.plugins"


def read_plugins(path: str | os.PathLike[str]) -> tuple[list[str], str, int | None]:
    """The plugin names in ``path``, the file that sets them and its line."""
    return _read(os.path.abspath(os.fspath(path)), set())


def regular_file(path: str) -> None:
    """Raise :class:`ConfigError` unless ``path`` is a regular file: a folder,
    a FIFO or a device (``use = config:/dev/zero``) would be read forever, or
    not at all."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ConfigError("CKAN config file not found", path=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read CKAN config file: {exc.strerror or exc}",
                          path=path) from None
    if stat.S_ISDIR(mode):
        raise ConfigError("is a folder, not a CKAN config file: give the .ini file in it",
                          path=path)
    if not stat.S_ISREG(mode):
        raise ConfigError("is not a regular file (a FIFO, a device or a socket), so not a "
                          "CKAN config file", path=path)


def _read(path: str, seen: set[str]) -> tuple[list[str], str, int | None]:
    if path in seen:
        raise ConfigError("inherits from itself (use = config:…)", path=path)
    seen.add(path)
    regular_file(path)
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


def ckan_importable() -> bool:
    """Whether the ``ckan`` package can be imported here (without importing it)."""
    import importlib.util

    try:
        return importlib.util.find_spec("ckan") is not None
    except (ImportError, ValueError):
        return False


def read_with_ckan(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[str], str,
                                                            int | None]:
    """The ini as CKAN's loader reads it, its ``ckan.plugins`` names (repeats
    kept), and the file and line that set them. CKAN's errors, and a missing
    ``%(CKAN_…)s`` variable, are :class:`ConfigError`."""
    path = os.path.abspath(os.fspath(path))
    for link in _chain(path):  # before CKAN's loader reads them: regular files only
        regular_file(link)
    from ckan.cli import CKANConfigLoader
    from ckan.exceptions import CkanConfigurationException

    try:
        conf: dict[str, Any] = CKANConfigLoader(path).get_config()
    except configparser.InterpolationMissingOptionError as exc:
        variable = f"%({exc.reference})s"
        hint = (f" (set the environment variable {exc.reference})"
                if exc.reference.upper().startswith("CKAN_") else "")
        raise ConfigError(f"{exc.option} uses {variable}, which is not set{hint}",
                          path=path, line=_line_of(_text(path), exc.option),
                          key=exc.option) from None
    except (CkanConfigurationException, configparser.Error, OSError,
            UnicodeDecodeError) as exc:
        raise ConfigError(f"invalid CKAN config: {first_line(exc)}", path=path) from None
    names = str(conf.get(_KEY) or "").split()
    source, line = _site_of_plugins(path)
    return conf, names, source, line


def _text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as stream:
            return stream.read()
    except (OSError, UnicodeDecodeError):
        return ""


def _chain(path: str) -> list[str]:
    """``path`` and the files its ``use = config:`` chain names, in order, as
    far as they can be read (each is checked before it is read)."""
    chain: list[str] = []
    while path not in chain:
        chain.append(path)
        if not os.path.isfile(path):
            break  # the caller's check says what it is
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read_string(_text(path))
            use = parser.get(_SECTION, "use", fallback="")
        except configparser.Error:
            break
        schema, _, parent = use.partition(":")
        if schema.strip() != "config" or not parent:
            break
        path = os.path.abspath(os.path.join(os.path.dirname(path), parent.strip()))
    return chain


def _site_of_plugins(path: str) -> tuple[str, int | None]:
    """The file of ``path``'s ``use = config:`` chain that sets ``ckan.plugins``,
    and the line, found as CKAN's loader walks the chain (paths relative to
    each file's folder, nothing interpolated)."""
    chain = _chain(path)
    for link in chain:
        if not os.path.isfile(link):
            break
        line = _line_of(_text(link), _KEY)
        if line is not None:
            return link, line
    return chain[0], None
