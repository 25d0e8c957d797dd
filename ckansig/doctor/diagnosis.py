"""Check the subscription map against CKAN's rules and blinker's behaviour.

:func:`diagnose` runs the registered checks (:mod:`ckansig.doctor.checks`) and
returns a :class:`~ckansig.doctor.problems.Report` of problems (data, not
text); :mod:`ckansig.output.doctor_view` turns it into text, JSON or GitHub
annotations.
"""

from __future__ import annotations

from collections.abc import Iterable

from ckansig.catalog import KNOWN_RELEASES
from ckansig.config.settings import Config
from ckansig.doctor import checks as _checks  # noqa: F401  (registers the checks)
from ckansig.doctor import plugin_checks as _plugin_checks  # noqa: F401  (and these)
from ckansig.doctor import signal_checks as _signal_checks  # noqa: F401  (and these)
from ckansig.doctor.catalogue import CHECKS, SEVERITY_RANK
from ckansig.doctor.context import Shared, run_checks
from ckansig.doctor.problems import Report
from ckansig.doctor.silencing import silence
from ckansig.errors import ConfigError
from ckansig.isolation import GC
from ckansig.model import Registry

__all__ = ["default_ckan_version", "diagnose"]


def default_ckan_version() -> tuple[int, int]:
    """The installed CKAN's release, else the newest release ckansig knows."""
    from ckansig.signals import REAL_CKAN

    if REAL_CKAN:
        try:
            import ckan

            major, minor = str(ckan.__version__).split(".")[:2]
            return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)
        except (ImportError, AttributeError, ValueError):
            pass
    return KNOWN_RELEASES[-1]


def diagnose(
    registry: Registry,
    config: Config | None = None,
    *,
    ckan_version: tuple[int, int] | None = None,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    collect_garbage: bool = True,
    strict: bool | None = None,
) -> Report:
    """Run the checks on ``registry`` and return the problems found.

    ``select`` runs only those check IDs (default: the config's ``select``,
    else all); ``ignore`` (and the config's ``[ckansig.doctor]`` settings and
    ``# ckansig: ignore[...]`` comments) marks problems as silenced rather than
    dropping them, so that the summary can count them. "pedantic" findings
    are left out (and counted) unless ``strict`` (default: the config's). Garbage is collected
    first, so that receivers blinker has silently dropped are found (SIG007).
    (A registry the loader built is ``settled``: it needs no collection.)
    A check ID in the config's ``select``, ``ignore`` or ``per_receiver`` that
    no check has is a :class:`~ckansig.errors.ConfigError`: a typo there must
    not make doctor check nothing, or silence nothing, and pass.
    """
    settings = config.doctor if config is not None else None
    if config is not None:
        _check_configured_ids(config)
    release = ckan_version or (settings.ckan_version if settings else None) \
        or default_ckan_version()
    if collect_garbage and not registry.settled:  # the loader's registry needs none
        GC.collect()
    shared = Shared(registry, config, release)
    selected = set(select) or set(settings.select if settings else ()) or set(CHECKS)
    problems = silence(run_checks(shared, selected), settings, set(ignore), shared.def_lines)
    hidden = 0
    if not (strict if strict is not None else settings is not None and settings.strict):
        kept = [p for p in problems if p.severity != "pedantic"]
        hidden = sum(1 for p in problems if p.severity == "pedantic" and p.silenced is None)
        problems = kept
    problems.sort(key=lambda p: (-SEVERITY_RANK[p.severity], p.id, p.plugin or "",
                                 p.signal or "", p.receiver or "", p.file or "", p.line or 0))
    return Report(problems, release, hidden)


def _check_configured_ids(config: Config) -> None:
    settings = config.doctor
    table = "tool.ckansig.doctor" if (config.path or "").endswith("pyproject.toml") \
        else "ckansig.doctor"
    for key, ids in (("select", settings.select), ("ignore", settings.ignore),
                     *((f"per_receiver.{name}", ids)
                       for name, ids in settings.per_receiver.items())):
        unknown = [i for i in ids if i != "*" and i not in CHECKS]
        if unknown:
            raise ConfigError(f"{', '.join(unknown)}: no check has this ID (known: SIG001-"
                              f"SIG{len(CHECKS):03d})", path=config.path,
                              line=_line_of_quoted(config.path, unknown[0]),
                              key=f"{table}.{key}")


def _line_of_quoted(path: str | None, text: str) -> int | None:
    import linecache

    if not path:
        return None
    for number, line in enumerate(linecache.getlines(path), 1):
        if f'"{text}"' in line or f"'{text}'" in line:
            return number
    return None
