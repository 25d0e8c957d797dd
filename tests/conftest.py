"""Shared fixtures: fixture plugins on disk, configs, and a clean slate per test.

Every test leaves signals, sys.modules, sys.path and the plugin caches as it
found them, so that fixture plugins can be loaded again by the next test.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ckansig import signals
from ckansig.loading import loader
from ckansig.plugins import SingletonPlugin

pytest_plugins = ["pytester"]

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent
_TRANSIENT = ("fx_", "ckanext", "bench_")


def _clear(sig: object) -> None:
    for name in ("receivers", "_by_sender", "_by_receiver", "_weak_senders"):
        getattr(sig, name).clear()


class Snapshot:
    """The process state a test may change by loading plugins, and its restoration."""

    def __init__(self) -> None:
        self.names = {ns: set(space) for ns, space in signals.NAMESPACES.items()}
        self.path = list(sys.path)
        self.instances = dict(SingletonPlugin._instances)
        self.keep = list(loader._KEEP_ALIVE)

    def restore(self) -> None:
        restore(self.names, self.path, self.instances, self.keep)


@pytest.fixture(autouse=True, scope="session")
def _own_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The send-site cache of this run, not the user's (subprocesses inherit it)."""
    import os

    before = os.environ.get("CKANSIG_CACHE_DIR")
    os.environ["CKANSIG_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if before is None:
        del os.environ["CKANSIG_CACHE_DIR"]
    else:
        os.environ["CKANSIG_CACHE_DIR"] = before


@pytest.fixture(autouse=True)
def clean_slate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Snapshot]:
    monkeypatch.delenv("CKANSIG_CONFIG", raising=False)
    monkeypatch.delenv("CKAN_INI", raising=False)
    snapshot = Snapshot()
    yield snapshot
    snapshot.restore()


def restore(names: dict[str, set[str]], path: list[str], instances: dict[type, object],
            keep: list[object]) -> None:
    """Forget every signal, receiver, module and plugin a test loaded."""
    for ns, space in signals.NAMESPACES.items():
        for name in list(space):
            if name not in names[ns]:
                del space[name]
            else:
                _clear(space[name])
    for name in list(sys.modules):
        if (name.startswith(_TRANSIENT) and name not in ("ckanext",)) or (name == "ckanext" and (
            not signals.REAL_CKAN
        )):
            del sys.modules[name]
    sys.path[:] = path
    SingletonPlugin._instances.clear()
    SingletonPlugin._instances.update(instances)  # type: ignore[arg-type]
    loader._KEEP_ALIVE[:] = keep


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a plugins.toml naming ``plugins`` (fixtures on the path) and return it."""

    def write(*plugins: str, extra: str = "", paths: list[str] | None = None) -> Path:
        folders = [str(FIXTURES)] if paths is None else paths
        text = (
            "[ckansig]\n"
            f"paths = {json.dumps(folders)}\n"
            f"plugins = {json.dumps(list(plugins))}\n" + extra
        )
        config = tmp_path / "plugins.toml"
        config.write_text(text, encoding="utf-8")
        return config

    return write


@pytest.fixture
def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        return CliRunner()  # click 8.2+ keeps stderr apart already


def fake_distribution(site: Path, name: str, entry_points: str) -> Path:
    """An installed distribution ``name`` in folder ``site`` (put it on sys.path)
    that declares ``entry_points`` (the text of an entry_points.txt)."""
    dist = site / f"{name}-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(entry_points)
    return site


def valid_sends(sends: list[dict[str, Any]]) -> None:
    """Every send, and every send nested in it, is of the published shape
    (``ckansig/schemas/send.schema.json``)."""
    import jsonschema

    from ckansig.schemas import schema

    validator = jsonschema.Draft202012Validator(schema("send"))
    for send in sends:
        errors = sorted(validator.iter_errors(send), key=lambda e: list(e.path))
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
