"""``pytest --signals-shuffle[=SEED]``: every send calls its receivers in a
random order, drawn from the seed, to find receivers that depend on running
after another (blinker 1.8+ keeps receivers in sets: their order is an
accident of memory layout, and CKAN promises none).

The order of a test's sends depends only on the seed and the test's node id
(:meth:`Shuffle.start`), so ``--signals-shuffle=SEED`` replays a failure
whatever ran before it, and under pytest-xdist on any worker.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Generator
from typing import Any

import pytest
from blinker.base import Signal

from ckansig.ordering import arrange_receivers

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


class Shuffle:
    """Shuffles the receivers every ``Signal.receivers_for`` gives, once installed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.start("(outside tests)")
        self._installed = contextlib.ExitStack()

    def start(self, nodeid: str) -> None:
        """The orders from now on are those of test ``nodeid`` under the seed."""
        self.random = random.Random(f"{self.seed}:{nodeid}")

    def _arrange(self, signal: Signal, receivers: list[Any]) -> list[Any]:
        # from the canonical order: blinker's own differs from one process to
        # the next, and the seed must give the same order again
        self.random.shuffle(receivers)
        return receivers

    def install(self) -> None:
        self._installed.enter_context(arrange_receivers(self._arrange))

    def uninstall(self) -> None:
        self._installed.close()

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
