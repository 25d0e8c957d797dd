"""A CKAN-compatible plugin API: ``Plugin``, ``SingletonPlugin``, ``implements``.

Plugin code written for ``ckan.plugins`` works with ckansig after changing only
its imports::

    import ckansig.plugins as p

    class ExamplePlugin(p.SingletonPlugin):
        p.implements(p.ISignal)

        def get_signal_subscriptions(self):
            return {p.toolkit.signals.user_created: [on_user_created]}
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

__all__ = [
    "ISignal",
    "Interface",
    "Plugin",
    "PluginException",
    "SingletonPlugin",
    "implements",
    "toolkit",
]


class PluginException(Exception):
    """Base class of plugin errors."""


class Interface:
    """Base class of extension-point interfaces (never instantiated)."""

    @classmethod
    def implemented_by(cls, other: type) -> bool:
        """Whether the class ``other`` implements this interface."""
        return issubclass(other, cls) or cls in getattr(other, "_implements", ())

    @classmethod
    def provided_by(cls, instance: object) -> bool:
        """Whether ``instance``'s class implements this interface."""
        return cls.implemented_by(type(instance))


class _PluginMeta(type):
    """Collects the interfaces declared with :func:`implements`.

    ``implements(..., inherit=True)`` makes the interface a base class, so the
    plugin gets its default methods, as in CKAN.
    """

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]
    ) -> _PluginMeta:
        declared: list[tuple[type[Interface], bool]] = namespace.pop("_ckansig_declared", [])
        implemented: set[type[Interface]] = set()
        for base in bases:
            implemented.update(getattr(base, "_implements", ()))
        implemented.update(interface for interface, _ in declared)
        extra = tuple(i for i, inherit in declared if inherit and i not in bases)
        namespace["_implements"] = frozenset(implemented)
        # what this class itself declared: CKAN 2.10's rule ignores a base's
        # declaration made without inherit=True
        namespace["_declared_here"] = frozenset(interface for interface, _ in declared)
        return super().__new__(mcs, name, bases + extra, namespace)


class Plugin(metaclass=_PluginMeta):
    """Base class of plugins that may have several instances."""

    _implements: ClassVar[frozenset[type[Interface]]]

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        # CKAN instantiates plugins as ``ep.load()(name=entry_point_name)``.
        self.name = name or type(self).__name__.lower()
        super().__init__()


class SingletonPlugin(Plugin):
    """Base class of plugins with one instance per class, as in CKAN."""

    _instances: ClassVar[dict[type, SingletonPlugin]] = {}

    def __new__(cls, *args: Any, **kwargs: Any) -> SingletonPlugin:
        instance = SingletonPlugin._instances.get(cls)
        if instance is None:
            instance = super().__new__(cls)
            SingletonPlugin._instances[cls] = instance
        return instance


def implements(interface: type[Interface], inherit: bool = False) -> None:
    """Declare, in a plugin class body, that the class implements ``interface``."""
    if not (isinstance(interface, type) and issubclass(interface, Interface)):
        raise PluginException(f"implements() takes an Interface subclass, not {interface!r}")
    # The same frame trick CKAN uses: record the declaration in the class body
    # being executed, for the metaclass to pick up.
    class_locals = sys._getframe(1).f_locals
    class_locals.setdefault("_ckansig_declared", []).append((interface, inherit))


from ckansig.plugins import toolkit  # noqa: E402  (toolkit needs Interface defined)
from ckansig.plugins.interfaces import ISignal  # noqa: E402
