"""What an entry of a ``get_signal_subscriptions()`` list may be: a callable,
or a dict of ``Signal.connect`` options, checked before CKAN's way of
connecting it (``signal.connect(**options)``) would fail at start-up."""

from __future__ import annotations

from typing import Any

from blinker import ANY

from ckansig.loading.describing import describe
from ckansig.model import LoadErrorKind, brief

__all__ = ["CONNECT_OPTIONS", "check_options"]

#: The keyword arguments ``Signal.connect`` takes.
CONNECT_OPTIONS = frozenset({"receiver", "sender", "weak"})


def check_options(
    options: dict[Any, Any], signal_name: str
) -> tuple[LoadErrorKind, str, str | None, tuple[str | None, int | None]] | None:
    """What is wrong with a dict subscription entry, if anything: the kind,
    the message, the receiver's name and its file and line."""
    if "receiver" not in options:
        keys = ", ".join(map(str, options)) or "none"
        return ("entry_malformed", f"subscription to {signal_name!r} is a dict without "
                f"'receiver' (keys: {keys})", None, (None, None))
    receiver = options["receiver"]
    info = describe(receiver) if callable(receiver) else None
    label = info.name if info else brief(receiver)
    site = (info.file, info.line) if info else (None, None)
    unknown = sorted(str(k) for k in options if k not in CONNECT_OPTIONS)
    if unknown:
        return ("entry_malformed", f"subscription of {label} to {signal_name!r} has option(s) "
                f"{', '.join(unknown)} that Signal.connect() does not take "
                "(CKAN passes them on and fails at load)", label, site)
    sender = options.get("sender", ANY)
    if isinstance(sender, int) and sender == 0:
        return ("entry_malformed", f"subscription of {label} to {signal_name!r} uses sender "
                f"{sender!r}, which blinker cannot tell from ANY (it asserts)", label, site)
    return None
