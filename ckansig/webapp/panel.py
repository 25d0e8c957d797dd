"""The Signals panel of Flask-DebugToolbar (CKAN mounts the toolbar when
``debug = true``).

Enable it with ``ckansig`` in ``ckan.plugins`` (the plugin adds it), or by
naming ``ckansig.webapp.panel.SignalsPanel`` in the toolbar's
``DEBUG_TB_PANELS``. Either way the app's requests are recorded (see
:mod:`ckansig.webapp.flask_app`) and the panel shows the current one, with
the same browser's earlier requests (told apart by a ``ckansig_viewer``
cookie): never another user's.
"""

from __future__ import annotations

from typing import Any

from flask_debugtoolbar.panels import DebugPanel

from ckansig.output.panel_view import panel_html, panel_subtitle
from ckansig.webapp.flask_app import SENDS_PATH, install, installed
from ckansig.webapp.history import RequestSends, current_request

__all__ = ["SignalsPanel"]

#: How many earlier requests the panel shows (the JSON history keeps more).
EARLIER = 10


class SignalsPanel(DebugPanel):  # type: ignore[misc]  # flask_debugtoolbar has no types here
    """This request's send trees, the wiring of the signals it sent, and the
    requests before it."""

    name = "Signals"
    has_content = True

    @classmethod
    def init_app(cls, app: Any) -> None:
        install(app)

    def nav_title(self) -> str:
        return "Signals"

    def nav_subtitle(self) -> str:
        return panel_subtitle(self._current())

    def title(self) -> str:
        return "Signals (ckansig)"

    def url(self) -> str:
        return ""

    def _current(self) -> dict[str, Any] | None:
        cached: dict[str, Any] | None = getattr(self, "_snapshot", None)
        if cached is None:
            request = current_request()
            cached = None if request is None else request.snapshot()
            self._snapshot = cached
        return cached

    def content(self) -> str:
        from flask import current_app

        request = current_request()
        recorder = installed(current_app)
        # the viewer's own earlier requests only: never another browser's
        # (this request joins the history when it is over)
        earlier = [] if recorder is None or request is None else \
            recorder.history.json(EARLIER, viewer=request.viewer)
        return panel_html(self._current(), earlier, _wiring(request), SENDS_PATH,
                          _slow_ms(current_app.config))


def _slow_ms(config: Any) -> float:
    """``ckansig.slow_ms`` (ckan.ini): receivers slower are marked (50 unless set)."""
    from ckansig.output.panel_view import SLOW_MS

    try:
        found = float(config.get("ckansig.slow_ms", SLOW_MS))
    except (TypeError, ValueError):
        return SLOW_MS
    return found if found > 0 else SLOW_MS


def _wiring(request: RequestSends | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each signal the request sent (in CKAN's namespaces, or causing a send
    there), with every receiver connected to it and the senders it listens for."""
    from ckansig.loading.blinker_state import ANY_ID, UNKNOWN, connections, sender_for_id
    from ckansig.loading.describing import describe
    from ckansig.watching.records import walk

    if request is None:
        return []
    seen: dict[str, Any] = {}
    for rec in walk(request.roots()):
        seen.setdefault(rec.key, rec.signal)
    wiring = []
    for key, signal in seen.items():
        receivers = []
        for connection in connections(signal):
            receiver = connection.ref()
            if receiver is None:
                continue
            senders = ", ".join(_sender(sender_for_id(signal, sid), sid == ANY_ID, UNKNOWN)
                                for sid in connection.sender_ids)
            receivers.append((describe(receiver).name, senders))
        wiring.append((key, receivers))
    return wiring


def _sender(sender: Any, anyone: bool, unknown: Any) -> str:
    if anyone:
        return "any sender"
    if sender is unknown:
        return "an object no longer alive"
    from ckansig.values import Redactor, safe_repr

    return safe_repr(sender, Redactor(), 80)
