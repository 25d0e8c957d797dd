"""``ckansig fire --app``: send inside a real CKAN app, on its real database.

:class:`CkanApp` starts CKAN as its own start-up does (``make_app``: config
declarations, plugins, the database engine, ``IConfigurable``) after ckansig
has loaded the plugins in CKAN mode, so every receiver keeps its provenance.
:meth:`CkanApp.fire` then sends inside an app context and a request context,
logged in as a user or anonymous, so receivers can use ``toolkit.config``,
``toolkit.g``, ``current_user``, ``get_action`` and the model.

Every database change made from CKAN's start-up to the end of the send is
rolled back, or the run says it could not be (see :mod:`ckansig.firing.guard`);
``commit=True`` keeps them. What each receiver wrote is counted per table from
SQLAlchemy's flush events. Mail sent, files written and Redis keys are listed
per receiver, not undone; rq jobs of a rolled-back run are removed from their queue.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from ckansig.config.settings import Config
from ckansig.errors import CkansigError, UsageProblem, exc_text
from ckansig.firing.effects import guarding
from ckansig.firing.guard import Guard, Verdict
from ckansig.firing.run import FireInterrupted, fire
from ckansig.firing.trace import Calls, DbChanges, Trace
from ckansig.model import Registry, SignalInfo
from ckansig.redaction import SecretBook
from ckansig.watching.db_changes import SendWatch, flushed

__all__ = ["ActionCall", "AppError", "CkanApp", "DatabaseWatch", "RunInterrupted", "find_action"]


class AppError(CkansigError):
    """CKAN could not start, or the user to run as does not exist."""


class CkanApp:
    """A real CKAN app, started from ``config`` (which must be in CKAN mode).

    Its :class:`~ckansig.firing.guard.Guard` begins when CKAN's start-up binds
    the database engine, so what start-up writes (``IConfigurable.configure``)
    is rolled back with the run unless ``commit``."""

    def __init__(self, config: Config, *, commit: bool = False) -> None:
        if config.ckan_config is None:
            raise AppError("running in CKAN's app (fire --app, call) needs CKAN installed "
                           "here and a CKAN config file (--ckan-ini, $CKAN_INI or ckan_ini "
                           "in the config)")
        from ckansig.loading import load

        self.flask_app: Any = None
        self.guard = Guard(commit)
        ckan_config = dict(config.ckan_config)

        def start() -> None:
            from ckan.config.middleware import make_app

            try:
                _unload_quietly()  # make_app loads them again: its start-up runs once
                with _guarded_start(self.guard):
                    self.flask_app = make_app(ckan_config)._wsgi_app
            except Exception as exc:
                self.guard.finish(interrupted=True, wait=0.0)  # what start-up wrote
                raise AppError(f"CKAN could not start the app from {config.ckan_ini}: "
                               f"{exc_text(exc)}") from None

        self.registry: Registry = load(config, then=start)

    @contextlib.contextmanager
    def _run(self, user: str | None, commit: bool, wait: float | None) -> Iterator[Guard]:
        """A request context, as ``user``, inside the guard; at the end the
        guard waits for threads, rolls back (or commits) and gives its verdict.
        Ctrl-C or SIGTERM: rolled back, whatever ``commit`` says."""
        from ckan.model import meta

        guard = self.guard
        guard.commit = commit
        interrupted = False
        with self.flask_app.test_request_context("/"), guarding(guard):
            if not guard.active:
                guard.begin(meta.engine)
            try:
                with _logged_in(user):  # inside: the login's writes are rolled back too
                    yield guard
            except KeyboardInterrupt:
                interrupted = True
                raise
            finally:
                guard.finish(interrupted=interrupted, wait=wait)

    def fire(self, info: SignalInfo, sender: Any, kwargs: dict[str, Any], *,
             user: str | None = None, commit: bool = False, **options: Any) -> Trace:
        """:func:`~ckansig.fire` inside an app and a request context, as
        ``user`` (anonymous by default), with the database rolled back unless
        ``commit``. For ``action_succeed``, the ``context`` argument is built
        as CKAN's ``get_action`` builds it, with ``kwargs["context"]`` merged in.
        The trace's ``database`` is the guard's verdict."""
        watch = DatabaseWatch()
        self.guard.flush_listeners.append(watch.after_flush)
        try:
            with self._run(user, commit, options.get("timeout")):
                if info.core is not None and info.core.name == "action_succeed":
                    kwargs = {**kwargs, "context": _action_context(kwargs.get("context"))}
                trace = fire(info, sender, kwargs, registry=self.registry, observer=watch,
                             **options)
        except FireInterrupted as stopped:
            stopped.trace.database = self.guard.verdict
            raise
        trace.database = self.guard.verdict
        return trace

    def call(self, action: str, data_dict: Mapping[str, Any], *, user: str | None = None,
             commit: bool = False, wait: float | None = None) -> ActionCall:
        """Run the CKAN action ``action`` with ``data_dict``, as ``user``, in
        the app, recording every send it causes (with the database rolled
        back unless ``commit``; threads the code started are waited for up to
        ``wait`` seconds)."""
        from ckan import logic

        from ckansig.watching.recorder import record, scope
        from ckansig.watching.records import link

        sends: list[Any] = []
        watch = SendWatch()
        self.guard.flush_listeners.append(watch.after_flush)
        try:
            with self._run(user, commit, wait):
                function = find_action(action)
                with record(sends.append), scope(f"call {action}") as secrets:
                    secrets.learn(data_dict)
                    result: Any = None
                    error: BaseException | None = None
                    try:
                        result = function(_action_context({}), dict(data_dict))
                    except (logic.ValidationError, logic.NotAuthorized,
                            logic.NotFound) as exc:
                        error = exc
                    except Exception as exc:  # an action's own failure is the finding
                        error = exc
        except KeyboardInterrupt:
            raise RunInterrupted(self.guard.verdict) from None
        secrets.learn(result)
        return ActionCall(action, dict(data_dict), user, commit, result, error, link(sends),
                          watch.changes, watch.total, secrets, self.guard.verdict)


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during ``call``: the message says what became of the database."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        state = ("the database was rolled back, nothing was committed" if verdict.rolled_back
                 else verdict.summary())
        super().__init__(f"interrupted: {state}")


def _unload_quietly() -> None:
    """Unload the plugins ckansig loaded into CKAN, without CKAN's
    ``update_config()``: ``make_app`` unloads and loads them again, and an
    unload with plugins loaded would run CKAN's whole config update (and log
    every start-up message) once more than CKAN's own start-up does."""
    from ckan.plugins import core

    original = core.plugins_update
    core.plugins_update = lambda: None
    try:
        core.unload_all()
    finally:
        core.plugins_update = original


@contextlib.contextmanager
def _guarded_start(guard: Guard) -> Iterator[None]:
    """While CKAN starts: when its ``init_model`` binds the engine, the guard begins."""
    from ckan import model

    original = model.init_model

    def init_model(engine: Any) -> None:
        original(engine)
        guard.begin(engine)

    model.init_model = init_model
    try:
        yield
    finally:
        model.init_model = original


class ActionCall(NamedTuple):
    """What ``ckansig call`` found: the action's result or error, the sends it
    caused (``roots``, each with its ``children``), the database changes per
    receiver (by send id and receiver position) and in all, and the secrets
    of its scope (hidden by every view of it)."""

    action: str
    data_dict: dict[str, Any]
    user: str | None
    commit: bool
    result: Any
    error: BaseException | None
    roots: list[Any]
    changes: dict[tuple[int, int], DbChanges]
    total: DbChanges
    secrets: SecretBook
    database: Verdict


def find_action(name: str) -> Any:
    from ckan import logic

    try:
        return logic.get_action(name)
    except KeyError:
        from ckansig.doctor.names import NameIndex

        typo = NameIndex(logic._actions).one_edit_from(name)
        hint = f"; did you mean {typo}?" if typo else ""
        raise UsageProblem(f"no action named {name!r} in CKAN's registry (core and "
                           f"IActions plugins){hint}", "ACTION") from None


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
        for table, op in flushed(session):
            counts = tables.setdefault(table, {"inserted": 0, "updated": 0, "deleted": 0})
            counts[op] += 1
