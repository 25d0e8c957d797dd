"""The per-file cache of send-site facts.

A file is read and parsed again only when its size or modification time has
changed (or the module it is read as): a second ``doctor`` reads none. The
cache is one JSON file, ``sends-<format>.json`` under ``$CKANSIG_CACHE_DIR``,
else ``$XDG_CACHE_HOME/ckansig``, else ``~/.cache/ckansig``. A cache that
cannot be read is rebuilt, one that cannot be written is skipped: it only ever
saves time, never changes a result.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from typing import Any

from ckansig.sends.scan import file_facts, may_send

__all__ = ["FactsCache", "cache_dir"]

#: Bumped whenever what :func:`~ckansig.sends.scan.file_facts` notes changes.
FORMAT = 1
_EMPTY: Mapping[str, Any] = {"defs": {}, "imports": {}, "sends": [], "wrappers": {},
                             "calls": []}
#: entries kept for files not read in this run (other virtualenvs share the cache)
_KEEP = 50_000


def cache_dir() -> str:
    """Where ckansig keeps its caches."""
    explicit = os.environ.get("CKANSIG_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ckansig")


class FactsCache:
    """Facts by file path, with the size and modification time they were read at."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.entries: dict[str, list[Any]] = {}
        self.read = 0  # files read (not served from the cache) in this run
        if path is not None:
            try:
                with open(path, encoding="utf-8") as stream:
                    loaded = json.load(stream)
                if isinstance(loaded, dict) and loaded.get("format") == FORMAT \
                        and isinstance(loaded.get("files"), dict):
                    self.entries = loaded["files"]
            except (OSError, ValueError):
                pass  # none yet, or damaged: rebuilt below

    @classmethod
    def default(cls) -> FactsCache:
        return cls(os.path.join(cache_dir(), f"sends-{FORMAT}.json"))

    def facts(self, files: Mapping[str, str]) -> dict[str, tuple[str, Mapping[str, Any]]]:
        """``{path: (module, facts)}`` for ``files`` (``{path: module}``)."""
        found: dict[str, tuple[str, Mapping[str, Any]]] = {}
        entries = self.entries
        for path, module in files.items():
            try:
                stat = os.stat(path)
            except OSError:
                continue
            entry = entries.get(path)
            if entry is not None and entry[0] == stat.st_size and \
                    entry[1] == stat.st_mtime_ns and entry[2] == module:
                facts = entry[3]
            else:
                facts = self._read(path, module)
                entries[path] = [stat.st_size, stat.st_mtime_ns, module, facts]
                self.read += 1
            found[path] = (module, facts if facts is not None else _EMPTY)
        if self.read:
            self._save(found)
        return found

    @staticmethod
    def _read(path: str, module: str) -> Mapping[str, Any] | None:
        try:
            with open(path, "rb") as stream:
                data = stream.read()
        except OSError:
            return None
        if not may_send(data):
            return None  # most files: nothing to note, and nothing to store
        facts = file_facts(data, module)
        # imports only serve the file's own sends and calls: without those, nothing
        return facts if any(facts[k] for k in ("defs", "sends", "wrappers", "calls")) else None

    def _save(self, used: Mapping[str, Any]) -> None:
        if self.path is None:
            return
        entries = self.entries
        if len(entries) > _KEEP:
            entries = {path: entry for path, entry in entries.items() if path in used}
        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".sends-", dir=folder)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    json.dump({"format": FORMAT, "files": entries}, stream,
                              separators=(",", ":"))
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            pass  # a read-only home: no cache, same results
