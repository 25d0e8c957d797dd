"""Configuration: ``plugins.toml`` (or ``[tool.ckansig]`` in ``pyproject.toml``)
and the plugin list of a CKAN config file, parsed into immutable records.

- :mod:`ckansig.config.settings`: the records (:class:`Config`, :class:`PluginSpec`,
  :class:`DoctorSettings`);
- :mod:`ckansig.config.toml`: finding and parsing the TOML file;
- :mod:`ckansig.config.ckan_ini`: ``ckan.plugins`` from a ``ckan.ini``.
"""

from __future__ import annotations

from ckansig.config.settings import (
    CKAN_INI_ENV,
    CONFIG_ENV,
    FAIL_LEVELS,
    Config,
    DoctorSettings,
    PluginKind,
    PluginSpec,
    parse_version,
)
from ckansig.config.toml import find_config, load_config, parse_config

__all__ = [
    "CKAN_INI_ENV",
    "CONFIG_ENV",
    "FAIL_LEVELS",
    "Config",
    "DoctorSettings",
    "PluginKind",
    "PluginSpec",
    "find_config",
    "load_config",
    "parse_config",
    "parse_version",
]
