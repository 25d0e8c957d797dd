"""The records of one fire: what happened to each receiver.

:func:`~ckansig.firing.run.fire` fills a :class:`Calls` in its hot loop (the
receivers called, their results and durations, and a sparse map of rare
facts); a :class:`Trace` is built from it in one step and derives the
per-receiver fields (:meth:`Trace.columns`, :attr:`Trace.receivers`) only when
asked.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from ckansig.errors import first_line, raise_site
from ckansig.firing.snapshots import top_level_keys
from ckansig.loading import blinker_state
from ckansig.loading.describing import describe
from ckansig.model import CallableInfo, Registry, SignalInfo, Subscription
from ckansig.redaction import SecretBook

if TYPE_CHECKING:
    from ckansig.firing.guard import Verdict
    from ckansig.watching.recorder import SendRecord

__all__ = ["Calls", "Columns", "DbChanges", "Ended", "ErrorInfo", "Extra", "ReceiverTimeout",
           "ReceiverTrace", "Status", "Trace"]

#: What happened to a receiver: it returned, it raised, it ran past the
#: timeout and was stopped, the user's Ctrl-C stopped it, ``--stop-on-error``
#: or Ctrl-C stopped the fire before it, or a dry run listed it without calling it.
Status = Literal["ok", "error", "timeout", "interrupted", "not_reached", "dry_run"]

#: How a receiver was stopped from outside (rather than returning or raising).
Ended = Literal["timeout", "interrupted"]


class ReceiverTimeout(BaseException):
    """Raised inside a receiver that ran past the timeout (a ``BaseException``,
    so that ``except Exception`` in the receiver does not swallow it)."""


#: What a receiver changed in the database, per table: rows "inserted",
#: "updated" and "deleted" (``fire --app`` only).
DbChanges = dict[str, dict[str, int]]


class ErrorInfo(NamedTuple):
    """An exception a receiver raised: its type, first line of its message,
    and the file and line in the receiver's code where it surfaced."""

    type: str
    message: str
    file: str | None
    line: int | None
    exception: BaseException


class ReceiverTrace(NamedTuple):
    """What happened to one receiver. ``mutated`` names the top-level arguments
    it changed (``"user"``), ``changes`` the paths (``"user.name"``), as in the
    JSON output."""

    receiver: CallableInfo
    subscription: Subscription | None  # provenance from the registry, if known
    status: Status
    is_async: bool
    duration: float  # seconds
    result: Any
    error: ErrorInfo | None
    mutated: tuple[str, ...]
    changes: tuple[str, ...]
    reached_by_send: bool  # whether plain Signal.send would have called it
    output: str | None  # what it printed, when output was captured
    db_changes: DbChanges | None  # None unless the database was watched
    stderr: str | None  # what it wrote to stderr, when output was captured
    logged: str | None  # what it logged ("LEVEL logger: message" lines), likewise
    children: tuple[SendRecord, ...]  # the sends it made (each may have its own)


class Columns(NamedTuple):
    """The fields of :class:`ReceiverTrace`, one list per field, in call order."""

    receiver: list[CallableInfo]
    subscription: list[Subscription | None]
    status: list[Status]
    is_async: list[bool]
    duration: list[float]
    result: list[Any]
    error: list[ErrorInfo | None]
    mutated: list[tuple[str, ...]]
    changes: list[tuple[str, ...]]
    reached_by_send: list[bool]
    output: list[str | None]
    db_changes: list[DbChanges | None]
    stderr: list[str | None]
    logged: list[str | None]
    children: list[tuple[SendRecord, ...]]


class Extra:
    """The rare facts about one call, kept apart from the hot lists."""

    __slots__ = ("changes", "ended", "exception", "is_async", "logged", "output", "sends",
                 "stderr")

    def __init__(self) -> None:
        self.exception: BaseException | None = None
        self.ended: Ended | None = None
        self.is_async = False
        self.changes: tuple[str, ...] = ()
        self.output: str | None = None
        self.stderr: str | None = None
        self.logged: str | None = None
        self.sends: tuple[SendRecord, ...] = ()  # the sends the receiver made


class Calls(NamedTuple):
    """What the hot loop recorded: every receiver in call order (called or
    not), the results and durations of those called, and the rare facts by
    index."""

    receivers: list[Any]
    results: list[Any]
    durations: list[float]
    extras: dict[int, Extra]

    @classmethod
    def listed(cls, receivers: list[Any]) -> Calls:
        """Receivers that were listed, not called (a dry run; none when muted)."""
        return cls(receivers, [], [], {})

    def truncate(self) -> None:
        """Keep only the calls recorded in full (after an interrupt in the loop itself)."""
        n = min(len(self.receivers), len(self.results), len(self.durations))
        del self.receivers[n:], self.results[n:], self.durations[n:]
        for index in [i for i in self.extras if i >= n]:
            del self.extras[index]


_make_trace = ReceiverTrace._make
_RECEIVER_OF = operator.attrgetter("receiver")


class Trace:
    """The outcome of one :func:`~ckansig.fire`: the signal, the arguments it
    was sent with, and a :class:`ReceiverTrace` per receiver in call order."""

    def __init__(
        self, registry: Registry | None, info: SignalInfo, sender: Any, kwargs: dict[str, Any],
        calls: Calls, *, dry_run: bool = False, stop_on_error: bool = False,
        muted: bool = False, notes: list[str] | None = None, unchecked: tuple[str, ...] = (),
        db_changes: dict[int, DbChanges] | None = None, timeout: float | None = None,
        interrupted: bool = False, nested: dict[int | None, list[SendRecord]] | None = None,
        secrets: SecretBook | None = None, root: SendRecord | None = None,
    ) -> None:
        self.registry = registry
        self.signal = info
        self.sender = sender
        self.kwargs = kwargs
        self.calls = calls
        self.dry_run = dry_run
        self.stop_on_error = stop_on_error
        self.muted = muted
        self.notes = notes or []
        self.unchecked = unchecked  # arguments whose mutation could not be checked
        #: receiver index -> its database changes; None when the database was not watched
        self.db_changes = db_changes
        self.database: Verdict | None = None  # fire --app: what became of the database
        self.timeout = timeout  # seconds per receiver; None for no limit
        #: whether the user's Ctrl-C stopped the fire (the rest were not reached)
        self.interrupted = interrupted or any(
            e.ended == "interrupted" for e in calls.extras.values())
        #: the sends receivers made, by the id of the send they happened in
        #: (their own children included): see :attr:`ReceiverTrace.children`
        self.nested = nested or {}
        #: the secrets of the send's scope, learned from its arguments and from
        #: every send it caused: what every view of it hides
        self.secrets = secrets if secrets is not None else SecretBook()
        #: the record of this send (its id and scope), when fire made one
        self.root = root
        self._columns: Columns | None = None
        self._receivers: list[ReceiverTrace] | None = None

    @property
    def receivers(self) -> list[ReceiverTrace]:
        """One record per receiver, in call order."""
        if self._receivers is None:
            self._receivers = list(map(_make_trace, zip(*self.columns(), strict=True)))
        return self._receivers

    def columns(self) -> Columns:
        """The fields of every :class:`ReceiverTrace`, one list per field: built
        with list operations (the rare facts patched in by index), for
        consumers of thousands of receivers that need no record objects."""
        if self._columns is None:
            self._columns = self._build_columns()
        return self._columns

    def _build_columns(self) -> Columns:
        called, results = self.calls.receivers, self.calls.results
        n, ran = len(called), len(results)
        provenance = self.registry.receivers_of(self.signal.signal) if self.registry else {}
        subs = list(map(provenance.get, map(blinker_state.make_id, called)))
        infos: list[CallableInfo] = [
            describe(called[i]) if sub is None else sub.receiver for i, sub in enumerate(subs)
        ] if None in subs else list(map(_RECEIVER_OF, subs))
        status: list[Status]
        if self.dry_run:
            status = ["dry_run"] * n
            is_async = [info.is_async for info in infos]
        else:
            status = ["ok"] * ran
            status += ["not_reached"] * (n - ran)
            is_async = [False] * n
        errors: list[ErrorInfo | None] = [None] * n
        mutated: list[tuple[str, ...]] = [()] * n
        changes: list[tuple[str, ...]] = [()] * n
        output: list[str | None] = [None] * n
        stderr: list[str | None] = [None] * n
        logged: list[str | None] = [None] * n
        children: list[tuple[SendRecord, ...]] = [()] * n
        cutoff = n  # Signal.send reaches receivers before this index
        for index, extra in self.calls.extras.items():
            if extra.exception is not None or extra.ended is not None:
                status[index] = extra.ended or "error"
                errors[index] = _error_info(extra.exception, infos[index], self.timeout)
                cutoff = min(cutoff, index + 1)
            if extra.is_async:
                is_async[index] = True
            if extra.changes:
                changes[index] = extra.changes
                mutated[index] = top_level_keys(extra.changes)
            output[index], stderr[index], logged[index] = extra.output, extra.stderr, extra.logged
            if extra.sends:
                children[index] = extra.sends
        if True in is_async:  # send() raises RuntimeError on a coroutine function
            cutoff = min(cutoff, is_async.index(True))
        db: list[DbChanges | None]
        if self.db_changes is None:
            db = [None] * n
        else:
            db = [{} for _ in range(ran)] + [None] * (n - ran)
            for index, tables in self.db_changes.items():
                if index < n:
                    db[index] = tables
        return Columns(
            infos, subs, status, is_async,
            self.calls.durations + [0.0] * (n - ran), results + [None] * (n - ran),
            errors, mutated, changes, [True] * cutoff + [False] * (n - cutoff), output, db,
            stderr, logged, children)

    @property
    def total(self) -> int:
        """How many receivers the signal had for this sender (called or not)."""
        return len(self.calls.receivers)

    def count(self, status: Status) -> int:
        """How many receivers ended with ``status``."""
        total, ran = len(self.calls.receivers), len(self.calls.results)
        if self.dry_run:
            return total if status == "dry_run" else 0
        ended: dict[str, int] = {"error": 0, "timeout": 0, "interrupted": 0}
        for extra in self.calls.extras.values():
            if extra.ended is not None:
                ended[extra.ended] += 1
            elif extra.exception is not None:
                ended["error"] += 1
        if status == "ok":
            return ran - sum(ended.values())
        return total - ran if status == "not_reached" else ended.get(status, 0)

    @property
    def mutated(self) -> int:
        """How many receivers modified their arguments."""
        return sum(1 for e in self.calls.extras.values() if e.changes)

    @property
    def ok(self) -> bool:
        """True when every receiver called returned (none raised or was stopped)."""
        return all(e.exception is None and e.ended is None for e in self.calls.extras.values())


def _error_info(exc: BaseException | None, info: CallableInfo,
                timeout: float | None) -> ErrorInfo:
    if exc is None:  # stopped, and it caught the exception that stopped it
        exc = ReceiverTimeout(f"ran past the {timeout or 0:g} s timeout, caught the stop "
                              "and went on") if timeout else KeyboardInterrupt()
        return ErrorInfo(type(exc).__name__, first_line(exc), info.file, info.line, exc)
    file, line = raise_site(exc, (info.file, info.line), prefer=info.file)
    return ErrorInfo(type(exc).__name__, first_line(exc), file, line, exc)
