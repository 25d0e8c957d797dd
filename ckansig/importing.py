"""Import what a config names and describe how that failed: a missing
module, a module raising while imported (naming the dependency it lacks), an
entry point. Failures are :class:`PluginFailure` carrying a ``LoadError``."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ckansig.registry import LoadError

__all__ = ["ENTRY_POINT_GROUPS", "PluginFailure", "exc_text", "find_entry_point",
           "import_failure", "import_module", "raise_site"]

#: Where CKAN looks plugin names up, in order.
ENTRY_POINT_GROUPS = ("ckan.plugins", "ckan.test_plugins")


class PluginFailure(Exception):
    def __init__(self, error: LoadError) -> None:
        super().__init__(error.message)
        self.error = error


def find_entry_point(name: str) -> Any:
    from importlib.metadata import entry_points  # slow; only for bare plugin names

    for group in ENTRY_POINT_GROUPS:
        found = entry_points(group=group, name=name)
        for entry_point in found:
            return entry_point
    return None


def import_module(plugin: str, module_name: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        if module_name == missing or module_name.startswith(missing + "."):
            raise PluginFailure(LoadError(
                plugin, "module_not_found", f"module {module_name!r} not found"
                + (f" (no package {missing!r})" if missing != module_name else ""),
                missing_module=missing)) from None
        raise PluginFailure(import_failure(plugin, module_name, exc)) from None
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise PluginFailure(import_failure(plugin, module_name, exc)) from None


def import_failure(plugin: str, module_name: str, exc: BaseException) -> LoadError:
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        file, line = raise_site(exc)
        return LoadError(
            plugin, "import_error",
            f"importing {module_name!r} failed: it needs module {exc.name!r}, which is not "
            "installed", file=file, line=line, missing_module=exc.name)
    if isinstance(exc, SyntaxError):
        return LoadError(plugin, "import_error",
                         f"importing {module_name!r} failed: SyntaxError: {exc.msg}",
                         file=exc.filename, line=exc.lineno)
    file, line = raise_site(exc)
    return LoadError(plugin, "import_error",
                     f"importing {module_name!r} raised {exc_text(exc)}", file=file, line=line)


def raise_site(
    exc: BaseException, default: tuple[str | None, int | None] = (None, None)
) -> tuple[str | None, int | None]:
    """The file and line where ``exc`` was raised, outside ckansig and importlib."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "importlib" not in f.filename and "/ckansig/" not in f.filename.replace(
                  "\\", "/")]
    if not frames:
        return default
    return frames[-1].filename, frames[-1].lineno


def exc_text(exc: BaseException) -> str:
    message = str(exc).strip()
    first = message.splitlines()[0] if message else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
