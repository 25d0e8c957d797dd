"""Where signals are sent: send sites found in the source of CKAN and of the
installed and configured extensions, by reading it (the AST), never by
importing it.

:func:`send_index` is the entry point: it picks the files
(:func:`source_files`), reads each one's facts through the per-file cache of
:mod:`ckansig.sends.cache`, and resolves them (:mod:`ckansig.sends.index`).
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from collections.abc import Iterable, Iterator

from ckansig.config.settings import Config
from ckansig.isolation import plugin_code
from ckansig.model import Registry
from ckansig.sends.cache import FactsCache
from ckansig.sends.index import SendIndex, SendSite, Sent, build_index

__all__ = ["SendIndex", "SendSite", "Sent", "send_index", "source_files"]

#: Folders never read: tests send signals to test them, and are not the app.
_SKIP_DIRS = frozenset({"tests", "test", "__pycache__", "node_modules", "migration",
                        "migrations", "i18n", "public", "templates", "assets"})


def send_index(registry: Registry, config: Config | None = None,
               cache: FactsCache | None = None) -> SendIndex:
    """Every send site in the source of CKAN, of the installed ``ckanext``
    packages, and of the packages of ``registry``'s plugins and signals and
    of the modules ``config`` names."""
    # a bare name is an entry point's, unless loading imported it as a module
    named = [s.module for s in config.plugins
             if s.kind != "name" or s.module in sys.modules] if config else []
    files = source_files([*_modules_of(registry), *named])
    cache = cache if cache is not None else FactsCache.default()
    return build_index(cache.facts(files))


def _modules_of(registry: Registry) -> list[str]:
    modules = []
    for plugin in registry.plugins:
        obj = plugin.obj
        module: object
        if inspect.ismodule(obj):  # a module named as a plugin
            module = obj.__name__
        elif inspect.isfunction(obj):
            module = obj.__module__
        else:  # the class's own dict: no plugin code runs
            module = (obj if isinstance(obj, type) else type(obj)).__dict__.get("__module__")
        if isinstance(module, str):
            modules.append(module)
    modules += [info.defined_module for info in registry.signals
                if isinstance(info.defined_module, str)]
    return modules


def source_files(modules: Iterable[str] = ()) -> dict[str, str]:
    """``{path: module}`` of the Python files to read: the ``ckan`` package and
    every ``ckanext`` package installed, and the top-level package (or the
    module file) of each of ``modules``; never tests, nor ckansig itself."""
    files: dict[str, str] = {}
    tops = dict.fromkeys(["ckan", "ckanext", *(m.split(".")[0] for m in modules)])
    for top in tops:
        if top == "ckansig" or not top.isidentifier():
            continue
        for folder, prefix, single in _locations(top):
            if single:
                files.setdefault(folder, prefix)
            else:
                for path, module in _walk(folder, prefix):
                    files.setdefault(path, module)
    return files


def _locations(top: str) -> Iterator[tuple[str, str, bool]]:
    """``(folder, package, False)`` for each folder of package ``top``, or
    ``(file, module, True)`` for a plain module."""
    module = sys.modules.get(top)
    locations: Iterable[str] | None = None
    file: str | None = None
    if module is not None:
        with plugin_code() as guard:  # a plugin's module object may be anything
            locations = list(getattr(module, "__path__", None) or ()) or None
            file = getattr(module, "__file__", None)
        if guard.error is not None:
            return
    else:
        try:
            spec = importlib.util.find_spec(top)  # a top-level name: imports nothing
        except (ImportError, ValueError):
            return
        if spec is None:
            return
        locations = list(spec.submodule_search_locations or ()) or None
        file = spec.origin
    if locations:
        for folder in locations:
            if isinstance(folder, str) and os.path.isdir(folder):
                yield folder, top, False
    elif isinstance(file, str) and file.endswith(".py") and os.path.isfile(file):
        yield file, top, True


def _walk(folder: str, package: str, root: str | None = None,
          seen: set[str] | None = None) -> Iterator[tuple[str, str]]:
    """The Python files under ``folder``, as modules of ``package``. A
    symlinked folder is followed only when it leads to a folder inside the
    package's own (``root``) not walked yet: never out of the tree, never
    round a cycle. Only regular files (by their target) are listed."""
    real = os.path.realpath(folder)
    if root is None:
        root = real
    seen = set() if seen is None else seen
    if real in seen or not (real == root or real.startswith(os.path.join(root, ""))):
        return
    seen.add(real)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if name.startswith(".") or "{" in name:  # hidden, or a template's folder
            continue
        try:
            is_dir = entry.is_dir()
            is_file = not is_dir and entry.is_file()
        except OSError:
            continue
        if is_dir:
            if name not in _SKIP_DIRS and name.isidentifier():
                yield from _walk(entry.path, f"{package}.{name}", root, seen)
        elif is_file and name.endswith(".py") and not (
            name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
        ):
            stem = name[:-3]
            yield entry.path, package if stem == "__init__" else f"{package}.{stem}"
