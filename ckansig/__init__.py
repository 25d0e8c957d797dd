"""ckansig: see, fire and check CKAN-style blinker signals.

The library under the ``ckansig`` command::

    from ckansig import find_config, load_config, load

    registry = load(load_config(find_config()))
    for info in registry.select(subscribed=True):
        print(info.namespace, info.name, [s.receiver.name for s in info.subscriptions])

Names are imported from their modules on first use, so that plugin code that
only needs ``ckansig.signals`` or ``ckansig.plugins`` does not load the rest.

(PYTEST_DONT_REWRITE: ``ckansig trace -- pytest`` imports ckansig before pytest
starts; pytest must not warn that it cannot rewrite it. ckansig has no asserts
to rewrite.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ckansig._lazy import exports

__version__ = "0.2.0"

#: name -> the module (below ``ckansig``) it is imported from on first use
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
    "UsageProblem": "errors",
    "load": "loading",
    "CallableInfo": "model",
    "LoadError": "model",
    "Registry": "model",
    "Sender": "model",
    "SignalInfo": "model",
    "Subscription": "model",
    "Columns": "firing",
    "ErrorInfo": "firing",
    "ReceiverTrace": "firing",
    "Trace": "firing",
    "fire": "firing",
    "CHECKS": "doctor",
    "Check": "doctor",
    "Problem": "doctor",
    "Report": "doctor",
    "diagnose": "doctor",
    "Outcome": "watching",
    "SendRecord": "watching",
    "record": "watching",
}

__all__ = [
    "CHECKS",
    "CORE_SIGNALS",
    "AmbiguousSignal",
    "CallableInfo",
    "Check",
    "CkansigError",
    "Columns",
    "Config",
    "ConfigError",
    "CoreSignal",
    "DoctorSettings",
    "ErrorInfo",
    "LoadError",
    "Outcome",
    "PluginSpec",
    "Problem",
    "ReceiverTrace",
    "Registry",
    "Report",
    "SendRecord",
    "Sender",
    "SignalInfo",
    "SignalNotFound",
    "Subscription",
    "Trace",
    "UsageProblem",
    "__version__",
    "diagnose",
    "find_config",
    "fire",
    "load",
    "load_config",
    "record",
]

if TYPE_CHECKING:
    from ckansig.catalog import CORE_SIGNALS, CoreSignal
    from ckansig.config import Config, DoctorSettings, PluginSpec, find_config, load_config
    from ckansig.doctor import CHECKS, Check, Problem, Report, diagnose
    from ckansig.errors import (
        AmbiguousSignal,
        CkansigError,
        ConfigError,
        SignalNotFound,
        UsageProblem,
    )
    from ckansig.firing import Columns, ErrorInfo, ReceiverTrace, Trace, fire
    from ckansig.loading import load
    from ckansig.model import CallableInfo, LoadError, Registry, Sender, SignalInfo, Subscription
    from ckansig.watching import Outcome, SendRecord, record


__getattr__ = exports("ckansig", _EXPORTS, globals())
