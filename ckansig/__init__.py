"""ckansig: see, fire and check CKAN-style blinker signals.

The library under the ``ckansig`` command::

    from ckansig import find_config, load_config, load

    registry = load(load_config(find_config()))
    for info in registry.select(subscribed=True):
        print(info.namespace, info.name, [s.receiver.name for s in info.subscriptions])

Names are imported from their modules on first use, so that plugin code that
only needs ``ckansig.signals`` or ``ckansig.plugins`` does not load the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ckansig._lazy import exports

__version__ = "0.1.0"

_EXPORTS = {
    "CORE_SIGNALS": "catalog",
    "CoreSignal": "catalog",
    "Config": "config",
    "DoctorSettings": "config",
    "PluginSpec": "config",
    "find_config": "config",
    "load_config": "config",
    "AmbiguousSignal": "errors",
    "CkansigError": "errors",
    "ConfigError": "errors",
    "SignalNotFound": "errors",
    "load": "loader",
    "LoadError": "registry",
    "Registry": "registry",
    "Sender": "registry",
    "SignalInfo": "registry",
    "Subscription": "registry",
    "ReceiverTrace": "tracing",
    "Trace": "tracing",
    "fire": "tracing",
}

__all__ = [
    "CORE_SIGNALS",
    "AmbiguousSignal",
    "CkansigError",
    "Config",
    "ConfigError",
    "CoreSignal",
    "DoctorSettings",
    "LoadError",
    "PluginSpec",
    "ReceiverTrace",
    "Registry",
    "Sender",
    "SignalInfo",
    "SignalNotFound",
    "Subscription",
    "Trace",
    "__version__",
    "find_config",
    "fire",
    "load",
    "load_config",
]

if TYPE_CHECKING:
    from ckansig.catalog import CORE_SIGNALS, CoreSignal
    from ckansig.config import Config, DoctorSettings, PluginSpec, find_config, load_config
    from ckansig.errors import AmbiguousSignal, CkansigError, ConfigError, SignalNotFound
    from ckansig.loader import load
    from ckansig.registry import LoadError, Registry, Sender, SignalInfo, Subscription
    from ckansig.tracing import ReceiverTrace, Trace, fire


__getattr__ = exports('ckansig', _EXPORTS, globals())
