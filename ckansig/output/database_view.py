"""What became of the database after ``fire --app`` or ``call``: one JSON
object and one block of text for both (the guard's verdict, redacted)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ckansig.output.terminal import clean

if TYPE_CHECKING:
    from rich.console import Console

    from ckansig.firing.guard import Verdict
    from ckansig.values import Redactor

__all__ = ["database_json", "print_database"]


def _redacted(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, str):
        return redactor.text(value)
    if isinstance(value, dict):
        return {key: _redacted(item, redactor) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item, redactor) for item in value]
    return value


def database_json(verdict: Verdict, redactor: Redactor) -> dict[str, Any]:
    """The ``database`` object of fire --app's and call's JSON documents."""
    document: dict[str, Any] = _redacted(verdict.json(), redactor)
    return document


def print_database(out: Console, verdict: Verdict, redactor: Redactor,
                   total: str | None = None) -> None:
    """The database line (``total``: the rows written, in all), then every
    breach, what was kept inside the transaction, the search index put back,
    and what was not undone, grouped by receiver."""
    from rich.text import Text

    document = database_json(verdict, redactor)
    state = ("committed" if verdict.committed else "rolled back" if verdict.rolled_back
             else "NOT rolled back")
    style = "bold red" if document["breaches"] else "magenta"
    head = f"database, in all: {clean(total or 'nothing')} ({state})" if total is not None \
        else f"database: {state}"
    if verdict.interrupted:
        head += " - interrupted, nothing was committed" if not verdict.committed else ""
    out.print(Text(head, style=style))
    for breach in document["breaches"]:
        out.print(Text("  " + clean(breach["message"]), style="bold red"))
    for note in document["kept_inside"]:
        out.print(Text("  " + clean(note), style="dim"))
    for restored in document["search_index"]["restored"]:
        out.print(Text("  search index: " + clean(restored), style="dim"))
    effects = document["not_undone"]
    if effects:
        out.print(Text("not undone (outside the database):", style="yellow"))
        by_receiver: dict[str, list[dict[str, Any]]] = {}
        for effect in effects:
            by_receiver.setdefault(effect["receiver"] or "outside any receiver", []).append(effect)
        for receiver, found in by_receiver.items():
            out.print(Text("  " + clean(receiver), style="bold"))
            for effect in found:
                line = f"    {effect['kind']}: {effect['detail']}"
                if effect["undone"]:
                    line += f" ({effect['undone']})"
                if effect["site"]:
                    line += f"  [{effect['site']}]"
                out.print(Text(clean(line)))
