"""``--signals-report`` keeps compact trees, not payloads (issue 21, §5).

One test sends 20,000 signals, each with a fresh 10 KB payload, to two
receivers, one of which makes a nested send. The peak memory (max RSS) of
``pytest --signals-report`` on it must be at most 1.2x that of ``pytest``
without it, measured in the same run, alternating.

    python benchmarks/bench_report_memory.py [--runs 3] [--sends 20000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import timing_env

TEST = """
from ckansig import signals

big = signals.ckanext.signal("bench_report_big")
nested = signals.ckanext.signal("bench_report_nested")


def first(sender, **kwargs):
    nested.send(sender, size=len(kwargs["payload"]))
    return len(kwargs["payload"])


def second(sender, **kwargs):
    return "ok"


def test_many_sends():
    big.connect(first)
    big.connect(second)
    try:
        for index in range({sends}):
            big.send("bench", payload="x" * 10240 + str(index), row={{"n": index}})
    finally:
        big.disconnect(first)
        big.disconnect(second)
    assert False  # a failing test: its trees are drawn
"""

MEASURE = """
import resource, sys, pytest
pytest.main(sys.argv[1:])
print("maxrss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def peak_kib(args: list[str], cwd: str) -> int:
    done = subprocess.run([sys.executable, "-c", MEASURE, *args], cwd=cwd, env=timing_env(),
                          capture_output=True, text=True)
    line = [x for x in done.stderr.splitlines() if x.startswith("maxrss ")]
    if not line:
        raise SystemExit(f"pytest did not run: {done.stdout[-1000:]} {done.stderr[-1000:]}")
    return int(line[-1].split()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sends", type=int, default=20000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "test_big.py").write_text(TEST.format(sends=options.sends))
        common = ["-q", "-p", "no:cacheprovider", "test_big.py"]
        base, report = [], []
        for _ in range(options.runs):
            base.append(peak_kib(common, folder))
            report.append(peak_kib([*common, "--signals-report"], folder))
    b, r = statistics.median(base), statistics.median(report)
    ratio = r / b
    verdict = "ok" if ratio <= 1.2 else "OVER TARGET"
    print(f"--signals-report peak memory on {options.sends} sends of 10 KB: without "
          f"{b / 1024:.1f} MiB, with {r / 1024:.1f} MiB, ratio {ratio:.2f} (target <= 1.2) "
          f"{verdict}")
    return 0 if ratio <= 1.2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
