"""``ckansig list``: the registry as JSON or as text for people."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ckansig.model import LoadError, Registry, SignalInfo, Subscription
from ckansig.output.terminal import clean, where

if TYPE_CHECKING:
    from rich.console import Console

    from ckansig.sends import SendIndex, SendSite

LIST_SCHEMA_VERSION = 1


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
        "present": info.present,
        "receivers": [subscription_json(s) for s in info.subscriptions],
    }


def send_json(site: SendSite) -> dict[str, Any]:
    return {
        "file": site.file,
        "line": site.line,
        "method": site.method,
        "sender": site.sender,
        "kwargs": list(site.kwargs) if site.kwargs is not None else None,
        "via": site.via,
        "pattern": site.pattern,
    }


def list_json(registry: Registry, signals: list[SignalInfo],
              sends: SendIndex | None = None) -> dict[str, Any]:
    """The documented ``ckansig list --format json`` document; with ``sends``,
    each signal also lists its send sites (``list --sends``)."""
    documents = [signal_json(info) for info in signals]
    if sends is not None:
        for document, info in zip(documents, signals, strict=True):
            document["sends"] = [send_json(s) for s in sends.sites_of(info.namespace, info.name)]
    return {
        "version": LIST_SCHEMA_VERSION,
        "config": registry.config_path,
        "signals": documents,
        "errors": [error_json(e) for e in registry.errors],
    }


def print_list(out: Console, registry: Registry, signals: list[SignalInfo],
               sends: SendIndex | None = None) -> None:
    """``ckansig list`` for people: signals grouped by namespace, receivers under
    each (and where each is sent, with ``sends``)."""
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
        if not info.present:
            line.append("  not in the installed CKAN: never sent", style="yellow")
        out.print(line)
        if info.doc:
            out.print(Text("    " + clean(info.doc), style="italic dim"))
        if info.core is None:
            out.print(Text("    " + _origin(info), style="dim"))
        if not info.subscriptions:
            out.print(Text("    no receivers", style="dim"))
        for sub in info.subscriptions:
            out.print(_receiver_line(sub))
        if sends is not None:
            sites = sends.sites_of(info.namespace, info.name)
            if not sites:
                out.print(Text("    sent nowhere in the source read", style="yellow"))
            for site in sites:
                out.print(_send_line(site))
    total = sum(len(i.subscriptions) for i in signals)
    summary = f"{len(signals)} signal(s), {total} receiver(s)"
    if sends is not None:
        summary += f", {len(sends.sites)} send site(s) in {sends.files} source file(s)"
    out.print(Text(summary, style="bold"))


def _send_line(site: SendSite) -> Any:
    from rich.text import Text

    line = Text("    ← ")
    line.append("forwarded" if site.method == "forward" else f"{site.method}()", style="green")
    if site.method != "forward":
        line.append(f" sender={clean(site.sender) if site.sender is not None else 'None'}",
                    style="yellow")
        kwargs = "?" if site.kwargs is None else ", ".join(site.kwargs) or "-"
        line.append(f" kwargs={clean(kwargs)}")
    details = [clean(where(site.file, site.line) or site.file)]
    if site.via:
        details.append(clean(f"via {site.via}()"))
    if site.pattern is not None:
        details.append(clean(f"any name matching {site.pattern}"))
    line.append("  " + " · ".join(details), style="dim")
    return line


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
