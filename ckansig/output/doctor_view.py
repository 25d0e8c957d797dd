"""``ckansig doctor``: problems as text, JSON or GitHub annotations, and
the long explanation of a check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ckansig.model import signal_key
from ckansig.output.terminal import clean, where

if TYPE_CHECKING:
    from rich.console import Console

    from ckansig.doctor.catalogue import Check
    from ckansig.doctor.problems import Problem, Report

DOCTOR_SCHEMA_VERSION = 1


def problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "id": problem.id,
        "severity": problem.severity,
        "message": problem.message,
        "hint": problem.hint,
        "plugin": problem.plugin,
        "signal": problem.signal,
        "namespace": problem.namespace,
        "receiver": problem.receiver,
        "file": problem.file,
        "line": problem.line,
        "silenced": problem.silenced,
    }


def report_json(report: Report, fail_level: str) -> dict[str, Any]:
    """The documented ``ckansig doctor --format json`` document."""
    return {
        "version": DOCTOR_SCHEMA_VERSION,
        "ckan_version": f"{report.ckan_version[0]}.{report.ckan_version[1]}",
        "fail_level": fail_level,
        "failed": report.fails(fail_level),
        "problems": [problem_json(p) for p in report.problems],
        "summary": report.summary(),
    }


def summary_line(report: Report) -> str:
    """"3 problems: 1 error, 2 warnings (1 silenced; 4 pedantic hidden, see --strict)"."""
    counts = report.summary()
    total = sum(counts[level] for level in LEVELS)
    parts = [f"{counts[level]} {level}{'s' if counts[level] != 1 else ''}"
             for level in LEVELS if counts[level]]
    line = f"{total} problem{'s' if total != 1 else ''}"
    if parts:
        line += ": " + ", ".join(parts)
    notes = []
    if counts["silenced"]:
        notes.append(f"{counts['silenced']} silenced")
    if counts["hidden"]:
        notes.append(f"{counts['hidden']} pedantic hidden, see --strict")
    if notes:
        line += f" ({'; '.join(notes)})"
    return line


LEVELS = ("error", "warning", "info", "pedantic")
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", "pedantic": "dim"}
SEPARATOR = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "


def print_report(out: Console, report: Report) -> None:
    """Findings grouped by severity: ``plugin > signal > receiver (file:line): ID message``
    (with a typographic angle as the separator)."""
    from rich.text import Text

    for level in LEVELS:
        problems = [p for p in report.active() if p.severity == level]
        if not problems:
            continue
        out.print(Text(level, style=_SEVERITY_STYLE[level] + " underline"))
        for problem in problems:
            path = SEPARATOR.join(clean(part) for part in (
                problem.plugin, _signal_key(problem), problem.receiver) if part)
            line = Text("  ")
            if path:
                line.append(path, style="bold")
            location = where(problem.file, problem.line)
            if location:
                line.append(f" ({clean(location)})", style="dim")
            line.append(": " if path or location else "")
            line.append(problem.id, style=_SEVERITY_STYLE[level])
            line.append(" " + clean(problem.message))
            out.print(line)
            out.print(Text("      hint: " + clean(problem.hint), style="dim"))
    out.print(Text(summary_line(report), style="bold"))


def _signal_key(problem: Problem) -> str | None:
    return None if problem.signal is None else signal_key(problem.namespace, problem.signal)


def github_annotations(report: Report) -> list[str]:
    """GitHub Actions workflow commands, one per active problem."""
    lines = []
    for problem in report.active():
        command = {"error": "error", "warning": "warning", "info": "notice",
                   "pedantic": "notice"}[problem.severity]
        props = []
        if problem.file:
            props.append(f"file={_gh_property(where(problem.file, None))}")
            if problem.line:
                props.append(f"line={problem.line}")
        props.append(f"title={_gh_property(problem.id)}")
        context = SEPARATOR.join(p for p in (problem.plugin, _signal_key(problem),
                                         problem.receiver) if p)
        message = f"{context}: {problem.message}" if context else problem.message
        lines.append(f"::{command} {','.join(props)}::"
                     f"{_gh_data(clean(message) + ' (hint: ' + problem.hint + ')')}")
    return lines


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def explain(check: Check) -> str:
    """The long explanation of one check, with an example of the mistake and the fix."""
    def indented(code: str) -> str:
        return "\n".join("    " + line if line else "" for line in code.splitlines())

    bad, good = indented(check.bad), indented(check.good)
    return (f"{check.id} ({check.severity}): {check.title}\n\n{check.explanation}\n\n"
            f"The mistake:\n\n{bad}\n\nThe fix:\n\n{good}\n\nHint: {check.hint}\n")
