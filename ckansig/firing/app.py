"""``ckansig fire --app``: send inside a real CKAN app, on its real database.

:class:`CkanApp` starts CKAN as its own start-up does (``make_app``: config
declarations, plugins, the database engine, ``IConfigurable``) after ckansig
has loaded the plugins in CKAN mode, so every receiver keeps its provenance.
:meth:`CkanApp.fire` then sends inside an app context and a request context,
logged in as a user or anonymous, so receivers can use ``toolkit.config``,
``toolkit.g``, ``current_user``, ``get_action`` and the model.

Every database change made during the send is rolled back at the end, even
those of actions that commit: CKAN's sessions are bound to one connection
whose outer transaction is never committed, and each commit only releases a
savepoint (the pattern test suites use). ``commit=True`` keeps them. What each
receiver wrote is counted per table from SQLAlchemy's flush events.

Nothing else a receiver does is undone: mail sent, files written, Redis keys,
jobs enqueued.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from ckansig.config.settings import Config
from ckansig.errors import CkansigError, UsageProblem, exc_text
from ckansig.firing.run import fire
from ckansig.firing.trace import Calls, DbChanges, Trace
from ckansig.model import Registry, SignalInfo

__all__ = ["AppError", "CkanApp", "DatabaseWatch"]


class AppError(CkansigError):
    """CKAN could not start, or the user to run as does not exist."""


class CkanApp:
    """A real CKAN app, started from ``config`` (which must be in CKAN mode)."""

    def __init__(self, config: Config) -> None:
        if config.ckan_config is None:
            raise AppError("--app needs CKAN installed here and a CKAN config file "
                           "(--ckan-ini, $CKAN_INI or ckan_ini in the config)")
        from ckansig.loading import load

        self.flask_app: Any = None
        ckan_config = dict(config.ckan_config)

        def start() -> None:
            from ckan.config.middleware import make_app

            try:
                self.flask_app = make_app(ckan_config)._wsgi_app
            except Exception as exc:
                raise AppError(f"CKAN could not start the app from {config.ckan_ini}: "
                               f"{exc_text(exc)}") from None

        self.registry: Registry = load(config, then=start)

    def fire(self, info: SignalInfo, sender: Any, kwargs: dict[str, Any], *,
             user: str | None = None, commit: bool = False, **options: Any) -> Trace:
        """:func:`~ckansig.fire` inside an app and a request context, as
        ``user`` (anonymous by default), with the database rolled back unless
        ``commit``. For ``action_succeed``, the ``context`` argument is built
        as CKAN's ``get_action`` builds it, with ``kwargs["context"]`` merged in."""
        with self.flask_app.test_request_context("/"), _logged_in(user), \
                _transaction(commit) as watch:
            if info.core is not None and info.core.name == "action_succeed":
                kwargs = {**kwargs, "context": _action_context(kwargs.get("context"))}
            return fire(info, sender, kwargs, registry=self.registry, observer=watch,
                        **options)


@contextlib.contextmanager
def _logged_in(user: str | None) -> Iterator[None]:
    """Make ``user`` the request's user (anonymous for None) and set ``g.user``
    and ``g.userobj`` with CKAN's own ``identify_user``."""
    from ckan import model
    from ckan.views import identify_user

    if user is not None:
        from flask import current_app

        account = model.User.by_name(user)
        if account is None:
            raise UsageProblem(f"no user named {user!r} in CKAN's database", "--user")
        # The user of this request, as flask-login's request loader sets it:
        # login_user() would also write the session cookie, which CKAN 2.10
        # keeps in Beaker, outside a test request.
        current_app.login_manager._update_request_context_with_user(account)
    identify_user()
    yield


def _action_context(given: Any) -> dict[str, Any]:
    from ckan import logic
    from flask import g

    context: dict[str, Any] = dict(given) if isinstance(given, Mapping) else {}
    context = logic._prepopulate_context(context)  # model, session, user, as get_action
    context.setdefault("auth_user_obj", getattr(g, "userobj", None))
    context.setdefault("__auth_audit", [])
    return context


class DatabaseWatch:
    """Counts the rows each receiver inserts, updates and deletes, per table,
    from SQLAlchemy's ``after_flush`` events (an :class:`~ckansig.firing.run.Observer`)."""

    def __init__(self) -> None:
        self.db_changes: dict[int, DbChanges] | None = {}
        self.calls: Calls | None = None

    def attach(self, calls: Calls) -> None:
        self.calls = calls

    def after_flush(self, session: Any, flush_context: Any) -> None:
        if self.calls is None or self.db_changes is None:
            return
        index = len(self.calls.results)  # the receiver running now
        tables = self.db_changes.setdefault(index, {})
        for op, objects in (("inserted", session.new), ("deleted", session.deleted),
                            ("updated", [o for o in session.dirty
                                         if session.is_modified(o, include_collections=False)])):
            for obj in objects:
                counts = tables.setdefault(_table(obj), {"inserted": 0, "updated": 0,
                                                         "deleted": 0})
                counts[op] += 1


def _table(obj: Any) -> str:
    from sqlalchemy import inspect

    mapper = inspect(obj).mapper
    table = getattr(mapper, "local_table", None)
    return str(getattr(table, "name", None) or type(obj).__name__)


@contextlib.contextmanager
def _transaction(commit: bool) -> Iterator[DatabaseWatch]:
    """Bind CKAN's sessions to one connection inside an outer transaction whose
    every inner commit is a savepoint; roll it back at the end (or commit)."""
    from ckan.model import meta
    from sqlalchemy import event

    engine = meta.engine
    connection = engine.connect()
    outer = connection.begin()
    sessions = (meta.Session, meta.create_local_session)
    meta.Session.remove()
    savepoints = _savepoint_mode(sessions, connection)
    watch = DatabaseWatch()
    event.listen(meta.Session, "after_flush", watch.after_flush)
    try:
        if savepoints is not None:
            meta.Session.begin_nested()
        yield watch
    finally:
        event.remove(meta.Session, "after_flush", watch.after_flush)
        if savepoints is not None:
            event.remove(meta.Session, "after_transaction_end", savepoints)
        meta.Session.remove()
        for session in sessions:
            session.configure(bind=engine)
        if commit:
            outer.commit()
        else:
            outer.rollback()
        connection.close()


def _savepoint_mode(sessions: tuple[Any, ...], connection: Any) -> Any:
    """Make each session commit to a savepoint of ``connection``'s transaction.
    SQLAlchemy 2 does it with ``join_transaction_mode``; on 1.4 (CKAN 2.10 and
    2.11) a nested transaction is restarted after every inner commit, and the
    listener doing that is returned (to be removed afterwards)."""
    import sqlalchemy
    from sqlalchemy import event

    if int(sqlalchemy.__version__.split(".")[0]) >= 2:
        for session in sessions:
            session.configure(bind=connection, join_transaction_mode="create_savepoint")
        return None
    for session in sessions:
        session.configure(bind=connection)

    def restart_savepoint(session: Any, transaction: Any) -> None:
        if transaction.nested and not transaction._parent.nested:
            session.expire_all()
            session.begin_nested()

    event.listen(sessions[0], "after_transaction_end", restart_savepoint)
    return restart_savepoint
