"""Mount ckansig in a Flask app in debug mode: record every request's sends,
serve them at ``/_ckansig/sends``, and add the Signals panel to
Flask-DebugToolbar.

:func:`install` is called by the ``ckansig`` CKAN plugin (IMiddleware) and by
the panel's ``init_app`` (when the toolbar's panel setting names it); it does
its work once per app, and nothing at all when the app is not in debug mode.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ckansig.webapp.history import (
    RecordRequests,
    RequestSends,
    SendHistory,
    current_request,
    watch_flushes,
)

__all__ = ["PANEL", "SENDS_PATH", "install", "installed"]

#: The toolbar's name for the Signals panel (its DEBUG_TB_PANELS entry).
PANEL = "ckansig.webapp.panel.SignalsPanel"
#: Where the history is served, in debug mode only.
SENDS_PATH = "/_ckansig/sends"
#: How many requests the history keeps unless ckan.ini says (``ckansig.history``).
DEFAULT_SIZE = 50
_EXTENSION = "ckansig"


def installed(app: Any) -> RecordRequests | None:
    """The recorder mounted on ``app`` (a Flask app), if any."""
    found: RecordRequests | None = app.extensions.get(_EXTENSION)
    return found


def install(app: Any, size: int = DEFAULT_SIZE, panels: Any = None,
            authorize: Callable[[], bool] | None = None) -> RecordRequests | None:
    """Record ``app``'s requests, serve the history, show the panel: in debug
    mode only (returns None otherwise). ``panels``: the toolbar's panel list
    as ckan.ini gives it (text or a list), honoured with the Signals panel added.
    ``authorize`` says whether the request may read the history (every user's
    requests): the ``ckansig`` CKAN plugin passes CKAN's sysadmin check; by
    default only a client on this machine (loopback) may."""
    if not app.debug:
        return None
    mounted = installed(app)
    if mounted is not None:
        return mounted
    history = SendHistory(size)
    watch_flushes()
    holder, attribute = _innermost(app)
    recorder = RecordRequests(getattr(holder, attribute), history, skip=_skipped, keep=_kept)
    setattr(holder, attribute, recorder)
    app.extensions[_EXTENSION] = recorder
    app.add_url_rule(SENDS_PATH, "ckansig.sends",
                     _sends_view(history, authorize or _from_loopback))
    app.before_request(_note_endpoint)
    _add_panel(app, panels)  # after the extension is set: the panel's init_app installs too
    return recorder


def _innermost(app: Any) -> tuple[Any, str]:
    """Where the Flask app's own ``wsgi_app`` is held: the recorder goes right
    around it, inside the middlewares CKAN wrapped it in, because werkzeug's
    debugger (``debug = true``) runs the app only as the server reads the body."""
    holder, attribute = app, "wsgi_app"
    for _ in range(50):  # a chain of middlewares, each keeping the next as .app
        layer = getattr(holder, attribute)
        if getattr(layer, "__self__", None) is app or not hasattr(layer, "app"):
            break
        holder, attribute = layer, "app"
    return holder, attribute


def _skipped(environ: dict[str, Any]) -> bool:
    path = str(environ.get("PATH_INFO", ""))
    return path.startswith(("/_ckansig/", "/_debug_toolbar/"))


def _kept(request: RequestSends) -> bool:
    endpoint = request.endpoint or ""
    return not (endpoint == "static" or endpoint.endswith(".static")
                or endpoint.startswith("webassets."))


def _note_endpoint() -> None:
    from flask import request

    recorded = current_request()
    if recorded is not None:
        recorded.endpoint = request.endpoint


def _from_loopback() -> bool:
    from flask import request

    return request.remote_addr in ("127.0.0.1", "::1")


#: What a client that may not read the history is told (HTTP 403).
FORBIDDEN = ("the send history holds every user's requests: it is for sysadmins (log in as "
             "one, or send one's API token in the Authorization header)")


def _sends_view(history: SendHistory, authorize: Callable[[], bool]) -> Any:
    def sends() -> Any:
        """The last requests' send trees, newest first (``?limit=N``), for
        whoever ``authorize`` allows; 403 for anyone else."""
        from flask import Response, request

        if not authorize():
            return Response(json.dumps({"error": FORBIDDEN}), status=403,
                            mimetype="application/json")
        try:
            limit = max(0, int(request.args.get("limit", "")))
        except ValueError:
            limit = None
        body = json.dumps({"requests": history.json(limit)}, indent=1)
        return Response(body, mimetype="application/json")

    return sends


def panel_setting(value: Any) -> tuple[str, ...]:
    """DEBUG_TB_PANELS as a tuple of dotted paths (split on spaces and commas):
    CKAN hands the toolbar the ini's value as text, and the toolbar reads text
    one character at a time, so that no panel at all is shown."""
    if isinstance(value, str):
        return tuple(part for part in re.split(r"[\s,]+", value) if part)
    return tuple(value or ())


def _add_panel(app: Any, configured: Any = None) -> None:
    """Add the Signals panel to the toolbar's list; with ``configured`` (the
    ``DEBUG_TB_PANELS`` of ckan.ini), that list, which CKAN does not pass on
    (2.12 drops it, 2.10 and 2.11 pass it as text the toolbar cannot read).
    Panels new to the toolbar are set up as it would have (``init_app``)."""
    try:
        from flask_debugtoolbar import DebugToolbarExtension
        from flask_debugtoolbar.toolbar import DebugToolbar
    except ImportError:  # no toolbar: the history is served all the same
        return
    raw = app.config.get("DEBUG_TB_PANELS")
    if raw is None:  # the toolbar is not set up yet: its defaults
        raw = DebugToolbarExtension()._default_config(app)["DEBUG_TB_PANELS"]
    loaded = () if isinstance(raw, str) else panel_setting(raw)
    wanted = panel_setting(configured) if configured else panel_setting(raw)
    app.config["DEBUG_TB_PANELS"] = wanted if PANEL in wanted else (*wanted, PANEL)
    for path in wanted:
        if path not in loaded and path != PANEL:
            panel_class = DebugToolbar._import_panel(app, path)
            init_app = getattr(panel_class, "init_app", None)
            if init_app is not None:
                init_app(app)
