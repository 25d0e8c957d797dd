"""The rows each receiver writes, from SQLAlchemy's flush events: one watcher
for ``call`` and the Signals panel (``fire --app`` counts per receiver of its
own send with :class:`~ckansig.firing.app.DatabaseWatch`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ckansig.firing.trace import DbChanges

__all__ = ["SendWatch", "flushed"]


class SendWatch:
    """Counts the rows written while each receiver of a recorded send runs
    (``changes``, by send id and receiver position) and in all (``total``)."""

    def __init__(self) -> None:
        self.changes: dict[tuple[int, int], DbChanges] = {}
        self.total: DbChanges = {}

    def after_flush(self, session: Any, flush_context: Any) -> None:
        from ckansig.watching.recorder import current_send, running_position

        rec = current_send()
        where = None
        if rec is not None:
            index = running_position(rec, 1)[0]
            if index is not None:
                where = self.changes.setdefault((rec.id, index), {})
        for table, op in flushed(session):
            for tables in (self.total, where):
                if tables is not None:
                    counts = tables.setdefault(table, {"inserted": 0, "updated": 0,
                                                       "deleted": 0})
                    counts[op] += 1


def flushed(session: Any) -> Iterator[tuple[str, str]]:
    """(table, "inserted" | "updated" | "deleted") for each row a flush writes."""
    for op, objects in (("inserted", session.new), ("deleted", session.deleted),
                        ("updated", [o for o in session.dirty
                                     if session.is_modified(o, include_collections=False)])):
        for obj in objects:
            yield _table(obj), op


def _table(obj: Any) -> str:
    from sqlalchemy import inspect

    mapper = inspect(obj).mapper
    table = getattr(mapper, "local_table", None)
    return str(getattr(table, "name", None) or type(obj).__name__)
