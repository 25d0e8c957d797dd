"""Cost of recording sends (issue 6), in one process, on a signal with 10
receivers: recording on (the ``signal_log`` fixture's in-memory recorder)
<= 3x an unrecorded send; recording off again = 1.0x.

    python benchmarks/bench_trace.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from blinker import Signal

sys.path.insert(0, str(Path(__file__).parent))
from _timing import report

from ckansig.watching.recorder import record

SENDS = 5_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    signal = Signal()
    receivers = []
    for i in range(10):
        def receiver(sender: object, _i: int = i, **kwargs: object) -> int:
            return _i
        receivers.append(receiver)
        signal.connect(receiver)

    def sends() -> float:
        start = time.perf_counter()
        for _ in range(SENDS):
            signal.send("bob", user="bob")
        return (time.perf_counter() - start) / SENDS

    timings: dict[str, list[float]] = {"plain": [], "on": [], "off": []}
    sends()
    for _ in range(args.rounds):  # alternate, so drift hits all three alike
        timings["plain"].append(sends())
        records: list[object] = []
        with record(records.append):
            timings["on"].append(sends())
        assert len(records) == SENDS
        timings["off"].append(sends())
    plain = statistics.median(timings["plain"])
    ok = report("send to 10 receivers, recording on (vs unrecorded)", plain,
                statistics.median(timings["on"]), 3.0)
    ok &= report("send to 10 receivers, recording off again (vs unrecorded)", plain,
                 statistics.median(timings["off"]), 1.05)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
