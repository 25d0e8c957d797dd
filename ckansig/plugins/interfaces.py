"""The CKAN interfaces ckansig knows about."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from blinker import Signal

from ckansig.plugins import Interface

__all__ = ["ISignal", "SignalMapping"]

#: What ``get_signal_subscriptions`` returns: signal → receivers, each either a
#: callable or a dict of ``Signal.connect`` options (``receiver``, ``sender``, ``weak``).
SignalMapping = Mapping[Signal, Iterable[Callable[..., Any] | dict[str, Any]]]


class ISignal(Interface):
    """Subscribe to signals (CKAN's ``ckan.plugins.interfaces.ISignal``)."""

    def get_signal_subscriptions(self) -> SignalMapping:
        """Return a mapping of signals to their receivers."""
        return {}
