"""CKAN mode: load plugins into the running CKAN as its own ``load()`` does.

When CKAN is importable and a ``ckan.ini`` is given, ckansig does what CKAN's
start-up does before it touches a database, Solr or Redis:

1. the ini, as CKAN's loader read it, goes into ``ckan.common.config``;
2. each plugin is created by CKAN itself (``ckan.plugins.core._get_service``:
   its entry-point groups, its ``PluginNotFoundException``), announced to
   ``IPluginObserver`` plugins, activated on 2.10, and registered in CKAN's own
   plugin registry, so ``toolkit.plugin_loaded()`` and ``get_plugin()`` answer
   as in CKAN; a plugin named twice fails as CKAN fails (``Plugin `x` already
   loaded``);
3. its subscriptions are connected only when the release's own rule says it
   implements ``ISignal`` (on 2.10 a base class's ``implements(ISignal)``
   without ``inherit=True`` does not count);
4. CKAN's config declarations of core and plugins are set up and their
   defaults filled in, as ``update_config()`` starts by doing.

What ``update_config()`` does next (``IConfigurer``, ``IConfigurable``, the
database engine, Solr's schema check) is not done: it needs those services.
``ckansig fire --app`` builds the whole app instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ckansig.errors import exc_text, raise_site
from ckansig.isolation import plugin_code
from ckansig.loading.importing import PluginFailure, duplicate_plugin, import_module
from ckansig.model import LoadError

__all__ = ["CkanHost", "release"]


def release() -> tuple[int, int]:
    """The installed CKAN's release, (major, minor)."""
    import ckan

    major, minor = str(ckan.__version__).split(".")[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


class CkanHost:
    """The running CKAN, into which plugins are loaded."""

    def __init__(self, ckan_config: Mapping[str, Any]) -> None:
        from ckan.common import config
        from ckan.plugins import core, interfaces

        self.core = core
        self.interfaces = interfaces
        self.release = release()
        os.environ["CKAN_CONFIG"] = str(ckan_config.get("__file__", ""))
        config.update(ckan_config)
        self.config = config

    def system_plugins(self) -> list[str]:
        """The plugins of the ``ckan.system_plugins`` group, which CKAN 2.10
        and 2.11 load after ``ckan.plugins`` (2.12 has none); raises
        :class:`PluginFailure` when one of them cannot be imported."""
        find = getattr(self.core, "find_system_plugins", None)
        if find is None:
            return []
        try:
            return list(find())
        except Exception as exc:  # a broken system plugin: CKAN would fail to start
            file, line = raise_site(exc)
            raise PluginFailure(LoadError(
                "ckan.system_plugins", "import_error",
                f"loading CKAN's system plugins raised {exc_text(exc)}", file=file,
                line=line)) from None

    def load(self, name: str) -> Any:
        """Create, announce and register plugin ``name`` as CKAN's ``load()``
        does; raise :class:`PluginFailure` with CKAN's reason when it cannot."""
        core = self.core
        if name in core._PLUGINS:
            raise PluginFailure(duplicate_plugin(name))
        entry_point = self._entry_point(name)
        if entry_point is None:
            groups = ", ".join(core.GROUPS)
            raise PluginFailure(LoadError(
                name, "plugin_not_found",
                f"no plugin named {name!r} in the entry-point groups {groups}: CKAN refuses "
                "to start (PluginNotFoundException)"))
        import_module(name, entry_point.module)  # tells a missing module apart
        # the module is imported: what raises now is the plugin's own code,
        # creating the plugin (its __init__) or registering it, as from plugins.toml
        service: Any = None
        with plugin_code() as guard:
            service = core._get_service(name)
            self._register(name, service)
        if guard.error is not None:
            from ckansig.loading.importing import own_folders

            file, line = raise_site(guard.error, within=own_folders(entry_point.module))
            raise PluginFailure(LoadError(
                name, "plugin_init_failed",
                f"creating the plugin raised {exc_text(guard.error)}", file=file,
                line=line)) from None
        return service

    def _entry_point(self, name: str) -> Any:
        from importlib.metadata import entry_points

        for group in self.core.GROUPS:
            for entry_point in entry_points(group=group, name=name):
                return entry_point
        return None

    def _register(self, name: str, service: Any) -> None:
        core = self.core
        observers = list(core.PluginImplementations(self.interfaces.IPluginObserver))
        for observer in observers:
            observer.before_load(service)
        if self.release < (2, 11):
            service.activate()
            core._PLUGINS_CLASS.append(service.__class__)
            if isinstance(service, core.SingletonPlugin):
                core._PLUGINS_SERVICE[name] = service
        else:
            core._PLUGINS_SERVICE[name] = service
        for observer in observers:
            observer.after_load(service)
        core._PLUGINS.append(name)

    def implements_isignal(self, service: Any) -> bool:
        """Whether CKAN connects ``service``'s subscriptions: this release's rule."""
        isignal = self.interfaces.ISignal
        if self.release < (2, 11):
            return bool(isignal.implemented_by(service.__class__))
        return bool(self.core.implemented_by(service, isignal))

    def finish(self) -> None:
        """Set up the config declarations of core and the loaded plugins, and
        fill in their defaults, as CKAN's ``update_config()`` starts by doing."""
        from ckan.common import config_declaration

        config_declaration.setup()
        config_declaration.make_safe(self.config)
        config_declaration.normalize(self.config)
