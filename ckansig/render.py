"""Turn registries, traces and problems into JSON-able dicts or rich text.

Everything that comes from plugins (names, docstrings, reprs, messages) is data:
it is cleaned of terminal control sequences and never parsed as rich markup
(text is built with ``rich.text.Text``, not markup strings). rich is imported
only when text output is asked for.
"""

from __future__ import annotations

import os
from typing import IO, TYPE_CHECKING, Any

from ckansig.registry import LoadError, Registry, SignalInfo, Subscription

if TYPE_CHECKING:
    from rich.console import Console

    from ckansig.checks import Check
    from ckansig.doctor import Problem, Report
    from ckansig.recording import SendRecord
    from ckansig.tracing import ReceiverTrace, Trace
    from ckansig.values import Redactor

LIST_SCHEMA_VERSION = 1

# Every C0/C1 control character but tab and newline, mapped to its escape.
_CONTROL = {
    code: chr(code).encode("unicode_escape").decode("ascii")
    for code in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))
}


def clean(text: object) -> str:
    """``text`` as a string that is safe to print on a terminal: control
    characters (ESC, BEL, CR, …) are shown escaped instead of being obeyed."""
    return str(text).translate(_CONTROL)


def where(file: str | None, line: int | None) -> str:
    """``file:line`` shortened to a path relative to the working directory."""
    if not file:
        return ""
    try:
        rel = os.path.relpath(file)
        if not rel.startswith(".."):
            file = rel
    except ValueError:  # another drive on Windows
        pass
    return f"{file}:{line}" if line else file


# -- JSON ---------------------------------------------------------------------


def subscription_json(sub: Subscription) -> dict[str, Any]:
    return {
        "receiver": sub.receiver.name,
        "plugin": sub.plugin,
        "via": sub.via,
        "sender": sub.sender.to_json(),
        "sender_type": sub.sender.type,
        "module": sub.receiver.module,
        "file": sub.receiver.file,
        "line": sub.receiver.line,
        "weak": sub.weak,
        "alive": sub.alive,
        "async": sub.receiver.is_async,
        "kind": sub.receiver.kind,
    }


def error_json(error: LoadError) -> dict[str, Any]:
    return {
        "plugin": error.plugin,
        "kind": error.kind,
        "error": error.message,
        "signal": error.signal,
        "namespace": error.namespace,
        "receiver": error.receiver,
        "file": error.file,
        "line": error.line,
        "missing_module": error.missing_module,
    }


def signal_json(info: SignalInfo) -> dict[str, Any]:
    return {
        "namespace": info.namespace,
        "name": info.name,
        "attribute": info.core.attribute if info.core else None,
        "args": list(info.args),
        "doc": info.doc,
        "releases": info.core.releases if info.core else None,
        "defined_by": info.defined_by,
        "receivers": [subscription_json(s) for s in info.subscriptions],
    }


def list_json(registry: Registry, signals: list[SignalInfo]) -> dict[str, Any]:
    """The documented ``ckansig list --format json`` document."""
    return {
        "version": LIST_SCHEMA_VERSION,
        "config": registry.config_path,
        "signals": [signal_json(info) for info in signals],
        "errors": [error_json(e) for e in registry.errors],
    }


# -- text ---------------------------------------------------------------------


def console(file: IO[str] | None = None, stderr: bool = False) -> Console:
    """A rich console: colour only on a terminal, NO_COLOR respected (by rich)."""
    from rich.console import Console

    console = Console(file=file, stderr=stderr, highlight=False, soft_wrap=True, emoji=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 160  # a pipe or a file: fold tables less than rich's default 80
    return console


def print_list(out: Console, registry: Registry, signals: list[SignalInfo]) -> None:
    """``ckansig list`` for people: signals grouped by namespace, receivers under each."""
    from rich.text import Text

    current: object = object()
    for info in signals:
        if info.namespace != current:
            current = info.namespace
            out.print(Text(clean(info.namespace or "(other signals)"), style="bold underline"))
        line = Text("  ")
        line.append(clean(info.name), style="bold cyan")
        if info.core and info.core.attribute != info.name:
            line.append(f" (signals.{info.core.attribute})", style="dim")
        if info.args:
            line.append(f" ({', '.join(info.args)})", style="green")
        if info.core:
            line.append(f"  [{info.core.releases}]", style="dim")
        out.print(line)
        if info.doc:
            out.print(Text("    " + clean(info.doc), style="italic dim"))
        if info.core is None:
            out.print(Text("    " + _origin(info), style="dim"))
        if not info.subscriptions:
            out.print(Text("    no receivers", style="dim"))
        for sub in info.subscriptions:
            out.print(_receiver_line(sub))
    total = sum(len(i.subscriptions) for i in signals)
    out.print(Text(f"{len(signals)} signal(s), {total} receiver(s)", style="bold"))


def _origin(info: SignalInfo) -> str:
    if info.defined_by == "preloaded":
        return "defined before the plugins loaded"
    if info.defined_by:
        module = f" (in {info.defined_module})" if info.defined_module else ""
        return clean(f"defined by {info.defined_by}{module}")
    return clean("not defined by any loaded module; looked up by "
                 + (", ".join(info.mentioned_by) or "nobody"))


def _receiver_line(sub: Subscription) -> Any:
    from rich.text import Text

    line = Text("    • ")
    line.append(clean(sub.receiver.name), style="bold" if sub.alive else "strike red")
    if not sub.alive:
        line.append(" (dropped: garbage-collected)", style="red")
    if sub.receiver.is_async:
        line.append(" async", style="magenta")
    if sub.sender.kind != "any":
        line.append(f"  sender={clean(sub.sender.repr)}", style="yellow")
    details = [
        clean(sub.plugin or "unknown plugin"),
        {"isignal": "ISignal", "import": "connected at import", "unknown": "unknown origin"}[
            sub.via],
        "weak" if sub.weak else "strong",
    ]
    location = where(sub.receiver.file, sub.receiver.line)
    if location:
        details.append(clean(location))
    line.append("  " + " · ".join(details), style="dim")
    return line


def print_errors(err: Console, errors: list[LoadError]) -> None:
    """Load errors, one line each, on stderr."""
    from rich.text import Text

    for error in errors:
        line = Text("error: ", style="bold red")
        line.append(f"plugin {clean(error.plugin)}: {clean(error.message)}")
        location = where(error.file, error.line)
        if location:
            line.append(f" ({clean(location)})", style="dim")
        err.print(line)


# -- fire ---------------------------------------------------------------------

FIRE_SCHEMA_VERSION = 1


def short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_SIMPLE = frozenset({int, float, bool, type(None)})


def safe_repr(value: Any, redactor: Redactor, limit: int = 200) -> str:
    """The repr of ``value`` (a receiver's result), secrets hidden, shortened."""
    if type(value) in _SIMPLE:
        return repr(value)  # nothing to hide, nothing to shorten: the common case
    try:
        text = repr(redactor.value(value))
    except Exception as exc:  # a broken __repr__ belongs to the plugin
        text = f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"
    return short(redactor.text(text), limit)


def jsonable(value: Any, redactor: Redactor) -> Any:
    """``value`` as JSON data: plain data as is (secrets hidden), anything else as its repr."""
    value = redactor.value(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: jsonable(v, redactor) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, redactor) for v in value]
    return safe_repr(value, redactor)


def trace_json(trace: Trace, redactor: Redactor) -> dict[str, Any]:
    """The documented ``ckansig fire --format json`` document."""
    from ckansig.tracing import top_level_keys

    receivers = []
    # Plain rows rather than ReceiverTrace records: this loop runs per receiver.
    for info, sub, status, is_async, duration, result, error, mutated, reached, output in (
        trace.rows()
    ):
        receivers.append({
            "receiver": info.name,
            "plugin": sub.plugin if sub else None,
            "via": sub.via if sub else "unknown",
            "sender_filter": sub.sender.to_json() if sub else None,
            "file": info.file,
            "line": info.line,
            "status": status,
            "async": is_async,
            "duration_ms": round(duration * 1000, 4),
            "result": None if status != "ok" else safe_repr(result, redactor),
            "error": None if error is None else {
                "type": error.type,
                "message": redactor.text(error.message),
                "file": error.file,
                "line": error.line,
            },
            "mutated": top_level_keys(mutated) if mutated else [],
            "changes": list(mutated) if mutated else [],
            "reached_by_send": reached,
            "output": None if output is None else redactor.text(output),
        })
    return {
        "version": FIRE_SCHEMA_VERSION,
        "signal": trace.signal.name,
        "namespace": trace.signal.namespace,
        "sender": jsonable(trace.sender, redactor),
        "kwargs": jsonable(trace.kwargs, redactor),
        "dry_run": trace.dry_run,
        "stop_on_error": trace.stop_on_error,
        "muted": trace.muted,
        "notes": [redactor.text(n) for n in trace.notes],
        "unchecked": list(trace.unchecked),
        "summary": trace_summary(trace),
        "receivers": receivers,
    }


def trace_summary(trace: Trace) -> dict[str, int]:
    return {
        "receivers": len(trace.receivers),
        "ok": trace.count("ok"),
        "error": trace.count("error"),
        "not_reached": trace.count("not_reached"),
        "mutated": trace.mutated,
    }


def print_trace(out: Console, trace: Trace, redactor: Redactor) -> None:
    """``ckansig fire`` for people: a table of receivers and a summary line."""
    from rich.table import Table
    from rich.text import Text

    head = Text("fire ", style="bold")
    head.append(clean(trace.signal.key), style="bold cyan")
    head.append(f"  sender={clean(safe_repr(trace.sender, redactor, 80))}", style="yellow")
    if trace.kwargs:
        head.append(f"  kwargs={clean(safe_repr(trace.kwargs, redactor, 120))}", style="dim")
    out.print(head)
    for note in trace.notes:
        out.print(Text("note: " + clean(redactor.text(note)), style="yellow"))
    if trace.unchecked:
        out.print(Text("note: not checked for mutation (not plain data): "
                       + clean(", ".join(trace.unchecked)), style="dim"))
    if not trace.receivers:
        out.print(Text("no receivers" + (" (muted)" if trace.muted else ""), style="dim"))
    else:
        table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
        for column in ("#", "receiver", "plugin", "status", "time", "result / error"):
            table.add_column(column, overflow="fold")
        for index, r in enumerate(trace.receivers, 1):
            table.add_row(*_trace_row(index, r, redactor))
        out.print(table)
    summary = trace_summary(trace)
    line = Text(f"{summary['receivers']} receiver(s): {summary['ok']} ok, "
                f"{summary['error']} raised", style="bold")
    if summary["not_reached"]:
        line.append(f", {summary['not_reached']} not reached")
    line.append(f", {summary['mutated']} mutated")
    if trace.dry_run:
        line = Text(f"{summary['receivers']} receiver(s) would be called (dry run)", style="bold")
    out.print(line)


_STATUS_STYLE = {"ok": "green", "error": "bold red", "not_reached": "dim", "dry_run": "cyan"}


def _trace_row(index: int, r: ReceiverTrace, redactor: Redactor) -> list[Any]:
    from rich.text import Text

    name = Text(clean(r.receiver.name))
    if r.is_async:
        name.append(" async", style="magenta")
    sub = r.subscription
    if sub is not None and sub.sender.kind != "any":
        name.append(f" sender={clean(sub.sender.repr)}", style="yellow")
    status = Text(r.status, style=_STATUS_STYLE[r.status])
    if r.mutated:
        status.append(" mutated " + clean(", ".join(r.mutated)), style="bold yellow")
    if r.status == "error" and r.error is not None:
        detail = Text(clean(f"{r.error.type}: {redactor.text(r.error.message)}"), style="red")
        location = where(r.error.file, r.error.line)
        if location:
            detail.append(f" ({clean(location)})", style="dim")
    elif r.status == "ok":
        detail = Text(clean(safe_repr(r.result, redactor)))
    else:
        detail = Text("")
    if not r.reached_by_send and r.status != "not_reached":
        detail.append("  [Signal.send would not reach this]", style="dim")
    if r.output:
        detail.append("\nprinted: " + clean(short(redactor.text(r.output.rstrip()), 300)),
                      style="dim")
    time = f"{r.duration * 1000:.2f} ms" if r.status in ("ok", "error") else ""
    return [str(index), name, Text(clean(sub.plugin if sub and sub.plugin else "?")), status,
            time, detail]


# -- doctor -------------------------------------------------------------------

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
    """"3 problems: 1 error, 2 warnings (1 silenced)"."""
    counts = report.summary()
    total = counts["error"] + counts["warning"] + counts["info"]
    parts = [f"{counts[level]} {level}{'s' if counts[level] != 1 else ''}"
             for level in ("error", "warning", "info") if counts[level]]
    line = f"{total} problem{'s' if total != 1 else ''}"
    if parts:
        line += ": " + ", ".join(parts)
    if counts["silenced"]:
        line += f" ({counts['silenced']} silenced)"
    return line


_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
SEPARATOR = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "


def print_report(out: Console, report: Report) -> None:
    """Findings grouped by severity: ``plugin > signal > receiver (file:line): ID message``
    (with a typographic angle as the separator)."""
    from rich.text import Text

    for level in ("error", "warning", "info"):
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
    if problem.signal is None:
        return None
    return f"{problem.namespace}:{problem.signal}" if problem.namespace else problem.signal


def github_annotations(report: Report) -> list[str]:
    """GitHub Actions workflow commands, one per active problem."""
    lines = []
    for problem in report.active():
        command = {"error": "error", "warning": "warning", "info": "notice"}[problem.severity]
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


# -- recorded sends (ckansig trace, the pytest plugin) ----------------------------


def record_json(rec: SendRecord, redactor: Redactor | None = None) -> dict[str, Any]:
    """One recorded send as a JSON line (secrets hidden unless ``redactor`` says not)."""
    from ckansig.inspection import describe
    from ckansig.values import Redactor

    redactor = redactor or Redactor(rec.kwargs, rec.sender)
    receivers = []
    for outcome in rec.outcomes:
        error = outcome.error
        receivers.append({
            "receiver": describe(outcome.receiver).name,
            "status": outcome.status,
            "result": safe_repr(outcome.result, redactor) if outcome.status == "ok" else None,
            "error": None if error is None else {
                "type": type(error).__name__,
                "message": redactor.text(str(error).strip().split("\n", 1)[0]),
            },
        })
    return {
        "time": rec.time,
        "signal": rec.name,
        "namespace": rec.namespace,
        "sender": jsonable(rec.sender, redactor),
        "kwargs": jsonable(rec.kwargs, redactor),
        "async": rec.is_async,
        "duration_ms": round(rec.duration * 1000, 4),
        "receivers": receivers,
        "error": None if rec.error is None else {
            "type": type(rec.error).__name__,
            "message": redactor.text(str(rec.error).strip().split("\n", 1)[0]),
        },
    }


def read_jsonl(path: str) -> list[dict[str, Any]]:
    """The sends in a ``ckansig trace`` file; a torn last line (a crash) is skipped."""
    import json

    sends = []
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            try:
                sends.append(json.loads(line))
            except ValueError:
                continue
    return sends


def print_trace_summary(out: Console, path: str, kept: str | None) -> None:
    """A table of the signals a traced command sent: how often, to how many
    receivers, and which receivers raised."""
    from rich.table import Table
    from rich.text import Text

    sends = read_jsonl(path)
    by_signal: dict[str, dict[str, Any]] = {}
    for send in sends:
        key = f"{send['namespace']}:{send['signal']}" if send["namespace"] else send["signal"]
        row = by_signal.setdefault(key, {"sends": 0, "calls": 0, "raised": set()})
        row["sends"] += 1
        row["calls"] += sum(1 for r in send["receivers"] if r["status"] in ("ok", "error"))
        row["raised"].update(r["receiver"] for r in send["receivers"] if r["status"] == "error")
    if not sends:
        out.print(Text("ckansig trace: no signal was sent", style="bold"))
    else:
        table = Table(title="signals sent (ckansig trace)", show_edge=False, box=None,
                      header_style="bold")
        for column in ("signal", "sends", "receiver calls", "raised"):
            table.add_column(column, overflow="fold")
        for key, row in sorted(by_signal.items(), key=lambda kv: -kv[1]["sends"]):
            raised = ", ".join(sorted(row["raised"]))
            table.add_row(Text(clean(key)), str(row["sends"]), str(row["calls"]),
                          Text(clean(raised), style="bold red") if raised else "")
        out.print(table)
    if kept:
        out.print(Text(f"{len(sends)} send(s) written to {clean(kept)}", style="dim"))
