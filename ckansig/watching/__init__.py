"""Watching: record the signals a real program or test suite sends.

- :mod:`~ckansig.watching.records`: the record of a send
  (:class:`SendRecord`) and the linking of records into trees, which every
  surface shows;
- :mod:`~ckansig.watching.recorder`: :func:`record`, which wraps blinker's
  ``send`` only while a recorder is active (recorders nest);
- :mod:`~ckansig.watching.jsonl`: a send's one JSON shape (the published
  ``send.schema.json``);
- :mod:`~ckansig.watching.runner`: ``ckansig trace``'s parent process;
- :mod:`~ckansig.watching.child`: the traced program's process.

The pytest plugin (:mod:`ckansig.pytest_plugin`) records through the same recorder.
"""

from __future__ import annotations

from ckansig.watching.recorder import Outcome, OutcomeStatus, SendRecord, Sink, record

__all__ = ["Outcome", "OutcomeStatus", "SendRecord", "Sink", "record"]
