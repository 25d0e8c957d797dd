"""``ckansig diff``: what changes in signal wiring between two sides.

A side is a saved ``ckansig list --format json`` document (with its findings
when it was saved with ``--findings``), a ckan.ini or a plugins.toml. A config
file is loaded in a ckansig process of its own (:func:`read_side`), so that two
sides never share a process: CKAN's plugins, config and signals are global.

:func:`compare` returns a :class:`WiringDiff`: data, which
:mod:`ckansig.output.diff_view` renders as text, JSON or Markdown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from ckansig.errors import ConfigError

__all__ = ["Receiver", "Side", "WiringDiff", "compare", "read_side"]


class Side(NamedTuple):
    """One side: where it came from, and its ``list --format json`` document."""

    label: str
    document: Mapping[str, Any]


class Receiver(NamedTuple):
    """A receiver of one signal on one side: its plugin, the senders it is
    connected for (``ANY`` for no filter), and whether it is still connected."""

    signal: str
    receiver: str
    plugin: str | None
    senders: tuple[str, ...]
    alive: bool


class WiringDiff(NamedTuple):
    """What differs from side ``a`` to side ``b``. Findings are compared when
    both sides have them (``findings_compared``); load errors otherwise."""

    a: str
    b: str
    signals_added: list[str]
    signals_removed: list[str]
    receivers_added: list[Receiver]
    receivers_removed: list[Receiver]
    receivers_changed: list[tuple[Receiver, Receiver]]
    findings_compared: bool
    findings_new: list[Mapping[str, Any]]
    findings_fixed: list[Mapping[str, Any]]
    errors_new: list[Mapping[str, Any]]
    errors_fixed: list[Mapping[str, Any]]

    @property
    def changed(self) -> bool:
        return any((self.signals_added, self.signals_removed, self.receivers_added,
                    self.receivers_removed, self.receivers_changed, self.findings_new,
                    self.findings_fixed, self.errors_new, self.errors_fixed))


# -- reading a side ------------------------------------------------------------------


#: The most a side is read (a saved document, or a pipe) and the most of a
#: loading process's stderr kept for its error message.
MAX_SIDE = 256 * 1024 * 1024
_STDERR_TAIL = 64 * 1024
#: How long a pipe may stay silent before it is given up on: before its first
#: byte (a named FIFO nobody writes to), and between two reads.
FIRST_BYTE_TIMEOUT = 5.0
PIPE_TIMEOUT = 30.0


def read_side(path: str) -> Side:
    """The side at ``path``: a JSON document read as is; a ckan.ini or a
    plugins.toml (or pyproject.toml) loaded by ``ckansig list --findings`` in a
    process of its own. A pipe (``<(cat a.json)``, ``/dev/stdin``) or a named
    FIFO is read once, as a JSON document. Raises :class:`ConfigError` naming
    the file."""
    content = _pipe_content(path)
    if content is not None:
        return Side(path, _parse_document(content, path))
    kind = _kind_of(path)
    if kind == "json":
        return Side(path, _read_document(path))
    return Side(path, _checked(_loaded(path, kind), path))


def _loaded(path: str, kind: str) -> object:
    absolute = os.path.abspath(path)
    option = "--ckan-ini" if kind == "ini" else "--config"
    env = {k: v for k, v in os.environ.items() if k not in ("CKANSIG_CONFIG", "CKAN_INI")}
    with tempfile.TemporaryDirectory(prefix="ckansig-diff-") as empty, \
            tempfile.TemporaryFile() as errors:  # a plugin may write gigabytes there
        done = subprocess.run(
            [sys.executable, "-m", "ckansig", "list", "--format", "json", "--findings",
             option, absolute], cwd=empty, env=env, stdout=subprocess.PIPE, stderr=errors,
            check=False)
        errors.seek(max(0, errors.seek(0, os.SEEK_END) - _STDERR_TAIL))
        tail = errors.read().decode("utf-8", "replace")
    if done.returncode == 130:
        raise KeyboardInterrupt
    if done.returncode not in (0, 1):
        lines = [line for line in tail.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"ckansig list exited {done.returncode}"
        raise ConfigError(f"cannot load it: {reason.removeprefix('Error: ')}", path=path)
    try:
        return json.loads(done.stdout.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        raise ConfigError("cannot load it: ckansig list gave no JSON", path=path) from None


def _pipe_content(path: str) -> str | None:
    """The whole of ``path`` when it is a pipe or FIFO (None otherwise), read
    without blocking on a FIFO nobody writes to, and at most :data:`MAX_SIDE`."""
    import select
    import stat
    import time

    try:
        if not stat.S_ISFIFO(os.stat(path).st_mode):
            return None
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None  # read as a file below, which says what is wrong
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + FIRST_BYTE_TIMEOUT
    try:
        while True:
            ready, _, _ = select.select([handle], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                waited = PIPE_TIMEOUT if size else FIRST_BYTE_TIMEOUT
                raise ConfigError(f"nothing came through the pipe for {waited:g} s (a named "
                                  "FIFO needs its writer)", path=path)
            chunk = os.read(handle, 1 << 20)
            if not chunk:
                break  # no writer left: the end
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_SIDE:
                raise ConfigError(f"larger than {MAX_SIDE >> 20} MB", path=path)
            deadline = time.monotonic() + PIPE_TIMEOUT
    except BlockingIOError:
        pass
    finally:
        os.close(handle)
    if not size:
        raise ConfigError("empty: nothing was written to it (a named FIFO needs its "
                          "writer before diff reads it)", path=path)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", path=path) from None


def _kind_of(path: str) -> str:
    lowered = path.lower()
    for suffix, kind in ((".json", "json"), (".ini", "ini"), (".toml", "toml")):
        if lowered.endswith(suffix):
            return kind
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            head = stream.read(4096)
    except OSError as exc:
        raise ConfigError(f"cannot read it: {exc.strerror or exc}", path=path) from None
    stripped = head.lstrip()
    if stripped.startswith("{"):
        return "json"
    if "[app:main]" in head:
        return "ini"
    return "toml"


def _read_document(path: str) -> Mapping[str, Any]:
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read(MAX_SIDE + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read it: {exc.strerror or exc}", path=path) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", path=path) from None
    if len(text) > MAX_SIDE:
        raise ConfigError(f"larger than {MAX_SIDE >> 20} MB", path=path)
    return _parse_document(text, path)


def _parse_document(text: str, path: str) -> Mapping[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not JSON: {exc.msg}", path=path, line=exc.lineno) from None
    except (ValueError, RecursionError) as exc:  # an integer of 5,000 digits; deep nesting
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ConfigError(f"not JSON ckansig can read: {reason}", path=path) from None
    return _checked(document, path)


def _checked(document: object, path: str) -> Mapping[str, Any]:
    """``document`` if it is a ``ckansig list --format json`` document."""
    if not (isinstance(document, dict) and isinstance(document.get("signals"), list)
            and isinstance(document.get("errors"), list)):
        raise ConfigError("not a 'ckansig list --format json' document (no signals and "
                          "errors lists)", path=path)
    for index, signal in enumerate(document["signals"]):
        if not (isinstance(signal, dict) and isinstance(signal.get("name"), str)
                and isinstance(signal.get("receivers"), list)
                and all(isinstance(r, dict) and isinstance(r.get("receiver"), str)
                        for r in signal["receivers"])):
            raise ConfigError(f"signals[{index}] is not a signal with a name and receivers",
                              path=path)
    problems = document.get("problems")
    if problems is not None and not (isinstance(problems, list) and all(
            isinstance(p, dict) and isinstance(p.get("id"), str) for p in problems)):
        raise ConfigError("problems is not a list of findings", path=path)
    if not all(isinstance(e, dict) for e in document["errors"]):
        raise ConfigError("errors is not a list of load errors", path=path)
    return document


def _hashable(value: Any) -> Any:
    """``value`` as a dictionary key: itself when it is a plain scalar, else its
    JSON (a saved document may hold anything where a name is expected)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return json.dumps(value, sort_keys=True, default=str)


# -- comparing -------------------------------------------------------------------------


def _key(signal: Mapping[str, Any]) -> str:
    namespace = signal.get("namespace")
    return f"{namespace}:{signal['name']}" if isinstance(namespace, str) and namespace \
        else str(signal["name"])


def _sender(record: Mapping[str, Any]) -> str:
    if record.get("sender_type") == "ANY" or (
            record.get("sender") is None and "sender_type" not in record):
        return "ANY"
    return json.dumps(record.get("sender"), ensure_ascii=False)


def _signals(document: Mapping[str, Any]) -> set[str]:
    """The signals a side has: listed, and present in its CKAN."""
    return {_key(s) for s in document["signals"] if s.get("present", True)}


def _receivers(document: Mapping[str, Any]) -> dict[tuple[str, str], Receiver]:
    found: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for signal in document["signals"]:
        key = _key(signal)
        for record in signal["receivers"]:
            found.setdefault((key, record["receiver"]), []).append(record)
    return {
        where: Receiver(where[0], where[1], _name(records[0].get("plugin")),
                        tuple(sorted({_sender(r) for r in records})),
                        all(r.get("alive", True) for r in records))
        for where, records in found.items()}


def _name(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else str(_hashable(value))


def _finding_key(problem: Mapping[str, Any]) -> tuple[Any, ...]:
    """A finding's identity across sides: never its file, line or message,
    which hold paths that differ between virtualenvs."""
    return tuple(_hashable(problem.get(k)) for k in ("id", "severity", "plugin", "namespace",
                                                     "signal", "receiver"))


def _active(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [p for p in document.get("problems") or () if not p.get("silenced")]


def _multiset_difference(
    mine: Iterable[Mapping[str, Any]], theirs: Iterable[Mapping[str, Any]],
    key: Any,
) -> list[Mapping[str, Any]]:
    """The records of ``mine`` that ``theirs`` lacks, counting repeats."""
    left = Counter(key(r) for r in theirs)
    kept = []
    for record in mine:
        identity = key(record)
        if left[identity]:
            left[identity] -= 1
        else:
            kept.append(record)
    return kept


def _error_key(error: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(_hashable(error.get(k))
                 for k in ("plugin", "kind", "namespace", "signal", "receiver"))


def compare(a: Side, b: Side) -> WiringDiff:
    """What changes from side ``a`` to side ``b``."""
    before, after = a.document, b.document
    signals_a, signals_b = _signals(before), _signals(after)
    receivers_a, receivers_b = _receivers(before), _receivers(after)
    changed = [(receivers_a[k], receivers_b[k]) for k in sorted(receivers_a.keys()
                                                                   & receivers_b.keys())
               if receivers_a[k] != receivers_b[k]]
    compared = before.get("problems") is not None and after.get("problems") is not None
    new = fixed = errors_new = errors_fixed = []
    if compared:
        new = _multiset_difference(_active(after), _active(before), _finding_key)
        fixed = _multiset_difference(_active(before), _active(after), _finding_key)
    else:
        errors_new = _multiset_difference(after["errors"], before["errors"], _error_key)
        errors_fixed = _multiset_difference(before["errors"], after["errors"], _error_key)
    return WiringDiff(
        a.label, b.label, sorted(signals_b - signals_a), sorted(signals_a - signals_b),
        [receivers_b[k] for k in sorted(receivers_b.keys() - receivers_a.keys())],
        [receivers_a[k] for k in sorted(receivers_a.keys() - receivers_b.keys())],
        changed, compared, new, fixed, errors_new, errors_fixed)
