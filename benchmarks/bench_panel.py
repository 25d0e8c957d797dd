"""What the Signals panel adds to a page with 50 sends (issue 25): the time
to render its HTML (timeline, trees, wiring table, ten earlier requests) from
a request of 50 sends, each with two receivers and keyword arguments, as the
recorder's snapshot gives them. Target: at most 5 ms (the median of
``--runs``), against the time to build the same snapshot's JSON text, the
baseline measured in the same run.

    python benchmarks/bench_panel.py [--runs 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from ckansig.output.panel_view import panel_html


def request(sends: int, start: float = 1000.0) -> dict[str, Any]:
    def send(index: int) -> dict[str, Any]:
        at = start + index * 0.001
        return {
            "id": index, "signal": "action_succeed", "namespace": "ckan",
            "sender": f"action_{index}", "time": at, "duration_ms": 0.4,
            "kwargs": {"context": {"user": "admin", "auth_user_obj": "<User admin>"},
                       "data_dict": {"id": f"{index:08d}", "name": f"dataset-{index}"},
                       "result": {"id": f"{index:08d}", "title": "x" * 40}},
            "receivers": [{"receiver": f"ckanext.x.plugin.receiver_{r}", "status": "ok",
                           "duration_ms": 0.15, "result": "'done'", "error": None,
                           "db_changes": {"activity": {"inserted": 1, "updated": 0,
                                                       "deleted": 0}},
                           "children": []} for r in range(2)],
            "filtered": [f"ckanext.x.plugin.other_{f}" for f in range(5)], "dead": 0,
            "error": None, "unplaced": []}

    return {"scope": "POST /dataset/new", "method": "POST", "path": "/dataset/new",
            "status": 302, "time": start, "duration_ms": 80.0,
            "sends": [send(i) for i in range(sends)], "other_sends": 12, "dropped": 0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    current = request(50)
    earlier = [request(10, 900.0 + i) for i in range(10)]
    wiring = [("ckan:action_succeed", [(f"ckanext.x.plugin.receiver_{r}", "any sender")
                                       for r in range(7)])]
    panel, baseline = [], []
    for _ in range(args.runs):
        began = time.perf_counter()
        html = panel_html(current, earlier, wiring, "/_ckansig/sends")
        panel.append(time.perf_counter() - began)
        began = time.perf_counter()
        json.dumps([current, *earlier])
        baseline.append(time.perf_counter() - began)
    ms = statistics.median(panel) * 1000
    verdict = "ok" if ms <= 5.0 else "OVER TARGET"
    print(f"the panel of a page with 50 sends ({len(html):,} characters of HTML): median "
          f"{ms:.2f} ms (target <= 5 ms) {verdict}; the same JSON, dumped: "
          f"{statistics.median(baseline) * 1000:.2f} ms, ratio "
          f"{statistics.median(panel) / statistics.median(baseline):.1f}")
    return 0 if ms <= 5.0 else 1


if __name__ == "__main__":
    sys.exit(main())
