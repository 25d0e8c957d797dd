"""Redaction is linear in the size of ``--kwargs`` (issue 12, §11).

``ckansig fire user_created --kwargs @big.json --format json`` on a kwargs
document of about 40 MB (110,000 user records, each with its own password:
110,000 secrets to hide wherever they appear) <= 3x a plain script that loads
the same JSON, deep-copies it and dumps it. A document a tenth the size is
timed too: ckansig's time grows about 10x from one to the other (linear; it
was quadratic), and at that size its start-up (~0.15 s, CKAN-free) still
weighs in the ratio, which is printed without a target.

    python benchmarks/bench_redaction.py [--runs 3] [--users 110000]
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import compare, report

ROOT = Path(__file__).parent.parent

BASELINE = """
import copy, json, sys
with open(sys.argv[1], encoding="utf-8") as stream:
    document = json.load(stream)
copy.deepcopy(document)
sys.stdout.write(json.dumps(document))
"""


def write_kwargs(path: Path, users: int) -> int:
    """A kwargs document of ``users`` records, each with its own password, one
    of them echoed in a note (to be hidden there too). Returns its size."""
    rng = random.Random(12)
    alphabet = string.ascii_letters + string.digits

    def word(n: int) -> str:
        return "".join(rng.choices(alphabet, k=n))

    records = [{"name": word(8), "email": f"{word(10)}@example.org", "password": word(12),
                "bio": word(200), "tags": [word(5) for _ in range(5)]} for _ in range(users)]
    document = {"users": records, "note": f"the first password is {records[0]['password']}"}
    text = json.dumps(document)
    path.write_text(text, encoding="utf-8")
    return len(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--users", type=int, default=110_000)
    args = parser.parse_args()
    ok = True
    times: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        baseline = Path(folder) / "baseline.py"
        baseline.write_text(BASELINE)
        for users in (args.users // 10, args.users):
            kwargs = Path(folder) / f"kwargs-{users}.json"
            size = write_kwargs(kwargs, users)
            check = [sys.executable, "-m", "ckansig", "fire", "user_created", "--kwargs",
                     f"@{kwargs}", "--format", "json"]
            from subprocess import run

            done = run(check, cwd=ROOT, capture_output=True, check=False)
            document = json.loads(done.stdout)
            assert document["kwargs"]["users"][0]["password"] == "***", "not redacted"
            assert "***" in document["kwargs"]["note"], "the echoed password is shown"
            print(f"kwargs of {size / 1e6:.1f} MB ({users} users, {users} secrets):")
            base, cand = compare([sys.executable, str(baseline), str(kwargs)], check,
                                 runs=args.runs, cwd=str(ROOT))
            times.append(cand)
            if users == args.users:
                ok &= report(f"  fire --kwargs @{size / 1e6:.0f}MB", base, cand, 3.0)
            else:
                print(f"  fire --kwargs @{size / 1e6:.0f}MB: baseline {base * 1000:.4g} ms, "
                      f"ckansig {cand * 1000:.4g} ms, ratio {cand / base:.2f} (no target)")
    growth = times[1] / times[0]
    print(f"growth of ckansig's time for 10x the kwargs: {growth:.1f}x (target <= 12; "
          "quadratic would be ~100x)")
    return 0 if ok and growth <= 12 else 1


if __name__ == "__main__":
    raise SystemExit(main())
