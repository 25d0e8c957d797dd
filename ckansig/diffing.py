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


def read_side(path: str) -> Side:
    """The side at ``path``: a JSON document read as is; a ckan.ini or a
    plugins.toml (or pyproject.toml) loaded by ``ckansig list --findings`` in a
    process of its own. Raises :class:`ConfigError` naming the file."""
    kind = _kind_of(path)
    if kind == "json":
        return Side(path, _read_document(path))
    absolute = os.path.abspath(path)
    option = "--ckan-ini" if kind == "ini" else "--config"
    env = {k: v for k, v in os.environ.items() if k not in ("CKANSIG_CONFIG", "CKAN_INI")}
    with tempfile.TemporaryDirectory(prefix="ckansig-diff-") as empty:  # no ./plugins.toml
        done = subprocess.run(
            [sys.executable, "-m", "ckansig", "list", "--format", "json", "--findings",
             option, absolute], cwd=empty, env=env, capture_output=True, text=True,
            errors="replace", check=False)
    if done.returncode == 130:
        raise KeyboardInterrupt
    if done.returncode not in (0, 1):
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"ckansig list exited {done.returncode}"
        raise ConfigError(f"cannot load it: {reason.removeprefix('Error: ')}", path=path)
    try:
        document = json.loads(done.stdout)
    except ValueError:
        raise ConfigError("cannot load it: ckansig list gave no JSON", path=path) from None
    return Side(path, _checked(document, path))


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
            document = json.load(stream)
    except OSError as exc:
        raise ConfigError(f"cannot read it: {exc.strerror or exc}", path=path) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", path=path) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not JSON: {exc.msg}", path=path, line=exc.lineno) from None
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
    return document


# -- comparing -------------------------------------------------------------------------


def _key(signal: Mapping[str, Any]) -> str:
    namespace = signal.get("namespace")
    return f"{namespace}:{signal['name']}" if namespace else str(signal["name"])


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
        where: Receiver(where[0], where[1], records[0].get("plugin"),
                        tuple(sorted({_sender(r) for r in records})),
                        all(r.get("alive", True) for r in records))
        for where, records in found.items()}


def _finding_key(problem: Mapping[str, Any]) -> tuple[Any, ...]:
    """A finding's identity across sides: never its file, line or message,
    which hold paths that differ between virtualenvs."""
    return tuple(problem.get(k) for k in ("id", "severity", "plugin", "namespace", "signal",
                                          "receiver"))


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
    return tuple(error.get(k) for k in ("plugin", "kind", "namespace", "signal", "receiver"))


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
