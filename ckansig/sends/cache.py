"""The per-file cache of send-site facts.

A file is read and parsed again only when its inode, size, modification time
or status-change time has changed (``cp -p`` and ``rsync -t`` keep the first
three, never the last), or the module it is read as: a second ``doctor``
reads none. The cache is one file, ``sends-<format>.json`` under
``$CKANSIG_CACHE_DIR``, else ``$XDG_CACHE_HOME/ckansig``, else
``~/.cache/ckansig``: a header line (format, ckansig's version, and the
SHA-256 of the JSON after it), then the JSON. A cache that is not a regular
file, was written by another version, or whose JSON does not match its hash
(damaged, or edited by hand) is never trusted: it is rebuilt. One that cannot
be written is skipped: the cache only ever saves time, never changes a result.
Entries for files that no longer exist are dropped when it is saved.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat as stat_mode
import tempfile
from collections.abc import Mapping
from typing import Any

from ckansig import __version__
from ckansig.sends.scan import file_facts, may_send

__all__ = ["FactsCache", "cache_dir"]

#: Bumped whenever what :func:`~ckansig.sends.scan.file_facts` notes changes.
FORMAT = 2
_HEADER = "ckansig-sends-cache"
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
            self.entries = _load(path)

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
            if not stat_mode.S_ISREG(stat.st_mode):
                continue  # a FIFO or a device named *.py: never opened
            key = [stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, module]
            entry = entries.get(path)
            if entry is not None and entry[:5] == key:
                facts = entry[5]
            else:
                facts = self._read(path, module)
                entries[path] = [*key, facts]
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
        entries = {path: entry for path, entry in self.entries.items()
                   if path in used or os.path.exists(path)}  # gone files: dropped
        if len(entries) > _KEEP:
            entries = {path: entry for path, entry in entries.items() if path in used}
        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".sends-", dir=folder)
            try:
                text = json.dumps(entries, separators=(",", ":"))
                digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    stream.write(f"{_HEADER} {FORMAT} {__version__} {digest}\n{text}")
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            pass  # a read-only home: no cache, same results


def _load(path: str) -> dict[str, list[Any]]:
    """The entries of the cache file at ``path``, or none when it is missing,
    not a regular file, of another format or version, or not what its hash
    says (damaged or edited: every entry is then read again)."""
    try:
        if not stat_mode.S_ISREG(os.stat(path).st_mode):
            return {}
        with open(path, encoding="utf-8") as stream:
            header = stream.readline(200).split()
            text = stream.read()
    except (OSError, ValueError):
        return {}
    if header[:3] != [_HEADER, str(FORMAT), __version__] or len(header) != 4 or \
            hashlib.sha256(text.encode("utf-8")).hexdigest() != header[3]:
        return {}
    try:
        loaded = json.loads(text)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}
