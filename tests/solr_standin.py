"""A stand-in for Solr, which this machine does not have: every search finds
nothing, the schema is CKAN's, every update is accepted and recorded.

CKAN's organization pages count datasets through Solr, so ``organization_create``
fails without one (see DESIGN.md). The rollback tests read what the index was
told (:class:`Told`): the datasets added and removed, and which are in it now.
CKAN, PostgreSQL and the browser are the real ones; nothing here is searched.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

SCHEMA = b'<?xml version="1.0"?>\n<schema name="ckan-2.10" version="1.6"></schema>\n'


@dataclass
class Told:
    """What the stand-in was told: datasets added and removed (counts by id),
    and the ids in the index now."""

    added: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    docs: set[str] = field(default_factory=set)

    def update(self, body: str) -> None:
        """An update request from pysolr: ``<add><doc><field name="id">`` (or
        JSON documents), or ``<delete><query>... id:"X" ...</query>``."""
        added = re.findall(r'<field name="id">([^<]+)</field>', body)
        if body.lstrip().startswith("["):
            added = [doc["id"] for doc in json.loads(body) if "id" in doc]
        for found in added:
            self.added[found] += 1
            self.docs.add(found)
        for query in re.findall(r"<query>(.*?)</query>", body, re.DOTALL):
            for found in set(re.findall(r'id:(?:&quot;|")([^"&]+)(?:&quot;|")', query)):
                self.removed[found] += 1
                self.docs.discard(found)


class _Handler(BaseHTTPRequestHandler):
    told: Told
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
        self.told.update(self.rfile.read(length).decode("utf-8", "replace"))
        self._reply(b'{"responseHeader": {"status": 0}}')


@contextmanager
def solr_recorder() -> Iterator[tuple[str, Told]]:
    """Serve on a free port of 127.0.0.1; yields the ``solr_url`` for
    ckan.ini and what the stand-in is told."""
    from .local_http import serving

    told = Told()
    with serving(type("Handler", (_Handler,), {"told": told})) as url:
        yield f"{url}/solr/ckan", told


@contextmanager
def solr_standin() -> Iterator[str]:
    """:func:`solr_recorder`'s ``solr_url`` alone."""
    with solr_recorder() as (url, _):
        yield url
