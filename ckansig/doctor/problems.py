"""What doctor finds: :class:`Problem` records and the :class:`Report` of a run."""

from __future__ import annotations

from typing import Literal, NamedTuple

from ckansig.doctor.catalogue import SEVERITY_RANK, Severity

__all__ = ["Problem", "Report", "Silenced"]

#: How a problem was silenced: ``--ignore``, the config, or a source comment.
Silenced = Literal["--ignore", "config", "comment"]


class Problem(NamedTuple):
    """One finding of check ``id``, pointing at the plugin, signal, receiver,
    file and line it concerns. ``silenced`` tells whether (and how) it was
    silenced."""

    id: str
    severity: Severity
    message: str
    hint: str
    plugin: str | None = None
    signal: str | None = None
    namespace: str | None = None
    receiver: str | None = None
    file: str | None = None
    line: int | None = None
    silenced: Silenced | None = None


class Report(NamedTuple):
    """Every problem found, and the CKAN release they were checked against.
    ``hidden`` counts the "pedantic" findings left out (doctor without
    ``--strict``)."""

    problems: list[Problem]
    ckan_version: tuple[int, int]
    hidden: int = 0

    def active(self) -> list[Problem]:
        """The problems that were not silenced."""
        return [p for p in self.problems if p.silenced is None]

    def summary(self) -> dict[str, int]:
        """How many active problems per severity, how many were silenced, and
        how many pedantic ones were left out."""
        counts = {"error": 0, "warning": 0, "info": 0, "pedantic": 0, "silenced": 0,
                  "hidden": self.hidden}
        for problem in self.problems:
            counts["silenced" if problem.silenced else problem.severity] += 1
        return counts

    def fails(self, level: str) -> bool:
        """Whether any active problem is at or above ``level``."""
        floor = SEVERITY_RANK[level]
        return any(SEVERITY_RANK[p.severity] >= floor for p in self.active())
