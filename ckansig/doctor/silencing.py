"""Silencing: which findings the user said to keep quiet, and how.

From broadest to narrowest: ``--ignore``, the config's ``ignore`` and
``per_receiver`` tables, and ``# ckansig: ignore[SIGnnn]`` comments on the
receiver's ``def`` line or on the flagged line. Silenced problems are kept
(the summary counts them), marked with how they were silenced.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Mapping, Sequence

from ckansig.config.settings import DoctorSettings
from ckansig.doctor import source
from ckansig.doctor.problems import Problem, Silenced

__all__ = ["silence"]


def silence(
    problems: list[Problem], settings: DoctorSettings | None, ignore: Collection[str],
    def_lines: Mapping[tuple[str | None, str | None], int | None],
) -> list[Problem]:
    """``problems``, each marked with how it was silenced (or not)."""
    configured = set(settings.ignore if settings else ())
    per_receiver = settings.per_receiver if settings else {}
    result = []
    for problem in problems:
        reason: Silenced | None = None
        if problem.id in ignore:
            reason = "--ignore"
        elif problem.id in configured or _receiver_silenced(problem, per_receiver):
            reason = "config"
        elif _comment_silenced(problem, def_lines.get((problem.file, problem.receiver))):
            reason = "comment"
        result.append(problem._replace(silenced=reason))
    return result


def _receiver_silenced(problem: Problem, per_receiver: Mapping[str, Sequence[str]]) -> bool:
    if not problem.receiver:
        return False
    return any(
        fnmatch.fnmatchcase(problem.receiver, pattern) and (problem.id in ids or "*" in ids)
        for pattern, ids in per_receiver.items()
    )


def _comment_silenced(problem: Problem, def_line: int | None) -> bool:
    ids = source.silenced(problem.file, problem.line, def_line)
    return ids is not None and (problem.id in ids or "*" in ids)
