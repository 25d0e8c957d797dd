"""``ckansig call``: an action's result and the tree of sends it caused, as
JSON or as text for people."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ckansig.output.terminal import clean
from ckansig.values import jsonable, safe_repr

if TYPE_CHECKING:
    from rich.console import Console

    from ckansig.firing.app import ActionCall
    from ckansig.values import Redactor

__all__ = ["CALL_SCHEMA_VERSION", "call_json", "print_call"]

CALL_SCHEMA_VERSION = 1


def _error(call: ActionCall, redactor: Redactor) -> dict[str, Any] | None:
    from ckansig.errors import first_line

    if call.error is None:
        return None
    return {"type": type(call.error).__name__, "message": redactor.text(first_line(call.error))}


def call_json(call: ActionCall, redactor: Redactor) -> dict[str, Any]:
    """The documented ``ckansig call --format json`` document."""
    from ckansig.output.database_view import database_json
    from ckansig.watching.jsonl import send_tree_json

    return {
        "version": CALL_SCHEMA_VERSION,
        "action": call.action,
        "data_dict": jsonable(call.data_dict, redactor),
        "user": call.user,
        "committed": call.database.committed,
        "database": database_json(call.database, redactor),
        "result": jsonable(call.result, redactor),
        "error": _error(call, redactor),
        "db_changes": call.total,
        "sends": [send_tree_json(rec, redactor, call.changes) for rec in call.roots],
    }


def print_call(out: Console, call: ActionCall, redactor: Redactor) -> None:
    """The action, its result or error, then every send it caused as a tree."""
    from rich.text import Text
    from rich.tree import Tree

    from ckansig.output.database_view import print_database
    from ckansig.output.sends_view import add_send, db_summary
    from ckansig.watching.records import ORDER_CAVEAT, walk

    head = Text("call ", style="bold")
    head.append(clean(call.action), style="bold cyan")
    head.append(f" as {clean(call.user)}" if call.user else " anonymously", style="yellow")
    head.append(f"  data_dict={clean(safe_repr(call.data_dict, redactor, 120))}", style="dim")
    out.print(head)
    error = _error(call, redactor)
    if error is not None:
        out.print(Text(clean(f"error: {error['type']}: {error['message']}"), style="bold red"))
    else:
        out.print(Text("result: " + clean(safe_repr(call.result, redactor, 200))))
    tree = Tree(Text(f"{sum(1 for _ in walk(call.roots))} send(s) caused", style="bold"))
    for send in call_json(call, redactor)["sends"]:
        add_send(tree, send)
    out.print(tree)
    if call.roots:
        out.print(Text(f"({ORDER_CAVEAT})", style="dim"))
    print_database(out, call.database, redactor, db_summary(call.total) or "nothing")

