"""Notice what plugin code creates while it runs: new signals in the
namespaces, new modules, and signals bound as module globals."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType
from typing import Any, cast

from blinker import Namespace, Signal

__all__ = ["SOURCE_STATES", "Tracker", "bound_signals", "noting_sources"]

#: path -> (size, modification time in ns) of each source file as Python read
#: it to compile the code that runs, noted while plugins load: doctor trusts
#: no ``# ckansig:`` comment of a file that differs from it now.
SOURCE_STATES: dict[str, tuple[int, int]] = {}


class Tracker:
    """Notices the signals and modules that appear while plugin code runs.

    Each step costs what is new, not what exists: a config of a thousand
    plugins must load in linear time.
    """

    def __init__(self, namespaces: Mapping[str, Namespace]) -> None:
        self.namespaces = namespaces
        self.sizes = {name: len(ns) for name, ns in namespaces.items()}
        self.seen_modules = set(sys.modules)

    def new_signals(self) -> list[tuple[str, str, Signal]]:
        """Signals added to a namespace since the last call (namespaces only
        grow): read from the end of the namespace, newest last, so that the
        cost is what is new, not the namespace's size."""
        found: list[tuple[str, str, Signal]] = []
        for name, ns in self.namespaces.items():
            size = len(ns)
            added = size - self.sizes[name]
            if added > 0:
                # blinker < 1.7's Namespace is a WeakValueDictionary: its keys are in .data
                keys: Any = ns if isinstance(ns, dict) else getattr(ns, "data", ns)
                newest = list(itertools.islice(reversed(keys), added))
                found.extend((name, signal_name, ns[signal_name])
                             for signal_name in reversed(newest))
            self.sizes[name] = size
        return found

    def new_modules(self) -> list[ModuleType]:
        """Modules imported since the last call (newest are last in sys.modules)."""
        names: list[str] = []
        for name in reversed(sys.modules):
            if name in self.seen_modules:
                break
            names.append(name)
        self.seen_modules.update(names)
        found = (sys.modules.get(n) for n in reversed(names))
        return [cast(ModuleType, m) for m in found if issubclass(type(m), ModuleType)]


def bound_signals(modules: list[ModuleType]) -> dict[int, str]:
    """id(signal) -> the first of ``modules`` that binds it as a global."""
    bound: dict[int, str] = {}
    for module in modules:
        try:
            values = list(vars(module).values())
        except Exception:  # not a module after all
            continue
        for value in values:
            if issubclass(type(value), Signal):  # type(): a proxy's __class__ may raise
                bound.setdefault(id(value), module.__name__)
    return bound


@contextmanager
def noting_sources() -> Iterator[None]:
    """While plugins load: note the state of each source file Python compiles
    or loads code from (before that code runs, which may rewrite its file)."""
    from importlib.machinery import SourceFileLoader

    from ckansig.isolation import OWN_PATCH

    own = "get_code" in SourceFileLoader.__dict__  # else inherited from SourceLoader
    original = SourceFileLoader.get_code

    def get_code(loader: Any, fullname: str) -> Any:
        try:
            path = loader.get_filename(fullname)
            found = os.stat(path)
            SOURCE_STATES[path] = (found.st_size, found.st_mtime_ns)
        except Exception:  # an odd loader: nothing noted, nothing changes
            pass
        return original(loader, fullname)

    setattr(get_code, OWN_PATCH, True)
    SourceFileLoader.get_code = get_code  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        if own:
            SourceFileLoader.get_code = original  # type: ignore[method-assign]
        else:
            del SourceFileLoader.get_code
