"""``--orders`` (issue 27): a call whose send has 3 receivers, run in its 6
orders (and once more in the first, to see what varies anyway), against a
single ``ckansig call`` of the same action, both whole processes.

The app and the plugins are loaded once for all the runs, so the target is
``--orders`` <= 8x a single call. The config is the ckan.ini given (its
database must exist, with ``--user`` in it) with ``ckan.plugins = activity
fx_orders``: tests/fixtures/fx_ckan_orders.py, whose two receivers and
activity's receive ``action_succeed`` for ``organization_create``. Run it
with the Python of a CKAN virtualenv that has ckansig installed:

    /path/to/ckan-venv/bin/python benchmarks/bench_orders.py --ckan-ini ckan.ini --user admin

(``--orders`` exits 1 here: the planted receivers depend on their order.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import ckan_missing, compare, report

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckan-ini", required=True, type=Path)
    parser.add_argument("--user", required=True)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    if ckan_missing("bench_orders"):
        return 2
    with tempfile.TemporaryDirectory() as folder:
        site = Path(folder) / "site"
        (site / "fx_orders-1.0.dist-info").mkdir(parents=True)
        (site / "fx_orders-1.0.dist-info" / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: fx_orders\nVersion: 1.0\n")
        (site / "fx_orders-1.0.dist-info" / "entry_points.txt").write_text(
            "[ckan.plugins]\nfx_orders = fx_ckan_orders:OrdersPlugin\n")
        shutil.copy(ROOT / "tests" / "fixtures" / "fx_ckan_orders.py", site)
        ini = Path(folder) / "ckan.ini"
        ini.write_text(f"[app:main]\nuse = config:{args.ckan_ini.resolve()}\n"
                       "ckan.plugins = activity fx_orders\n")
        os.environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(site), os.environ.get("PYTHONPATH")]))
        call = [sys.executable, "-m", "ckansig", "--ckan-ini", str(ini), "call",
                "organization_create", "--kw", "name=bench-orders", "--user", args.user]
        print(f"--orders on a send of 3 receivers (6 orders) vs one call, {args.runs} runs each")
        base, cand = compare(call, [*call, "--orders"], runs=args.runs, cwd=folder)
        ok = report("call --orders (6 orders) / call", base, cand, 8.0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
