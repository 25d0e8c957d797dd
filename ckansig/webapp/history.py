"""The sends of a running web app, request by request.

:class:`RecordRequests` wraps a WSGI app: each request is a scope
(``"GET /dataset"``) whose sends, with the sends they caused, are kept in a
:class:`RequestSends`; a :class:`SendHistory` keeps the last N requests. It
knows nothing of Flask or CKAN (``ckansig.webapp.flask_app`` mounts it).

A request's sends are turned into JSON (secrets hidden) when someone asks
(the panel, ``/_ckansig/sends``), not while the app serves requests: that
would cost each request more than the recording itself. Until then the
history holds the records of its last N requests, with their arguments; once
turned into JSON, a request lets its records go.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from ckansig.watching.db_changes import SendWatch
from ckansig.watching.jsonl import send_tree_json
from ckansig.watching.recorder import SendRecord, record, scope
from ckansig.watching.records import link, walk
from ckansig.watching.scopes import request_line

__all__ = ["VIEWER_COOKIE", "RecordRequests", "RequestSends", "SendHistory", "current_request",
           "is_ckan_send"]

#: Flask's own plumbing (app contexts, templates, request_finished before CKAN
#: forwards it): kept out of a request's trees unless it caused a CKAN send.
_CKAN_NAMESPACES = ("ckan", "ckanext")

#: The most sends kept of one request (a loop that sends per row stays bounded).
MAX_SENDS = 2000

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def is_ckan_send(rec: SendRecord) -> bool:
    """Whether ``rec`` is a send of CKAN's or an extension's (``ckan`` or
    ``ckanext`` namespace), or caused one."""
    return any(r.namespace in _CKAN_NAMESPACES for r in walk([rec]))


class RequestSends:
    """One request: its method, path, status and the sends made while it ran."""

    __slots__ = ("_json", "dropped", "duration", "endpoint", "method", "path", "records",
                 "status", "time", "viewer", "watch")

    def __init__(self, method: str, path: str, viewer: str | None = None) -> None:
        self.method, self.path = method, path
        #: the browser (or client) that made it: its ckansig_viewer cookie
        self.viewer = viewer
        self.time = time.time()
        self.duration = 0.0
        self.status: int | None = None
        #: the Flask endpoint, set by the Flask side (static files are not kept)
        self.endpoint: str | None = None
        self.records: list[SendRecord] = []
        self.dropped = 0
        self._json: dict[str, Any] | None = None
        #: the rows each receiver wrote (from SQLAlchemy's flush events, when
        #: the app uses SQLAlchemy: see :func:`watch_flushes`)
        self.watch = SendWatch()

    @property
    def scope(self) -> str:
        return f"{self.method} {self.path}"

    def add(self, rec: SendRecord) -> None:
        if len(self.records) < MAX_SENDS:
            self.records.append(rec)
        else:
            self.dropped += 1

    def roots(self) -> list[SendRecord]:
        """The sends no other send caused, each with its ``children``; only those
        of CKAN's namespaces or that caused one (Flask's template and app-context
        sends are counted in :meth:`snapshot`'s ``other_sends``, not shown)."""
        return [root for root in link(self.records) if is_ckan_send(root)]

    def snapshot(self) -> dict[str, Any]:
        """The request and its send trees so far (secrets hidden), as
        ``/_ckansig/sends`` serves it."""
        trees, shown = [], 0
        for root in self.roots():
            shown += sum(1 for _ in walk([root]))
            # the request's secrets hidden; each receiver with the rows it wrote
            trees.append(send_tree_json(root, changes=self.watch.changes))
        return {
            "scope": self.scope,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "time": self.time,
            "duration_ms": round(self.duration * 1000, 3),
            "sends": trees,
            "other_sends": len(self.records) - shown,
            "dropped": self.dropped,
        }

    def json(self) -> dict[str, Any]:
        """:meth:`snapshot`, taken once, when asked after the request is over;
        the records are let go then."""
        if self._json is None:
            self._json = self.snapshot()
            self.records = []
        return self._json


class SendHistory:
    """The last ``size`` requests, newest last (thread-safe)."""

    def __init__(self, size: int = 50) -> None:
        self.size = size
        self._requests: deque[RequestSends] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, request: RequestSends) -> None:
        with self._lock:
            self._requests.append(request)

    def requests(self) -> list[RequestSends]:
        with self._lock:
            return list(self._requests)

    def json(self, limit: int | None = None, *,
             viewer: str | None = None) -> list[dict[str, Any]]:
        """The requests as JSON, newest first; with ``viewer``, only that
        viewer's (the panel shows a browser its own requests, never another's)."""
        chosen = self.requests()[::-1]
        if viewer is not None:
            chosen = [request for request in chosen if request.viewer == viewer]
        return [request.json() for request in chosen[:limit]]


#: The cookie that tells one browser's requests from another's (a random token).
VIEWER_COOKIE = "ckansig_viewer"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


def _viewer(environ: dict[str, Any]) -> str | None:
    """The ckansig_viewer token the request carries (None: none, or not one of ours)."""
    cookies = environ.get("HTTP_COOKIE")
    if not isinstance(cookies, str) or VIEWER_COOKIE not in cookies:
        return None
    for part in cookies.split(";"):
        name, _, value = part.strip().partition("=")
        if name == VIEWER_COOKIE and _TOKEN.fullmatch(value):
            return value
    return None


_request: ContextVar[RequestSends | None] = ContextVar("ckansig_request", default=None)


def current_request() -> RequestSends | None:
    """The request being served in this thread or task, if it is recorded."""
    return _request.get()


def watch_flushes() -> None:
    """Count the rows every recorded request's receivers write (once per
    process; nothing when SQLAlchemy is not installed)."""
    global _watching
    if _watching:
        return
    try:
        from sqlalchemy import event
        from sqlalchemy.orm import Session
    except ImportError:
        return

    def after_flush(session: Any, flush_context: Any) -> None:
        request = _request.get()
        if request is not None:
            request.watch.after_flush(session, flush_context)

    event.listen(Session, "after_flush", after_flush)
    _watching = True


_watching = False


def _collect(rec: SendRecord) -> None:
    request = _request.get()
    if request is not None:
        request.add(rec)


class RecordRequests:
    """WSGI middleware: every request's sends, kept in ``history``.

    ``skip(environ)`` names the requests not to record at all (the history's
    own page); ``keep(request)`` decides, when a request is over, whether it
    goes into the history (static files do not). Recording starts with the
    middleware and stops at :meth:`close`.
    """

    def __init__(self, app: WsgiApp, history: SendHistory,
                 skip: Callable[[dict[str, Any]], bool] = lambda environ: False,
                 keep: Callable[[RequestSends], bool] = lambda request: True) -> None:
        self.app, self.history, self.skip, self.keep = app, history, skip, keep
        self._recording: Any = record(_collect)
        self._recording.__enter__()

    def close(self) -> None:
        """Stop recording (the app goes on, unrecorded)."""
        if self._recording is not None:
            self._recording.__exit__(None, None, None)
            self._recording = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if self._recording is None or self.skip(environ):
            return self.app(environ, start_response)
        viewer = _viewer(environ)
        request = RequestSends(*request_line(environ), viewer=viewer or secrets.token_urlsafe(16))

        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            code = status.split(" ", 1)[0]
            request.status = int(code) if code.isdigit() else None
            if viewer is None:  # a new viewer: its requests are told apart from now on
                headers = [*headers, ("Set-Cookie", f"{VIEWER_COOKIE}={request.viewer}; "
                                      "Path=/; HttpOnly; SameSite=Lax")]
            return start_response(status, headers, *exc_info)

        started = time.perf_counter()
        token = _request.set(request)
        try:
            with scope(request.scope):
                return self.app(environ, start)
        except BaseException:
            # the app raised past its own error handling (werkzeug's debugger
            # catches it outside): the client gets a 500, and so does the history
            if request.status is None:
                request.status = 500
            raise
        finally:
            _request.reset(token)
            request.duration = time.perf_counter() - started
            if self.keep(request):
                self.history.add(request)
