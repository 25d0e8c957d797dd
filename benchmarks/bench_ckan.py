"""``ckansig list`` on a real CKAN install (issue 5). Run it with the Python of
a CKAN virtualenv (``pip install "ckan[requirements]==2.12.0"`` plus ckansig):

    /path/to/ckan-venv/bin/python benchmarks/bench_ckan.py [--runs 11]

Target: ``ckansig list --format json`` with a handful of real plugins costs at
most 1.15x a plain script that imports the same entry points, instantiates
the plugins and calls ``get_signal_subscriptions()``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import ckan_missing, compare, report

PLUGINS = ["activity", "example_isignal", "datastore", "datapusher", "text_view",
           "image_view"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    if ckan_missing("bench_ckan"):
        return 2
    folder = Path(tempfile.mkdtemp())
    (folder / "plugins.toml").write_text(
        "[ckansig]\nplugins = [" + ", ".join(f'"{p}"' for p in PLUGINS) + "]\n")
    (folder / "plain.py").write_text(textwrap.dedent(f"""
        from importlib.metadata import entry_points

        for name in {PLUGINS!r}:
            for group in ("ckan.plugins", "ckan.test_plugins"):
                found = entry_points(group=group, name=name)
                if found:
                    plugin = found[name].load()(name=name)
                    subscriptions = getattr(plugin, "get_signal_subscriptions", None)
                    if subscriptions is not None:
                        subscriptions()
                    break
    """))
    script = shutil.which("ckansig", path=str(Path(sys.executable).parent)) or "ckansig"
    base, cand = compare([sys.executable, str(folder / "plain.py")],
                         [script, "list", "--format", "json"], runs=args.runs,
                         cwd=str(folder))
    shutil.rmtree(folder)
    ok = report(f"ckansig list --format json, real CKAN, {len(PLUGINS)} plugins "
                "(vs plain script)", base, cand, 1.15)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
