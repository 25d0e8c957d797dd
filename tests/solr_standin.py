"""A stand-in for Solr, which this machine does not have: every search finds
nothing, the schema is CKAN's, every update is accepted.

Only for the browser test: CKAN's organization pages count datasets through
Solr, so ``organization_create`` fails without one (see DESIGN.md). CKAN,
PostgreSQL and the browser are the real ones; nothing here is searched.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SCHEMA = b'<?xml version="1.0"?>\n<schema name="ckan-2.10" version="1.6"></schema>\n'


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _reply(self, body: bytes, kind: str = "application/json") -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if "schema" in url.path or "schema.xml" in url.query:
            self._reply(SCHEMA, "application/xml")
            return
        if url.path.rstrip("/").endswith("/select"):
            fields = {field: [] for field in query.get("facet.field", [])}
            self._reply(json.dumps({
                "responseHeader": {"status": 0, "QTime": 0},
                "response": {"numFound": 0, "start": 0, "docs": []},
                "facet_counts": {"facet_queries": {}, "facet_fields": fields,
                                 "facet_ranges": {}, "facet_intervals": {},
                                 "facet_heatmaps": {}},
            }).encode())
            return
        self._reply(b'{"responseHeader": {"status": 0}, "status": "OK"}')

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._reply(b'{"responseHeader": {"status": 0}}')


@contextmanager
def solr_standin() -> Iterator[str]:
    """Serve on a free port of 127.0.0.1; yields the ``solr_url`` for ckan.ini."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/solr/ckan"
    finally:
        server.shutdown()
        server.server_close()
