"""The ``ckansig`` CKAN plugin: ``ckan.plugins = ... ckansig`` in ckan.ini.

With ``debug = true`` it records every request's sends, adds the Signals panel
to CKAN's debug toolbar and serves the last requests' send trees as JSON at
``/_ckansig/sends`` (``ckansig.history = N`` requests, 50 unless set), to
sysadmins only: a logged-in sysadmin or a sysadmin's API token. With
``debug = false`` it does nothing: no recording, no route, no panel.

With ``ckansig.otel = true`` (any ``debug``) it instruments blinker for
OpenTelemetry (:mod:`ckansig.otel`), for sites that configure OpenTelemetry in
code rather than under ``opentelemetry-instrument``: the tracer and meter
providers must be set before CKAN loads its plugins.
``ckansig.otel.capture_arguments = true`` adds the sends' keyword arguments,
redacted, as span attributes.
"""

from __future__ import annotations

from typing import Any

import ckan.plugins as plugins

from ckansig.webapp.flask_app import DEFAULT_SIZE, install

__all__ = ["SignalsPlugin"]


class SignalsPlugin(plugins.SingletonPlugin):  # type: ignore[misc]  # ckan has no types here
    plugins.implements(plugins.IMiddleware, inherit=True)

    def make_middleware(self, app: Any, config: Any) -> Any:
        if _true(config.get("ckansig.otel")):
            _instrument(_true(config.get("ckansig.otel.capture_arguments")))
        if getattr(app, "debug", False):
            install(app, _history_size(config), config.get("DEBUG_TB_PANELS"),
                    authorize=_sysadmin)
        return app


def _true(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "yes", "on", "1")


def _instrument(capture_arguments: bool) -> None:
    import logging

    try:
        from ckansig.otel.instrumentor import BlinkerInstrumentor
    except ImportError as exc:  # the site starts all the same, and says why
        logging.getLogger(__name__).error(
            "ckansig.otel = true, but OpenTelemetry is not installed (%s): "
            "pip install 'ckansig[otel]'", exc)
        return
    BlinkerInstrumentor().instrument(capture_arguments=capture_arguments)


def _sysadmin() -> bool:
    """Whether the request's user is a sysadmin, as CKAN's own authorization
    says: logged in, or by an API token (CKAN identifies both before views run)."""
    from ckan import authz
    from ckan.common import current_user

    name = getattr(current_user, "name", None)
    return bool(name) and bool(authz.is_sysadmin(name))


def _history_size(config: Any) -> int:
    value = config.get("ckansig.history", DEFAULT_SIZE)
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = 0
    if size < 1:
        import logging

        logging.getLogger(__name__).warning(
            "ckansig.history = %r is not a whole number of requests above 0: %d kept",
            value, DEFAULT_SIZE)
        return DEFAULT_SIZE
    return size
