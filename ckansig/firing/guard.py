"""The rollback guard of ``fire --app`` and ``call``: the database after a run
is what it was before, unless ``--commit``, or the run says loudly that it is not.

One :class:`Guard` lives from CKAN's start-up (it begins when CKAN's
``init_model`` binds the engine, so the writes of ``IConfigurable.configure``
and of the ``--user`` login are inside it) to the end of the run:

- **One outer transaction.** CKAN's sessions are bound to one connection whose
  outer transaction is never committed; every session commit releases a
  savepoint (SQLAlchemy's "join an external transaction" recipe).
- **Commits turned into savepoint releases.** ``Connection.commit()`` on that
  connection and a ``COMMIT``/``END`` statement sent through it are kept inside
  the outer transaction (noted in :attr:`Guard.kept`).
- **Commits refused.** A commit on any other SQLAlchemy connection (a new
  session on the engine, ``engine.begin()``, another engine) raises
  :class:`CommitRefused` in the code that asked for it, unless ``--commit``.
- **What gets past, detected.** A commit on the driver connection, a
  ``ROLLBACK`` statement, a driver connection taken from the pool, a thread
  still running at the end: each is a :class:`Breach`, "NOT rolled back:
  <receiver> ... (file:line)".
- **Threads** that receivers start are waited for, up to the run's timeout.
- **The search index** is put back from the database (:mod:`ckansig.firing.undo`).
- **What is not undone** (mail, files, Redis, rq jobs) is listed per receiver
  as an :class:`Effect`; rq jobs of a rolled-back run are removed from their queue.
"""

from __future__ import annotations

import contextlib
import re
import signal as _signals
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ckansig.firing.effects import (
    Effect,
    culprit,
    remove_jobs,
    stop_watching,
    watch_effects,
)
from ckansig.isolation import OWN_PATCH

__all__ = ["Breach", "CommitRefused", "Guard", "Verdict"]


class CommitRefused(RuntimeError):
    """Raised in code that commits on a connection of its own during a run
    that is to be rolled back."""


@dataclass(frozen=True)
class Breach:
    """Something that got past the guard: its changes may persist."""

    receiver: str | None
    what: str
    site: str | None

    def text(self) -> str:
        who = self.receiver or "code outside any receiver"
        where = f" ({self.site})" if self.site else ""
        return f"NOT rolled back: {who} {self.what}{where}"

    def json(self) -> dict[str, Any]:
        return {"receiver": self.receiver, "what": self.what, "site": self.site,
                "message": self.text()}


@dataclass
class Verdict:
    """How a run ended for the database."""

    committed: bool
    interrupted: bool = False
    breaches: list[Breach] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    search: list[str] = field(default_factory=list)
    search_error: str | None = None

    @property
    def rolled_back(self) -> bool:
        """True only when nothing got past the guard."""
        return not self.committed and not self.breaches

    def json(self) -> dict[str, Any]:
        return {"committed": self.committed, "rolled_back": self.rolled_back,
                "interrupted": self.interrupted,
                "breaches": [b.json() for b in self.breaches],
                "kept_inside": list(self.kept),
                "search_index": {"restored": list(self.search), "error": self.search_error},
                "not_undone": [e.json() for e in self.effects]}

    def summary(self) -> str:
        """One line: ``(rolled back)``, ``(committed)`` or the first breach."""
        if self.committed:
            return "committed"
        if self.breaches:
            return self.breaches[0].text()
        return "rolled back"


# -- the guard -----------------------------------------------------------------------

_ENDS = re.compile(r"\s*(COMMIT|END)(\s+(WORK|TRANSACTION))?\s*;?\s*\Z", re.IGNORECASE)
_IDLE = 0  # libpq's PQTRANS_IDLE: no transaction open on the server


class Guard:
    """The outer transaction of one run and everything that watches it."""

    def __init__(self, commit: bool = False) -> None:
        self.commit = commit
        self.verdict = Verdict(committed=False)
        self.connection: Any = None
        self.engine: Any = None
        self._outer: Any = None
        self._xid: Any = None
        self._last: tuple[str | None, str | None] = (None, None)
        self._removers: list[Callable[[], None]] = []
        self._raw: dict[int, tuple[str | None, str | None]] = {}
        self._threads: list[tuple[threading.Thread, str | None, str | None]] = []
        self.jobs: list[tuple[Any, Effect]] = []
        self.search_ids: dict[str, str] = {}
        self.flush_listeners: list[Callable[[Any, Any], None]] = []
        self._active = False
        self._restarting = False
        self.inside_rq = 0

    @property
    def active(self) -> bool:
        """Whether the outer transaction is open."""
        return self._active

    # - begin -
    def begin(self, engine: Any) -> None:
        """Open the outer transaction on ``engine`` and bind CKAN's sessions to it."""
        from ckan.model import meta

        if self._active:
            if engine is self.engine:
                self._bind_sessions()
                return
            self.finish(interrupted=False, wait=0.0)  # a new engine: start over
        # a new transaction: a verdict, threads, jobs and datasets of its own
        self.verdict = Verdict(committed=False)
        self._raw.clear()
        self._threads.clear()
        self.jobs.clear()
        self.search_ids.clear()
        self._last = (None, None)
        self.engine = engine
        self.connection = engine.connect()
        self._outer = self.connection.begin()
        self._xid = self._transaction_id()
        self.connection.commit = self._kept_commit  # Connection.commit(): a savepoint release
        # CKAN's start-up ends with model.Session.bind.dispose(), meant for the engine:
        # the pool is the engine's to renew, our connection stays open
        self.connection.dispose = lambda: None
        meta.Session.remove()
        self._bind_sessions()
        self._listen()
        self._active = True

    def _bind_sessions(self) -> None:
        import sqlalchemy
        from ckan.model import meta

        sessions = (meta.Session, meta.create_local_session)
        if int(sqlalchemy.__version__.split(".")[0]) >= 2:
            for session in sessions:
                session.configure(bind=self.connection, join_transaction_mode="create_savepoint")
            return
        for session in sessions:
            session.configure(bind=self.connection)

        def restart_savepoint(session: Any, transaction: Any) -> None:
            if transaction.nested and not transaction._parent.nested:
                session.expire_all()
                session.begin_nested()

        if not self._restarting:
            for session in sessions:
                self._restart_on(session, restart_savepoint)
            self._restarting = True
        meta.Session.begin_nested()

    def _restart_on(self, session: Any, listener: Callable[[Any, Any], None]) -> None:
        from sqlalchemy import event

        event.listen(session, "after_transaction_end", listener)
        self._removers.append(lambda: event.remove(session, "after_transaction_end", listener))

    def _transaction_id(self) -> Any:
        if self.connection.dialect.name != "postgresql":
            return None
        from sqlalchemy import text

        return self.connection.execute(text("SELECT txid_current()")).scalar()

    def _listen(self) -> None:
        from ckan.model import meta
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.pool import Pool

        def on(target: Any, name: str, fn: Callable[..., Any], **kw: Any) -> None:
            event.listen(target, name, fn, **kw)
            self._removers.append(lambda: event.remove(target, name, fn))

        on(self.connection, "before_cursor_execute", self._statement, retval=True)
        on(Engine, "commit", self._other_commit)
        on(Pool, "checkout", self._checkout)
        on(Engine, "engine_connect", self._wrapped)
        on(meta.Session, "after_flush", self._flushed)
        self.patch(threading.Thread, "start", self._thread_start)
        watch_effects(self)
        from ckansig.firing.undo import watch_search_index

        watch_search_index(self)

    def patch(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        """Replace ``owner.name`` by ``make(original)`` while the guard lasts."""
        original = owner.__dict__[name]
        patched = make(original)
        setattr(patched, OWN_PATCH, True)
        setattr(owner, name, patched)
        self._removers.append(lambda: setattr(owner, name, original))

    # - the watchers -
    def _flushed(self, session: Any, context: Any) -> None:
        for listener in self.flush_listeners:
            listener(session, context)

    def _kept_commit(self) -> None:
        name, _, site = culprit(2)
        self.verdict.kept.append(f"{name or 'code outside any receiver'} called "
                                 f"Connection.commit() ({site}): kept inside the transaction")

    def _statement(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                   context: Any, executemany: bool) -> tuple[str, Any]:
        self._check_open()
        if _ENDS.match(statement):
            name, _, site = culprit(2)
            self.verdict.kept.append(f"{name or 'code outside any receiver'} sent "
                                     f"{statement.strip()!r} ({site}): kept inside the "
                                     "transaction")
            statement = "SELECT 1"
        self._last = culprit(2)[0::2]
        return statement, parameters

    def _check_open(self) -> None:
        """Whether the server still has the outer transaction open (libpq's own
        state, no query): a driver commit or a ROLLBACK statement ended it."""
        if self._xid is None or not self._active:
            return
        dbapi = getattr(self.connection.connection, "dbapi_connection", None)
        info = getattr(dbapi, "info", None)
        status = getattr(info, "transaction_status", None)
        if status == _IDLE and not self._ended_reported():
            who, site = self._last
            self.verdict.breaches.append(Breach(who, "ended the outer transaction on the "
                                                "driver connection (a commit or rollback "
                                                "SQLAlchemy did not see): what was written "
                                                "before it is committed", site))

    def _ended_reported(self) -> bool:
        return any(b.what.startswith("ended the outer") for b in self.verdict.breaches)

    def _other_commit(self, conn: Any) -> None:
        if conn is self.connection or self.commit:
            return
        site = culprit(2)[2]
        raise CommitRefused(f"ckansig refused a commit on a database connection of its own "
                            f"({site}): this run is rolled back; use --commit to keep changes")

    def _checkout(self, dbapi: Any, record: Any, proxy: Any) -> None:
        name, _, site = culprit(2)
        self._raw[id(proxy)] = (name, site)

    def _wrapped(self, conn: Any, *branch: Any) -> None:
        self._raw.pop(id(conn.connection), None)

    def _thread_start(self, original: Any) -> Any:
        guard = self

        def start(thread: threading.Thread) -> None:
            name, _, site = culprit(2)
            guard._threads.append((thread, name, site))
            original(thread)

        return start

    def effect(self, kind: str, detail: str) -> Effect:
        name, key, site = culprit(3)
        found = Effect(kind, detail, name, key, site)
        self.verdict.effects.append(found)
        return found

    # - the end -
    def finish(self, *, interrupted: bool, wait: float | None) -> Verdict:
        """Wait for the threads receivers started (up to ``wait`` seconds),
        then roll back (or commit, when :attr:`commit` and not ``interrupted``),
        restore CKAN's sessions and put the search index back. Never raises."""
        from ckan.model import meta

        verdict = self.verdict
        if not self._active:
            verdict.interrupted = interrupted
            return verdict
        try:
            self._wait_for_threads(wait)
        except KeyboardInterrupt:  # Ctrl-C while waiting: stop waiting, roll back
            interrupted = True
        verdict.interrupted = interrupted
        self._check_open()
        stop_watching()
        for remove in reversed(self._removers):
            with contextlib.suppress(Exception):  # a listener already gone: nothing to undo
                remove()
        self._removers.clear()
        self._restarting = False
        try:
            meta.Session.remove()
        except Exception as exc:  # a session left broken by receiver code
            verdict.kept.append(f"closing CKAN's session failed: {type(exc).__name__}")
        for session in (meta.Session, meta.create_local_session):
            session.configure(bind=self.engine)
        committing = self.commit and not interrupted
        self._server_check()
        self._end_outer(committing)
        for who, site in self._raw.values():
            verdict.breaches.append(Breach(who, "took a driver connection of its own from "
                                           "the pool: its commits cannot be seen or undone",
                                           site))
        self._active = False
        if not committing:
            remove_jobs(self)
            from ckansig.firing.undo import restore_search_index

            restore_search_index(self)
        verdict.committed = committing
        self.flush_listeners.clear()  # the run's watchers: the next run brings its own
        return verdict

    def _wait_for_threads(self, wait: float | None) -> None:
        deadline = time.monotonic() + (wait if wait else 30.0)
        for thread, name, site in self._threads:
            if thread is threading.current_thread():
                continue
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                self.verdict.breaches.append(Breach(
                    name, f"started thread {thread.name!r}, still running when the run "
                    "ended: what it writes afterwards is not rolled back", site))

    def _server_check(self) -> None:
        """The server's word: is the outer transaction the one begun?"""
        if self._xid is None or self._ended_reported():
            return
        from sqlalchemy import text

        try:
            now = self.connection.execute(text("SELECT txid_current()")).scalar()
        except Exception as exc:
            now = f"unknown ({type(exc).__name__})"
        if now != self._xid:
            who, site = self._last
            self.verdict.breaches.append(Breach(who, "ended the outer transaction (a commit "
                                                "or rollback SQLAlchemy did not see): what "
                                                "was written before it is committed", site))

    def _end_outer(self, committing: bool) -> None:
        blocked = {_signals.SIGINT, _signals.SIGTERM}
        try:
            old = _signals.pthread_sigmask(_signals.SIG_BLOCK, blocked)
        except (AttributeError, ValueError, OSError):  # not the main thread, or no such call
            old = None
        try:
            if committing:
                self._outer.commit()
            else:
                self._outer.rollback()
        except Exception as exc:
            self.verdict.kept.append(f"ending the outer transaction raised "
                                     f"{type(exc).__name__}: {exc}".splitlines()[0])
            if committing:
                self.verdict.breaches.append(Breach(None, "could not be committed", None))
        finally:
            with contextlib.suppress(Exception):  # it broke: the server rolls back
                self.connection.close()
            if old is not None:
                _signals.pthread_sigmask(_signals.SIG_SETMASK, old)
