"""The console script's one trick with the cyclic garbage collector.

Start-up imports click, ckansig and every plugin: thousands of long-lived
objects whose allocation would trigger collections that find nothing to free,
and a final collection at exit would walk them all again. So the console
script pauses the collector at start (:meth:`GcPolicy.pause`), freezes
ckansig's own start-up objects before plugins load, and freezes what loading
made once it is done, before any receiver runs (:meth:`GcPolicy.loading`).

It never changes a result: :func:`ckansig.loading.load` collects the garbage
plugin code made before it reports which receivers are alive, and that
collection walks exactly the objects loading created (everything older is
frozen). ``tests/test_gc_policy.py`` runs the console script with and without
this policy and compares the output.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ckansig.isolation import GC

__all__ = ["POLICY", "GcPolicy"]


class GcPolicy:
    """Owns the cyclic GC for one run of the console script."""

    def __init__(self) -> None:
        self.paused = False

    def pause(self) -> None:
        """Switch the collector off for start-up (the console script's first step)."""
        GC.disable()
        self.paused = True

    @contextmanager
    def loading(self) -> Iterator[None]:
        """Around loading the plugins: freeze what start-up made (ckansig's and
        click's own objects, no plugin code among them), and afterwards what
        loading made, then switch the collector back on."""
        if not self.paused:
            yield
            return
        GC.freeze()
        try:
            yield
        finally:
            GC.freeze()  # lives as long as the process: no later collection walks it
            GC.enable()
            self.paused = False

    @contextmanager
    def building_output(self, *, last: bool = False) -> Iterator[None]:
        """Pause the collector while ckansig's own code builds output (or the
        arguments of a fire and their redactor): tens of thousands of records,
        no cycles to free. With ``last`` (the command's final output, written
        just before it exits) what it made is frozen before the collector
        resumes: a collection would only walk it as the process ends (a tenth
        of a second after a fire with 40 MB of arguments). The collector is
        on again either way: the interpreter's shutdown needs it."""
        enabled = GC.isenabled()
        GC.disable()
        try:
            yield
        finally:
            if enabled:
                if last:
                    GC.freeze()
                GC.enable()


#: The policy of this process.
POLICY = GcPolicy()
