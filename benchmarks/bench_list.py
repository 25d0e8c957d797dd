"""``ckansig list --format json`` on the bundled example against bare imports.

Target (issue 2): at most 1.2x the wall time of
``python -c "import click, blinker, tomllib"``, medians of alternating runs.

    python benchmarks/bench_list.py [--runs 21]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import compare, report

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=61)
    args = parser.parse_args()
    script = shutil.which("ckansig", path=str(Path(sys.executable).parent)) or "ckansig"
    toml = "tomllib" if sys.version_info >= (3, 11) else "tomli"
    base, cand = compare(
        [sys.executable, "-c", f"import click, blinker, {toml}"],
        [script, "list", "--format", "json"],
        runs=args.runs, cwd=str(ROOT),
    )
    ok = report("ckansig list --format json (bundled example)", base, cand, 1.2)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
