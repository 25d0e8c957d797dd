"""Check the subscription map against CKAN's rules and blinker's behaviour.

:func:`diagnose` runs the registered checks (:mod:`ckansig.doctor.checks`) and
returns a :class:`~ckansig.doctor.problems.Report` of problems (data, not
text); :mod:`ckansig.output.doctor_view` turns it into text, JSON or GitHub
annotations.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable

from ckansig.catalog import KNOWN_RELEASES
from ckansig.config.settings import Config
from ckansig.doctor import checks as _checks  # noqa: F401  (registers the checks)
from ckansig.doctor.catalogue import CHECKS, SEVERITY_RANK
from ckansig.doctor.context import Shared, run_checks
from ckansig.doctor.problems import Report
from ckansig.doctor.silencing import silence
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
) -> Report:
    """Run the checks on ``registry`` and return the problems found.

    ``select`` runs only those check IDs (default: the config's ``select``,
    else all); ``ignore`` (and the config's ``[ckansig.doctor]`` settings and
    ``# ckansig: ignore[...]`` comments) marks problems as silenced rather than
    dropping them, so that the summary can count them. Garbage is collected
    first, so that receivers blinker has silently dropped are found (SIG007).
    """
    settings = config.doctor if config is not None else None
    release = ckan_version or (settings.ckan_version if settings else None) \
        or default_ckan_version()
    if collect_garbage:
        gc.collect()
    shared = Shared(registry, config, release)
    selected = set(select) or set(settings.select if settings else ()) or set(CHECKS)
    problems = silence(run_checks(shared, selected), settings, set(ignore), shared.def_lines)
    problems.sort(key=lambda p: (-SEVERITY_RANK[p.severity], p.id, p.plugin or "",
                                 p.signal or "", p.receiver or "", p.file or "", p.line or 0))
    return Report(problems, release)
