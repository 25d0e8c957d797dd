"""Send trees for people: a send, its receivers, and under each receiver the
sends it made (``fire``'s children, ``call``'s sends)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ckansig.output.terminal import clean
from ckansig.values import safe_repr

if TYPE_CHECKING:
    from rich.tree import Tree

    from ckansig.firing.trace import DbChanges
    from ckansig.values import Redactor
    from ckansig.watching.recorder import SendRecord

__all__ = ["add_send", "db_summary"]


def db_summary(changes: DbChanges) -> str:
    """``activity +1, package ~2, tag -1``: rows inserted, updated, deleted per table."""
    parts = []
    for table, counts in sorted(changes.items()):
        ops = [f"{sign}{counts[op]}" for sign, op in (("+", "inserted"), ("~", "updated"),
                                                     ("-", "deleted")) if counts.get(op)]
        if ops:
            parts.append(f"{table} {' '.join(ops)}")
    return ", ".join(parts)


def add_send(node: Tree, rec: SendRecord, redactor: Redactor,
             changes: Mapping[tuple[int, Any], DbChanges] | None = None) -> None:
    """Add ``rec`` under ``node``: its receivers with their results (and the
    rows each wrote, from ``changes``), each with the sends it made."""
    from rich.text import Text

    from ckansig.errors import first_line
    from ckansig.loading.blinker_state import make_id
    from ckansig.loading.describing import describe
    from ckansig.watching.jsonl import children_by_receiver

    label = f"{rec.key} sender={safe_repr(rec.sender, redactor, 60)}"
    if rec.kwargs:
        label += f" kwargs={safe_repr(rec.kwargs, redactor, 80)}"
    branch = node.add(Text(clean(label), style="bold cyan"))
    if not rec.outcomes:
        branch.add(Text("no receivers", style="dim"))
    for outcome, sends in zip(rec.outcomes, children_by_receiver(rec), strict=True):
        line = f"{describe(outcome.receiver).name}: {outcome.status}"
        if outcome.status == "ok":
            line += f" -> {safe_repr(outcome.result, redactor, 80)}"
        elif outcome.error is not None:
            line += f" {type(outcome.error).__name__}: " + redactor.text(
                first_line(outcome.error))
        wrote = (changes or {}).get((rec.id, make_id(outcome.receiver)))
        if wrote:
            line += f"  [database: {db_summary(wrote)}]"
        leaf = branch.add(Text(clean(line), style="red" if outcome.status == "error" else ""))
        for child in sends:
            add_send(leaf, child, redactor, changes)
