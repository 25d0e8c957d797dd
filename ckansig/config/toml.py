"""Find and parse the ckansig configuration (TOML) into :mod:`settings` records.

The configuration lives in ``plugins.toml`` under ``[ckansig]`` or in
``pyproject.toml`` under ``[tool.ckansig]``::

    [ckansig]
    paths = ["examples"]          # put first on sys.path, relative to this file
    plugins = [
      "ckanext.custom.plugin:CustomPlugin",   # module:attribute
      "ckanext.ext.listeners",                # a whole module
      "example_isignal",                      # an entry-point name (ckan.plugins)
    ]

    [ckansig.doctor]
    ignore = ["SIG014"]
    ckan_version = "2.11"
"""


import os
import re
import sys
from collections.abc import Mapping
from typing import Any

from ckansig.config.settings import (
    CONFIG_ENV,
    FAIL_LEVELS,
    Config,
    DoctorSettings,
    PluginSpec,
    parse_version,
)
from ckansig.errors import ConfigError, type_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["find_config", "load_config", "parse_config"]



def find_config(
    explicit: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> str | None:
    """The config file to use, or None when there is none.

    Order: ``explicit`` (``-c``), the ``CKANSIG_CONFIG`` variable,
    ``./plugins.toml``, then ``./pyproject.toml`` if it has ``[tool.ckansig]``.
    A path given explicitly or through the environment must exist.
    """
    environ = os.environ if environ is None else environ
    folder = os.getcwd() if cwd is None else os.fspath(cwd)
    for source, given in (("--config", explicit), (CONFIG_ENV, environ.get(CONFIG_ENV))):
        if given:
            path = os.path.join(folder, os.fspath(given))
            if os.path.isdir(path):
                raise ConfigError(f"is a folder, not a config file (from {source}): give "
                                  "the plugins.toml or pyproject.toml in it", path=given)
            if not os.path.isfile(path):
                raise ConfigError(f"config file not found (from {source})", path=given)
            return path
    plugins_toml = os.path.join(folder, "plugins.toml")
    if os.path.isfile(plugins_toml):
        return plugins_toml
    pyproject = os.path.join(folder, "pyproject.toml")
    if os.path.isfile(pyproject):
        try:
            with open(pyproject, "rb") as stream:
                raw = stream.read()
        except OSError:
            return None
        if b"ckansig" not in raw:  # cheap: most pyprojects say nothing of ckansig
            return None
        data = _parse_toml(_decode(raw, pyproject), pyproject)
        tool = data.get("tool")
        if isinstance(tool, dict) and "ckansig" in tool:  # dotted keys count too
            return pyproject
    return None


def load_config(path: str | os.PathLike[str] | None) -> Config:
    """Read and parse the config at ``path`` (an empty config for None)."""
    if path is None:
        return Config()
    path = os.fspath(path)
    try:
        with open(path, "rb") as stream:
            raw = stream.read()
    except IsADirectoryError:
        raise ConfigError("is a folder, not a config file", path=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=path) from None
    return parse_config(_decode(raw, path), path)


def _decode(raw: bytes, path: str) -> str:
    """``raw`` as UTF-8 text, or a :class:`ConfigError` naming where it is not."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raise ConfigError("starts with a UTF-8 byte order mark (BOM), which TOML does not "
                          "allow: save the file without it", path=path, line=1)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(f"not UTF-8: byte 0x{raw[exc.start]:02x} at line {line}, column "
                          f"{column}", path=path, line=line) from None


def parse_config(text: str, path: str | os.PathLike[str]) -> Config:
    """Parse config ``text`` read from ``path`` (used to name errors and resolve paths)."""
    return _Parser(text, os.fspath(path)).parse(_parse_toml(text, path))


def _parse_toml(text: str, path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except RecursionError:
        raise ConfigError("invalid TOML: nested too deeply", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(match.group(1)) if match else None
        if line is None and "end of document" in message:
            line = max(1, len(text.splitlines()))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message) or "invalid TOML"
        raise ConfigError(f"invalid TOML: {message}", path=path, line=line) from None
    return data


#: a quoted TOML string without escapes: its text is group 2
_QUOTED = re.compile(r"""(["'])([^"'\\]*)\1""")


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.lines = text.splitlines()
        self.path = path
        self.pyproject = os.path.basename(path) == "pyproject.toml"
        self._strings_at: dict[str, int] | None = None
        self.table = "tool.ckansig" if self.pyproject else "ckansig"

    def fail(self, key: str, message: str, *, table: str | None = None,
             line: int | None = None) -> ConfigError:
        table = self.table if table is None else table
        full = f"{table}.{key}" if table and key else (key or table)
        return ConfigError(message, path=self.path, line=line or self._line_of(table, key),
                           key=full)

    def _line_of_string(self, text: str) -> int | None:
        """The first line holding ``text`` as a quoted TOML string. The file's
        quoted strings are indexed in one pass (this runs for every plugin
        entry on every start-up: a scan per entry would be quadratic); a string
        the index does not hold (one with escapes) is searched line by line."""
        if self._strings_at is None:
            self._strings_at = {}
            for number, line in enumerate(self.lines, 1):
                for match in _QUOTED.finditer(line):
                    self._strings_at.setdefault(match.group(2), number)
        found = self._strings_at.get(text)
        if found is not None:
            return found
        quoted = (f'"{text}"', f"'{text}'")
        for number, line in enumerate(self.lines, 1):
            if quoted[0] in line or quoted[1] in line:
                return number
        return None

    def _line_of(self, table: str, key: str) -> int | None:
        """The line that sets ``table.key`` (best effort; the table's header, else None)."""
        target = ".".join(part for part in (table, key.split("[", 1)[0]) if part)
        current = ""
        table_line = None
        for number, line in enumerate(self.lines, 1):
            header = re.match(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$", line)
            if header:
                current = re.sub(r"\s*\.\s*", ".", header.group(1)).replace('"', "")
                if current == target or current.startswith(target + "."):
                    return number
                if current == table:
                    table_line = number
                continue
            assignment = re.match(r"""\s*["']?([A-Za-z0-9_.\-]+?)["']?\s*=""", line)
            if assignment:
                full = ".".join(p for p in (current, assignment.group(1)) if p)
                if full == target or target.startswith(full + "."):
                    return number
        return table_line

    def parse(self, data: dict[str, Any]) -> Config:
        if self.pyproject:
            section = data.get("tool", {}).get("ckansig") if isinstance(
                data.get("tool"), dict) else None
            if section is None:
                raise ConfigError("no [tool.ckansig] table", path=self.path)
        else:
            for key in data:
                if key != "ckansig":
                    raise self.fail(key, "unknown table or key (expected [ckansig])", table="")
            section = data.get("ckansig")
            if section is None:
                raise ConfigError("no [ckansig] table", path=self.path)
        if not isinstance(section, dict):
            raise self.fail("", f"must be a table, not {type_name(section)}")
        known = {"paths", "plugins", "doctor", "ckan_ini"}
        for key in section:
            if key not in known:
                raise self.fail(key, f"unknown key (expected one of {', '.join(sorted(known))})")
        ckan_ini = section.get("ckan_ini")
        if ckan_ini is not None and not isinstance(ckan_ini, str):
            raise self.fail("ckan_ini", f"must be a path, not {type_name(ckan_ini)}")
        return Config(
            path=self.path,
            paths=self._paths(section.get("paths", [])),
            plugins=self._plugins(section.get("plugins", [])),
            doctor=self._doctor(section.get("doctor", {})),
            ckan_ini=os.path.join(os.path.dirname(os.path.abspath(self.path)), ckan_ini)
            if ckan_ini else None,
        )

    def _strings(self, key: str, value: object, *, table: str | None = None,
                 line: int | None = None) -> list[str]:
        if not isinstance(value, list):
            raise self.fail(key, f"must be an array of strings, not {type_name(value)}",
                            table=table, line=line)
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(f"{key}[{index}]", f"must be a string, not {type_name(item)} "
                                f"{item!r}", table=table, line=line)
        return value

    def _paths(self, value: object) -> tuple[str, ...]:
        base = os.path.dirname(os.path.abspath(self.path))
        result: list[str] = []
        for index, item in enumerate(self._strings("paths", value)):
            folder = os.path.realpath(os.path.join(base, item))
            if not os.path.isdir(folder):
                shown = folder if folder.isprintable() else repr(folder)  # one line, always
                raise self.fail(f"paths[{index}]", f"{item!r} is not a folder (looked in {shown})")
            result.append(folder)
        return tuple(result)

    def _plugins(self, value: object) -> tuple[PluginSpec, ...]:
        specs: list[PluginSpec] = []
        seen: set[str] = set()
        for index, item in enumerate(self._strings("plugins", value)):
            try:
                spec = PluginSpec.parse(item, self._line_of_string(item))
            except ValueError as exc:
                raise self.fail(f"plugins[{index}]", str(exc)) from None
            if spec.text in seen:
                raise self.fail(f"plugins[{index}]", f"{spec.text!r} is listed twice")
            seen.add(spec.text)
            specs.append(spec)
        return tuple(specs)

    def _doctor(self, value: object) -> DoctorSettings:
        table = f"{self.table}.doctor"
        if not isinstance(value, dict):
            raise self.fail("doctor", f"must be a table, not {type_name(value)}")
        known = {"ignore", "select", "ckan_version", "fail_level", "per_receiver", "strict"}
        for key in value:
            if key not in known:
                raise self.fail(key, f"unknown key (expected one of {', '.join(sorted(known))})",
                                table=table)
        ignore = self._check_ids("ignore", value.get("ignore", []), table)
        select = self._check_ids("select", value.get("select", []), table)
        version = value.get("ckan_version")
        parsed_version = None
        if version is not None:
            parsed_version = parse_version(version) if isinstance(version, str) else None
            if parsed_version is None:
                raise self.fail("ckan_version", f"must be a string like \"2.11\", not {version!r}",
                                table=table)
        level = value.get("fail_level")
        if level is not None and level not in FAIL_LEVELS:
            raise self.fail("fail_level", f"must be one of {', '.join(FAIL_LEVELS)}, not {level!r}",
                            table=table)
        strict = value.get("strict", False)
        if not isinstance(strict, bool):
            raise self.fail("strict", f"must be true or false, not {type_name(strict)}",
                            table=table)
        per_receiver = value.get("per_receiver", {})
        if not isinstance(per_receiver, dict):
            raise self.fail("per_receiver", "must be a table of receiver name = [check IDs], "
                            f"not {type_name(per_receiver)}", table=table)
        silenced = {
            str(name): tuple(self._check_ids(f"per_receiver.{name}", ids, table,
                                             line=self._line_of_string(str(name))))
            for name, ids in per_receiver.items()
        }
        return DoctorSettings(tuple(ignore), tuple(select), parsed_version, level, silenced,
                              strict)

    def _check_ids(self, key: str, value: object, table: str,
                   line: int | None = None) -> list[str]:
        ids = self._strings(key, value, table=table, line=line)
        for index, item in enumerate(ids):
            if not (item == "*" and key.startswith("per_receiver")) and not (
                len(item) == 6 and item.startswith("SIG") and item[3:].isdigit()
            ):
                raise self.fail(f"{key}[{index}]", f"{item!r} is not a check ID like SIG014",
                                table=table, line=line)
        return ids
