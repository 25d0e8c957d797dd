"""The configuration as immutable records: the plugins to load, the paths to
put on ``sys.path``, doctor's defaults, and the CKAN config file to read.
"""


import os
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from ckansig.errors import ConfigError

__all__ = [
    "CKAN_INI_ENV",
    "CONFIG_ENV",
    "FAIL_LEVELS",
    "Config",
    "DoctorSettings",
    "PluginKind",
    "PluginSpec",
    "parse_version",
]

CONFIG_ENV = "CKANSIG_CONFIG"
CKAN_INI_ENV = "CKAN_INI"  # as the ckan command reads it

_ENTRY_POINT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _dotted(text: str) -> bool:
    """A dotted Python path (a.b.c). String methods, not a regex: this runs
    for every plugin on every start-up, and compiling patterns costs more."""
    return all(part.isidentifier() and part.isascii() for part in text.split("."))


def _entry_point_name(text: str) -> bool:
    return text[:1] not in ("", ".", "-") and _ENTRY_POINT_CHARS.issuperset(text)


def parse_version(text: str) -> tuple[int, int] | None:
    """``"2.11"`` → ``(2, 11)``; None when ``text`` is not MAJOR.MINOR."""
    major, dot, minor = text.partition(".")
    if dot and major.isdigit() and minor.isdigit() and major.isascii() and minor.isascii():
        return int(major), int(minor)
    return None


#: The levels ``fail_level`` (and ``--fail-level``) take.
FAIL_LEVELS = ("error", "warning", "info", "pedantic")

PluginKind = Literal["object", "module", "name"]


class PluginSpec(NamedTuple):
    """One entry of ``plugins``.

    ``kind`` is "object" for ``module:attribute``, "module" for a dotted module
    path, and "name" for a bare name, which is looked up in the ``ckan.plugins``
    and ``ckan.test_plugins`` entry-point groups first and imported as a module
    when no entry point has that name.
    """

    text: str
    kind: PluginKind
    module: str
    attribute: str | None = None
    line: int | None = None
    source: str | None = None  # the file that names the plugin, when not the config

    @classmethod
    def parse(cls, text: str, line: int | None = None) -> "PluginSpec":
        """Parse one entry, raising ``ValueError`` with the reason if it is malformed."""
        text = text.strip()
        if not text:
            raise ValueError("empty plugin name")
        if ":" in text:
            module, _, attribute = text.partition(":")
            if not _dotted(module):
                raise ValueError(f"{text!r}: {module!r} is not a dotted module path")
            if not _dotted(attribute):
                raise ValueError(f"{text!r}: {attribute!r} is not an attribute path")
            return cls(text, "object", module, attribute, line)
        if "." in text:
            if not _dotted(text):
                raise ValueError(f"{text!r} is not a dotted module path")
            return cls(text, "module", text, None, line)
        if not _entry_point_name(text):
            raise ValueError(f"{text!r} is neither a module path nor a plugin name")
        return cls(text, "name", text, None, line)


class DoctorSettings(NamedTuple):
    """``[ckansig.doctor]``: defaults for ``ckansig doctor``."""

    ignore: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ckan_version: tuple[int, int] | None = None
    fail_level: str | None = None
    #: receiver name (a glob such as "ckanext.ext.*") -> check IDs silenced for it
    per_receiver: Mapping[str, tuple[str, ...]] = {}
    #: show "pedantic" findings too (``--strict``)
    strict: bool = False


class Config(NamedTuple):
    """A parsed configuration. ``path`` is None when no file was found.

    ``ckan_config`` is set in CKAN mode (CKAN is importable and a ``ckan.ini``
    is given): the ini as CKAN's own loader reads it, which loading installs
    into CKAN before it loads the plugins as CKAN does.
    """

    path: str | None = None
    paths: tuple[str, ...] = ()
    plugins: tuple[PluginSpec, ...] = ()
    doctor: DoctorSettings = DoctorSettings()
    ckan_ini: str | None = None  # a CKAN config file whose ckan.plugins are loaded too
    ckan_config: Mapping[str, Any] | None = None

    def with_ckan_ini(self, ckan_ini: str | os.PathLike[str] | None, *,
                      inside_ckan: bool | None = None) -> "Config":
        """This config plus the plugins ``ckan.plugins`` names in ``ckan_ini``
        (default: the config's own ``ckan_ini``).

        ``inside_ckan`` (default: whether CKAN is importable) reads the file
        with CKAN's own loader: ``use = config:`` chains and ``%(CKAN_…)s``
        from the environment as CKAN resolves them. Otherwise ckansig reads
        ``ckan.plugins`` itself. Either way a plugin named twice is kept
        twice: loading fails the second, as CKAN does.
        """
        ini = os.fspath(ckan_ini) if ckan_ini is not None else self.ckan_ini
        if ini is None:
            return self
        from ckansig.config import ckan_ini as reader

        if inside_ckan is None:
            inside_ckan = reader.ckan_importable()
        ckan_config = None
        if inside_ckan:
            ckan_config, names, source, line = reader.read_with_ckan(ini)
        else:
            names, source, line = reader.read_plugins(ini)
        own = {spec.text for spec in self.plugins}
        seen: set[str] = set()
        extra = []
        for name in names:
            # named in the config too: loaded once; named twice in the ini: both
            # kept, so that loading fails the second as CKAN does
            if name in own and name not in seen:
                continue
            seen.add(name)
            try:
                spec = PluginSpec.parse(name, line)
            except ValueError as exc:
                raise ConfigError(str(exc), path=source, line=line, key="ckan.plugins") from None
            extra.append(spec._replace(kind="name", source=source))
        return self._replace(plugins=self.plugins + tuple(extra), ckan_ini=ini,
                             ckan_config=ckan_config)


