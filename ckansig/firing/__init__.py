"""Firing: send one signal and trace every receiver (``ckansig fire``).

- :mod:`~ckansig.firing.run`: :func:`fire` and its hot loop;
- :mod:`~ckansig.firing.trace`: the records of a fire (:class:`Trace`, ...);
- :mod:`~ckansig.firing.capture`: what each receiver writes to stdout and stderr, and logs;
- :mod:`~ckansig.firing.arguments`: the sender and keyword arguments, from user input;
- :mod:`~ckansig.firing.snapshots`: copies of the arguments, to spot receivers that mutate them.
"""

from __future__ import annotations

from ckansig.firing.run import FireInterrupted, fire
from ckansig.firing.trace import Columns, ErrorInfo, ReceiverTimeout, ReceiverTrace, Status, Trace

__all__ = ["Columns", "ErrorInfo", "FireInterrupted", "ReceiverTimeout", "ReceiverTrace", "Status",
           "Trace", "fire"]
