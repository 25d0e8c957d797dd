"""``ckansig graph --format html`` on 1,000 plugins against ``ckansig list
--format json`` on the same config (issue 25): at most 3x, medians of
alternating whole-process runs. The config is generated: 1,000 plugins, each
receiving three of 40 signals, one of them for two particular senders. The
page is laid out as ``graph`` lays it out here (``--layout``: auto, which is
ckansig's own layout for a graph this big even where Graphviz is installed;
dot, Graphviz's, for the record: far over the target).

    python benchmarks/bench_graph.py [--runs 7] [--layout auto|dot|builtin]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import compare, report

PLUGINS, SIGNALS = 1000, 40


def generate(folder: Path) -> None:
    lines = ["import ckansig.plugins as p", "",
             f"SIGNALS = [p.toolkit.signals.ckanext.signal(f'bench_graph:s{{i}}') "
             f"for i in range({SIGNALS})]", ""]
    for index in range(PLUGINS):
        lines += [f"class Plugin{index:04d}(p.SingletonPlugin):",
                  "    p.implements(p.ISignal)",
                  "    def get_signal_subscriptions(self):",
                  f"        return {{SIGNALS[{index % SIGNALS}]: [self.first],",
                  f"                SIGNALS[{(index + 7) % SIGNALS}]: ["
                  f"{{'sender': 'package_create', 'receiver': self.second}},",
                  "                    {'sender': 'package_update', 'receiver': self.second}],",
                  f"                SIGNALS[{(index + 13) % SIGNALS}]: [self.third]}}",
                  "    def first(self, sender, **kwargs): return 1",
                  "    def second(self, sender, **kwargs): return 2",
                  "    def third(self, sender, **kwargs): return 3", ""]
    (folder / "bench_graph_plugins.py").write_text("\n".join(lines))
    names = ", ".join(f'"bench_graph_plugins:Plugin{i:04d}"' for i in range(PLUGINS))
    (folder / "plugins.toml").write_text(f'[ckansig]\npaths = ["."]\nplugins = [{names}]\n')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--layout", choices=["auto", "dot", "builtin"], default="auto")
    args = parser.parse_args()
    script = shutil.which("ckansig", path=str(Path(sys.executable).parent)) or "ckansig"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(folder)
        engine = args.layout if args.layout != "auto" else (
            "builtin: more than 500 boxes" if shutil.which("dot") else "builtin")
        print(f"{PLUGINS} plugins, {SIGNALS} signals, {PLUGINS * 3} receivers; "
              f"layout: {engine}")
        base, cand = compare([script, "list", "--format", "json"],
                             [script, "graph", "--format", "html", "--layout", args.layout,
                              "-o", str(folder / "graph.html")],
                             runs=args.runs, cwd=str(folder))
        ok = report(f"graph --format html / list --format json ({engine})", base, cand, 3.0)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
