"""CKAN-compatible signal namespaces and core signals.

A drop-in for ``ckan.lib.signals``: the namespaces ``ckan`` (core signals) and
``ckanext`` (extension signals) plus one attribute per core signal, so that::

    from ckansig import signals
    assert signals.user_created is signals.ckan.signal("user_created")
    assert signals.action_succeeded is signals.ckan.signal("action_succeed")

When the real CKAN is importable the namespaces *are* ``ckan.lib.signals.ckan``
and ``ckan.lib.signals.ckanext``, so real CKAN plugins and plugins written
against ckansig subscribe to the same signal objects. Importing this module
then adds nothing to them: a catalogue signal the installed release does not
define (``successful_login``; ``logged_in`` before 2.11) is a signal of its
own, outside the namespace, listed in :data:`ABSENT`.
"""

from __future__ import annotations

from blinker import NamedSignal, Namespace

from ckansig.catalog import CORE_SIGNALS

__all__ = [
    "ABSENT",
    "NAMESPACES",
    "REAL_CKAN",
    "action_succeeded",
    "ckan",
    "ckanext",
    "datastore_delete",
    "datastore_upsert",
    "failed_login",
    "perform_password_reset",
    "register_blueprint",
    "request_finished",
    "request_password_reset",
    "request_started",
    "resource_download",
    "successful_login",
    "user_created",
    "user_logged_in",
    "user_logged_out",
]

try:
    from ckan.lib import signals as _real
except ImportError:  # standalone: no CKAN (or one without signals) here
    ckan: Namespace = Namespace()
    ckanext: Namespace = Namespace()
    REAL_CKAN = False
else:
    ckan = _real.ckan
    ckanext = _real.ckanext
    REAL_CKAN = True

#: The namespaces ckansig knows, by the names CKAN gives them.
NAMESPACES: dict[str, Namespace] = {"ckan": ckan, "ckanext": ckanext}


#: (namespace, name) -> the stand-in for a catalogue signal the installed CKAN
#: does not define: connected to by plugins like any signal, never sent by CKAN,
#: and never added to CKAN's namespaces.
ABSENT: dict[tuple[str, str], NamedSignal] = {}


def _core(attribute: str) -> NamedSignal:
    entry = next(s for s in CORE_SIGNALS if s.attribute == attribute)
    namespace = NAMESPACES[entry.namespace]
    if REAL_CKAN and entry.name not in namespace:
        return ABSENT.setdefault((entry.namespace, entry.name),
                                 NamedSignal(entry.name, entry.doc))
    return namespace.signal(entry.name, entry.doc)


request_started = _core("request_started")
request_finished = _core("request_finished")
register_blueprint = _core("register_blueprint")
resource_download = _core("resource_download")
successful_login = _core("successful_login")
user_logged_in = _core("user_logged_in")
user_logged_out = _core("user_logged_out")
failed_login = _core("failed_login")
user_created = _core("user_created")
request_password_reset = _core("request_password_reset")
perform_password_reset = _core("perform_password_reset")
action_succeeded = _core("action_succeeded")
datastore_upsert = _core("datastore_upsert")
datastore_delete = _core("datastore_delete")
