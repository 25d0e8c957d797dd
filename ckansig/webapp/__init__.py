"""Inside a running CKAN web app, in debug mode: each request's send trees in a
Signals panel of the debug toolbar, and the last requests' at ``/_ckansig/sends``.

- :mod:`~ckansig.webapp.history`: the WSGI middleware that records each
  request's sends, and the history of the last N requests (no Flask, no CKAN);
- :mod:`~ckansig.webapp.flask_app`: mounts it on a Flask app in debug mode;
- :mod:`~ckansig.webapp.panel`: the Flask-DebugToolbar panel;
- :mod:`~ckansig.webapp.plugin`: the ``ckansig`` CKAN plugin that enables it all.

Nothing here is imported by the command line tool.
"""
