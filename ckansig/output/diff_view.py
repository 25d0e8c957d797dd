"""``ckansig diff``: a wiring diff as JSON, as text for people, or as Markdown
for a pull-request comment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ckansig.output.terminal import clean

if TYPE_CHECKING:
    from rich.console import Console

    from ckansig.diffing import Receiver, WiringDiff

DIFF_SCHEMA_VERSION = 1


def _receiver_json(receiver: Receiver) -> dict[str, Any]:
    return {"signal": receiver.signal, "receiver": receiver.receiver, "plugin": receiver.plugin,
            "senders": list(receiver.senders), "alive": receiver.alive}


def _finding_json(problem: Mapping[str, Any]) -> dict[str, Any]:
    return {k: problem.get(k) for k in ("id", "severity", "message", "plugin", "namespace",
                                        "signal", "receiver", "file", "line")}


def diff_json(diff: WiringDiff) -> dict[str, Any]:
    """The documented ``ckansig diff --format json`` document."""
    return {
        "version": DIFF_SCHEMA_VERSION,
        "a": diff.a,
        "b": diff.b,
        "changed": diff.changed,
        "signals": {"added": diff.signals_added, "removed": diff.signals_removed},
        "receivers": {
            "added": [_receiver_json(r) for r in diff.receivers_added],
            "removed": [_receiver_json(r) for r in diff.receivers_removed],
            "changed": [{"signal": a.signal, "receiver": a.receiver,
                         "before": _receiver_json(a), "after": _receiver_json(b),
                         "what": _what_changed(a, b)}
                        for a, b in diff.receivers_changed],
        },
        "findings": {
            "compared": diff.findings_compared,
            "new": [_finding_json(p) for p in diff.findings_new],
            "fixed": [_finding_json(p) for p in diff.findings_fixed],
        },
        "errors": {"new": list(diff.errors_new), "fixed": list(diff.errors_fixed)},
    }


def _senders(receiver: Receiver) -> str:
    return ", ".join(receiver.senders)


def _what_changed(a: Receiver, b: Receiver) -> list[str]:
    what = []
    if a.senders != b.senders:
        what.append(f"sender {_senders(a)} -> {_senders(b)}")
    if a.plugin != b.plugin:
        what.append(f"plugin {a.plugin} -> {b.plugin}")
    if a.alive != b.alive:
        what.append("garbage-collected now" if a.alive else "no longer garbage-collected")
    return what


def _counts(diff: WiringDiff) -> list[tuple[int, str]]:
    counts = [
        (len(diff.signals_added), "signal(s) added"),
        (len(diff.signals_removed), "signal(s) removed"),
        (len(diff.receivers_added), "receiver(s) added"),
        (len(diff.receivers_removed), "receiver(s) removed"),
        (len(diff.receivers_changed), "receiver(s) changed"),
    ]
    if diff.findings_compared:
        counts += [(len(diff.findings_new), "new finding(s)"),
                   (len(diff.findings_fixed), "finding(s) fixed")]
    else:
        counts += [(len(diff.errors_new), "new load error(s)"),
                   (len(diff.errors_fixed), "load error(s) fixed")]
    return counts


def summary(diff: WiringDiff) -> str:
    """"2 receiver(s) added, 1 new finding(s)", or "no change"."""
    parts = [f"{count} {what}" for count, what in _counts(diff) if count]
    return ", ".join(parts) if parts else "no change in signal wiring"


def _where(problem: Mapping[str, Any]) -> str:
    return " > ".join(str(part) for part in (problem.get("plugin"), problem.get("signal"),
                                             problem.get("receiver")) if part)


def _finding_text(problem: Mapping[str, Any]) -> str:
    return (f"{problem.get('id')} {problem.get('severity')} {_where(problem)}: "
            f"{problem.get('message')}")


def _error_text(error: Mapping[str, Any]) -> str:
    return f"{error.get('plugin')} ({error.get('kind')}): {error.get('error')}"


def print_diff(out: Console, diff: WiringDiff) -> None:
    """The diff for people: ``+`` added, ``-`` removed, ``~`` changed."""
    from rich.text import Text

    out.print(Text(clean(f"{diff.a} -> {diff.b}"), style="bold"))

    def section(title: str, lines: list[tuple[str, str]]) -> None:
        if not lines:
            return
        out.print(Text(title, style="bold underline"))
        for mark, text in lines:
            style = {"+": "green", "-": "red", "~": "yellow"}[mark]
            out.print(Text(f"  {mark} {clean(text)}", style=style))

    section("signals", [("+", s) for s in diff.signals_added]
            + [("-", s) for s in diff.signals_removed])
    section("receivers",
            [("+", f"{r.signal} > {r.receiver} ({r.plugin}, sender {_senders(r)})")
             for r in diff.receivers_added]
            + [("-", f"{r.signal} > {r.receiver} ({r.plugin}, sender {_senders(r)})")
               for r in diff.receivers_removed]
            + [("~", f"{a.signal} > {a.receiver}: {'; '.join(_what_changed(a, b))}")
               for a, b in diff.receivers_changed])
    if diff.findings_compared:
        section("findings", [("+", _finding_text(p)) for p in diff.findings_new]
                + [("-", "fixed: " + _finding_text(p)) for p in diff.findings_fixed])
    else:
        section("load errors", [("+", _error_text(e)) for e in diff.errors_new]
                + [("-", "fixed: " + _error_text(e)) for e in diff.errors_fixed])
    out.print(Text(summary(diff), style="bold"))
    if not diff.findings_compared:
        out.print(Text("findings not compared: save both sides with ckansig list --format "
                       "json --findings", style="dim"))


def _cell(text: object) -> str:
    """Text safe in a Markdown table cell: no control characters, pipes or markup."""
    value = clean(str(text)).replace("\n", " ")
    for char in ("\\", "|", "`", "*", "_", "<", ">", "[", "]"):
        value = value.replace(char, "\\" + char)
    return value


def diff_markdown(diff: WiringDiff) -> str:
    """A Markdown summary for a pull-request comment."""
    lines = [f"### ckansig: signal wiring, {_cell(diff.a)} → {_cell(diff.b)}", ""]
    lines.append(f"**{_cell(summary(diff))}**")
    rows = ([("added", r, "") for r in diff.receivers_added]
            + [("removed", r, "") for r in diff.receivers_removed]
            + [("changed", b, "; ".join(_what_changed(a, b))) for a, b in diff.receivers_changed])
    if diff.signals_added or diff.signals_removed:
        lines += ["", "| | signal |", "|---|---|"]
        lines += [f"| added | {_cell(s)} |" for s in diff.signals_added]
        lines += [f"| removed | {_cell(s)} |" for s in diff.signals_removed]
    if rows:
        lines += ["", "| | signal | receiver | plugin | sender | change |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {mark} | {_cell(r.signal)} | {_cell(r.receiver)} | {_cell(r.plugin)} | "
                  f"{_cell(_senders(r))} | {_cell(what)} |" for mark, r, what in rows]
    findings = ([("new", p) for p in diff.findings_new]
                + [("fixed", p) for p in diff.findings_fixed])
    if findings:
        lines += ["", "| | check | severity | where | message |", "|---|---|---|---|---|"]
        lines += [f"| {mark} | {_cell(p.get('id'))} | {_cell(p.get('severity'))} | "
                  f"{_cell(_where(p))} | {_cell(p.get('message'))} |" for mark, p in findings]
    errors = ([("new", e) for e in diff.errors_new] + [("fixed", e) for e in diff.errors_fixed])
    if errors:
        lines += ["", "| | plugin | load error |", "|---|---|---|"]
        lines += [f"| {mark} | {_cell(e.get('plugin'))} | {_cell(e.get('error'))} |"
                  for mark, e in errors]
    if not diff.findings_compared:
        lines += ["", "_Findings not compared: save both sides with "
                  "`ckansig list --format json --findings`._"]
    return "\n".join(lines) + "\n"
