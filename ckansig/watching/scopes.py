"""Scopes inside a traced program: each HTTP request a Flask app serves
(``GET /dataset``; CKAN's app is one) and each background job an rq worker
performs (``job ckanext.x.jobs.reindex``; ``ckan jobs worker`` is one), inside
the command's own scope.

``Flask.wsgi_app`` and rq's ``Job.perform`` are wrapped at class level, once
their modules are imported (now, or by the program later: a post-import hook
waits for them), only while :func:`install`'s undo has not been called. The
wrappers call the originals unchanged.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from ckansig.watching.recorder import scope

__all__ = ["install", "request_line"]


def request_line(environ: dict[str, Any]) -> tuple[str, str]:
    """A WSGI request's method and path (no query string: it may hold a key),
    which make its scope, ``GET /dataset``."""
    return str(environ.get("REQUEST_METHOD") or "GET"), str(environ.get("PATH_INFO") or "/")


def _request_scope(original: Callable[..., Any]) -> Callable[..., Any]:
    def wsgi_app(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        with scope(" ".join(request_line(environ))):
            return original(self, environ, start_response)

    return wsgi_app


def _job_scope(original: Callable[..., Any]) -> Callable[..., Any]:
    def perform(self: Any) -> Any:
        with scope(f"job {getattr(self, 'func_name', '?')}"):
            return original(self)

    return perform


#: module -> (class, method, wrapper maker)
_TARGETS: dict[str, tuple[str, str, Callable[[Callable[..., Any]], Callable[..., Any]]]] = {
    "flask.app": ("Flask", "wsgi_app", _request_scope),
    "rq.job": ("Job", "perform", _job_scope),
}


class _Patches:
    def __init__(self) -> None:
        self.undo: list[Callable[[], None]] = []

    def apply(self, module: ModuleType) -> None:
        class_name, method, wrap = _TARGETS[module.__name__]
        cls = getattr(module, class_name, None)
        original = getattr(cls, method, None)
        if cls is None or original is None or hasattr(original, "__ckansig_scope__"):
            return
        wrapper = wrap(original)
        wrapper.__ckansig_scope__ = True  # type: ignore[attr-defined]
        wrapper.__wrapped__ = original  # type: ignore[attr-defined]
        wrapper.__name__ = wrapper.__qualname__ = method
        setattr(cls, method, wrapper)

        def restore() -> None:
            if getattr(cls, method, None) is wrapper:
                setattr(cls, method, original)

        self.undo.append(restore)


class _AfterImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Lets the usual finders find a target module, then patches it once it ran."""

    def __init__(self, patches: _Patches) -> None:
        self.patches = patches
        self.active = True
        self._loaders: dict[str, Any] = {}

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if not self.active or fullname not in _TARGETS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is None or not hasattr(spec.loader, "exec_module"):
                    return None
                self._loaders[fullname] = spec.loader
                spec.loader = self
                return spec
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        loader = self._loaders[spec.name]
        create: Any = getattr(loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        loader = self._loaders.pop(module.__name__)
        module.__loader__ = loader  # the module sees its own loader, not this hook
        if module.__spec__ is not None:
            module.__spec__.loader = loader
        loader.exec_module(module)
        if self.active:
            self.patches.apply(module)


def install() -> Callable[[], None]:
    """Scope requests and jobs from now on; returns the undo."""
    patches = _Patches()
    hook = _AfterImport(patches)
    for name in _TARGETS:
        module = sys.modules.get(name)
        if module is not None:
            patches.apply(module)
    sys.meta_path.insert(0, hook)

    def uninstall() -> None:
        hook.active = False
        if hook in sys.meta_path:
            sys.meta_path.remove(hook)
        for restore in reversed(patches.undo):
            restore()

    return uninstall
