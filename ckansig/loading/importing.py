"""Import what a config names, create its plugins, and describe how that
failed: a missing module, a module raising while imported (naming the
dependency it lacks), an entry point, a plugin whose constructor raised.
Failures are :class:`PluginFailure` carrying a ``LoadError``."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
from types import ModuleType
from typing import Any, NamedTuple

from ckansig.config.settings import PluginSpec
from ckansig.errors import exc_text, raise_site
from ckansig.isolation import plugin_code
from ckansig.model import LoadError

__all__ = ["ENTRY_POINT_GROUPS", "Found", "PluginFailure", "find_entry_point",
           "forget_entry_points", "import_failure", "import_module", "resolve"]

#: Where CKAN looks plugin names up, in order.
ENTRY_POINT_GROUPS = ("ckan.plugins", "ckan.test_plugins")


class PluginFailure(Exception):
    def __init__(self, error: LoadError) -> None:
        super().__init__(error.message)
        self.error = error


_ENTRY_POINTS: dict[str, Any] | None = None


def find_entry_point(name: str) -> Any:
    """The entry point called ``name`` in CKAN's groups, in their order. The
    installed distributions are scanned once per process (a config of
    thousands of bare names must not scan them once per name)."""
    global _ENTRY_POINTS
    if _ENTRY_POINTS is None:
        from importlib.metadata import entry_points  # slow; only for bare plugin names

        found: dict[str, Any] = {}
        for group in ENTRY_POINT_GROUPS:
            for entry_point in entry_points(group=group):
                found.setdefault(entry_point.name, entry_point)
        _ENTRY_POINTS = found
    return _ENTRY_POINTS.get(name)


def forget_entry_points() -> None:
    """Scan the installed distributions again at the next look-up (after
    installing one, in a test)."""
    global _ENTRY_POINTS
    _ENTRY_POINTS = None


def duplicate_plugin(name: str, file: str | None = None,
                     line: int | None = None) -> LoadError:
    """The load error of plugin ``name`` named a second time in ckan.plugins."""
    return LoadError(
        name, "duplicate_plugin",
        f"plugin {name!r} is named twice in ckan.plugins: CKAN refuses to start (Plugin "
        f"`{name}` already loaded); remove the duplicate", file=file, line=line)


def import_module(plugin: str, module_name: str) -> ModuleType:
    with plugin_code() as guard:
        return importlib.import_module(module_name)
    exc = guard.error
    if isinstance(exc, ModuleNotFoundError):
        missing = exc.name or module_name
        if module_name == missing or module_name.startswith(missing + "."):
            raise PluginFailure(LoadError(
                plugin, "module_not_found", f"module {module_name!r} not found"
                + (f" (no package {missing!r})" if missing != module_name else ""),
                missing_module=missing)) from None
    assert exc is not None
    raise PluginFailure(import_failure(plugin, module_name, exc)) from None


def own_folders(module_name: str) -> tuple[str, ...]:
    """The folders of the package ``module_name`` belongs to (``ckanext.foo``
    for ``ckanext.foo.plugin``), each ending with a separator: where a
    plugin's own frames are. Imports nothing new."""
    parts = module_name.split(".")
    package = ".".join(parts[:2]) if parts[0] == "ckanext" and len(parts) > 1 else parts[0]
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return ()
    if spec is None:
        return ()
    folders = list(spec.submodule_search_locations or ()) or (
        [os.path.dirname(spec.origin)] if spec.origin else [])
    return tuple(os.path.join(str(folder), "") for folder in folders)


def import_failure(plugin: str, module_name: str, exc: BaseException) -> LoadError:
    within = own_folders(module_name)
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        file, line = raise_site(exc, within=within)
        return LoadError(
            plugin, "import_error",
            f"importing {module_name!r} failed: it needs module {exc.name!r}, which is not "
            "installed", file=file, line=line, missing_module=exc.name)
    if isinstance(exc, SyntaxError):
        return LoadError(plugin, "import_error",
                         f"importing {module_name!r} failed: SyntaxError: {exc.msg}",
                         file=exc.filename, line=exc.lineno)
    file, line = raise_site(exc, within=within)
    return LoadError(plugin, "import_error",
                     f"importing {module_name!r} raised {exc_text(exc)}", file=file, line=line)


# -- from a config entry to plugin objects -------------------------------------


class Found(NamedTuple):
    """What a config entry names: plugin objects (or functions returning
    subscriptions) with their names, in order, and the plugins of a module
    that could not be created (the others still load)."""

    plugins: list[tuple[str, Any]]
    errors: list[LoadError]


def resolve(spec: PluginSpec) -> Found:
    """Import ``spec`` and create its plugins as CKAN does (an entry point's
    class is called with ``name=``). Raises :class:`PluginFailure` when the
    entry as a whole cannot be loaded."""
    if spec.kind == "name":
        entry_point = find_entry_point(spec.text)
        if entry_point is not None:
            import_module(spec.text, entry_point.module)  # tells a missing module apart
            plugin_class: Any = None
            with plugin_code() as guard:
                plugin_class = entry_point.load()
            if guard.error is not None:
                raise PluginFailure(
                    import_failure(spec.text, entry_point.module, guard.error)) from None
            return Found([(spec.text, _create(spec.text, plugin_class, {"name": spec.text}))], [])
        if spec.source is not None:  # named by a ckan.ini: an entry point or nothing
            groups = " or ".join(ENTRY_POINT_GROUPS)
            raise PluginFailure(LoadError(
                spec.text, "plugin_not_found",
                f"no plugin named {spec.text!r} in the entry-point groups {groups}: CKAN "
                "refuses to start (PluginNotFoundException)", file=spec.source, line=spec.line))
        try:
            module = import_module(spec.text, spec.module)
        except PluginFailure as failure:
            if failure.error.kind == "module_not_found" and failure.error.missing_module \
                    == spec.module:
                groups = " or ".join(ENTRY_POINT_GROUPS)
                raise PluginFailure(LoadError(
                    spec.text, "module_not_found",
                    f"no plugin named {spec.text!r}: no entry point in {groups} "
                    "and no module of that name",
                    missing_module=spec.module)) from None
            raise
        return _module_plugins(module)
    module = import_module(spec.text, spec.module)
    if spec.kind == "module":
        return _module_plugins(module)
    obj: Any = module
    assert spec.attribute is not None
    for part in spec.attribute.split("."):
        with plugin_code() as guard:  # a module __getattr__ or a property of plugin code
            obj = getattr(obj, part)
        exc = guard.error
        if isinstance(exc, AttributeError):
            raise PluginFailure(LoadError(
                spec.text, "attribute_missing",
                f"module {spec.module!r} has no attribute {spec.attribute!r}",
                file=getattr(module, "__file__", None))) from None
        if exc is not None:
            file, line = raise_site(exc, within=own_folders(spec.module))
            raise PluginFailure(LoadError(
                spec.text, "plugin_raised",
                f"looking up {spec.attribute!r} in module {spec.module!r} raised "
                f"{exc_text(exc)}", file=file, line=line)) from None
    if isinstance(obj, type):
        return Found([(spec.text, _create(spec.text, obj, {}))], [])
    if callable(getattr(obj, "get_signal_subscriptions", None)) or inspect.isfunction(obj):
        return Found([(spec.text, obj)], [])
    raise PluginFailure(LoadError(
        spec.text, "not_a_plugin",
        f"{spec.text!r} is a {type(obj).__name__}, not a plugin class, plugin or function "
        "returning subscriptions"))


def _module_plugins(module: ModuleType) -> Found:
    """The plugin classes a module defines (created), and its module-level
    ``get_signal_subscriptions`` function."""
    found = Found([], [])
    for attr, value in list(vars(module).items()):
        # type(), not isinstance(): a lazy proxy's __class__ may raise; and
        # whatever a class's attributes raise, the module's other plugins load
        if not issubclass(type(value), type):
            continue
        is_plugin = False
        with plugin_code():
            is_plugin = (value.__module__ == module.__name__
                         and callable(getattr(value, "get_signal_subscriptions", None))
                         and not _is_interface(value))
        if is_plugin:
            name = f"{module.__name__}:{attr}"
            try:
                found.plugins.append((name, _create(name, value, {})))
            except PluginFailure as failure:
                found.errors.append(failure.error)
    function = vars(module).get("get_signal_subscriptions")
    if inspect.isfunction(function):
        found.plugins.append((f"{module.__name__}:get_signal_subscriptions", function))
    return found


def _create(name: str, cls: Any, kwargs: dict[str, Any]) -> Any:
    with plugin_code() as guard:
        return cls(**kwargs)
    assert guard.error is not None
    exc = guard.error
    file, line = raise_site(exc, within=own_folders(str(getattr(cls, "__module__", "") or "")))
    raise PluginFailure(LoadError(
        name, "plugin_init_failed",
        f"creating the plugin raised {exc_text(exc)}", file=file, line=line)) from None


def _is_interface(cls: type) -> bool:
    """An interface class (ckansig's or CKAN's), as opposed to a plugin class
    that inherits one (plugins carry ``_implements``)."""
    return (any(base.__name__ == "Interface" for base in cls.__mro__)
            and not hasattr(cls, "_implements"))
