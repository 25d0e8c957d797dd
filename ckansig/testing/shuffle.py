"""``pytest --signals-shuffle[=SEED]``: every send calls its receivers in a
random order, drawn from the seed, to find receivers that depend on running
after another (blinker 1.8+ keeps receivers in sets: their order is an
accident of memory layout, and CKAN promises none).

The order of a test's sends depends only on the seed and the test's node id
(:meth:`Shuffle.start`), so ``--signals-shuffle=SEED`` replays a failure
whatever ran before it, and under pytest-xdist on any worker.
"""

from __future__ import annotations

import os
import random
from collections.abc import Generator, Iterator
from typing import Any

import pytest
from blinker.base import Signal

from ckansig.isolation import OWN_PATCH

__all__ = ["Shuffle", "ShufflePlugin", "parse_seed"]


def parse_seed(value: str) -> int:
    """``--signals-shuffle``'s value: a seed (0 or more), or "random" for a new one.
    Raises ValueError for anything else."""
    if value == "random":
        return int.from_bytes(os.urandom(4), "big") % 1_000_000
    seed = int(value)  # ValueError for text that is no integer
    if seed < 0:
        raise ValueError(f"{value!r} is negative")
    return seed


def _name(receiver: Any) -> str:
    from ckansig.loading.describing import describe

    return describe(receiver).name


class Shuffle:
    """Shuffles the receivers every ``Signal.receivers_for`` gives, once installed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.start("(outside tests)")
        self._original: Any = None

    def start(self, nodeid: str) -> None:
        """The orders from now on are those of test ``nodeid`` under the seed."""
        self.random = random.Random(f"{self.seed}:{nodeid}")

    def install(self) -> None:
        original = self._original = Signal.__dict__["receivers_for"]
        shuffle = self

        def receivers_for(signal: Signal, sender: Any) -> Iterator[Any]:
            found = list(original(signal, sender))
            if len(found) > 1:
                # from a canonical order (by name): blinker's own differs from one
                # process to the next, and the seed must give the same order again
                found.sort(key=_name)
                shuffle.random.shuffle(found)
            return iter(found)

        setattr(receivers_for, OWN_PATCH, True)
        Signal.receivers_for = receivers_for  # type: ignore[method-assign, assignment]

    def uninstall(self) -> None:
        if self._original is not None:
            Signal.receivers_for = self._original  # type: ignore[method-assign]
            self._original = None

    def replay(self) -> str:
        """The option that replays this session's orders."""
        return f"--signals-shuffle={self.seed}"


class ShufflePlugin:
    """The pytest side: installed for the session, each test's orders set as it
    starts, the seed in the header and in every failure."""

    def __init__(self, seed: int) -> None:
        self.shuffle = Shuffle(seed)
        self.shuffle.install()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.shuffle.uninstall()

    def pytest_report_header(self, config: pytest.Config) -> str:
        return (f"ckansig: receivers run in a shuffled order, seed {self.shuffle.seed} "
                f"({self.shuffle.replay()} replays it)")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.shuffle.start(item.nodeid)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
        outcome = yield
        report = outcome.get_result()
        if report.failed:
            report.sections.append((
                "ckansig signals shuffle",
                f"receivers ran in the orders of seed {self.shuffle.seed}: "
                f"{self.shuffle.replay()} replays them"))
