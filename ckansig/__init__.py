"""ckansig: see, fire and check CKAN-style blinker signals.

The library under the ``ckansig`` command::

    from ckansig import find_config, load_config, load

    registry = load(load_config(find_config()))
    for info in registry.select(subscribed=True):
        print(info.namespace, info.name, [s.receiver.name for s in info.subscriptions])
"""

from __future__ import annotations

__version__ = "0.1.0"

from ckansig.catalog import CORE_SIGNALS, CoreSignal
from ckansig.config import Config, DoctorSettings, PluginSpec, find_config, load_config
from ckansig.errors import AmbiguousSignal, CkansigError, ConfigError, SignalNotFound
from ckansig.loader import load
from ckansig.registry import LoadError, Registry, Sender, SignalInfo, Subscription

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
    "Registry",
    "Sender",
    "SignalInfo",
    "SignalNotFound",
    "Subscription",
    "__version__",
    "find_config",
    "load",
    "load_config",
]
