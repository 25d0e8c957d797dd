"""``ckansig doctor`` against ``ckansig list`` on a generated config (issue 4).

1,000 plugin modules x 10 subscriptions (10,000 receivers):
- ``ckansig doctor --format json`` <= 2x ``ckansig list --format json``, with
  the send-site scan cached (issue 13); the first run, with an empty cache,
  is measured and reported too (no target);
- both grow linearly: 10x the plugins (100 -> 1,000) <= 11x the time;
- with ``--large``, doctor on 1,000 -> 5,000 plugins <= 5.2x the time (issue
  13). The generated signal names (``bench_12_5``) are each one edit away
  from dozens of others, the hard case for the did-you-mean index.

    python benchmarks/bench_doctor.py [--runs 5] [--large]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import compare, report

SIGNALS = ["user_created", "failed_login", "action_succeeded", "resource_download",
           "register_blueprint"]


def generate(folder: Path, plugins: int, per_plugin: int = 10) -> Path:
    """``plugins`` modules, each a plugin with ``per_plugin`` clean receivers, one of
    which uses a subscript, so that doctor parses every module's source."""
    package = folder / "bench_doctor_plugins"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for p in range(plugins):
        lines = ["import ckansig.plugins as p", ""]
        for r in range(per_plugin):
            if r == 0:  # one receiver a module reads a subscript: its source is parsed
                lines.append(f"def receiver_{r}(sender, **kwargs):\n"
                             "    data = kwargs.get('data') or {}\n"
                             "    return data['id'] if 'id' in data else None\n")
            else:
                lines.append(f"def receiver_{r}(sender, **kwargs):\n"
                             f"    return kwargs.get('user')\n")
        entries = ", ".join(
            f"p.toolkit.signals.{SIGNALS[r % len(SIGNALS)]}: [receiver_{r}]"
            if r < len(SIGNALS) else
            f"p.toolkit.signals.ckanext.signal('bench_{p}_{r}'): [receiver_{r}]"
            for r in range(per_plugin))
        lines.append("class Plugin(p.SingletonPlugin):\n    p.implements(p.ISignal)\n\n"
                     "    def get_signal_subscriptions(self):\n"
                     f"        return {{{entries}}}\n")
        (package / f"plugin_{p}.py").write_text("\n".join(lines))
    names = ",\n".join(f'  "bench_doctor_plugins.plugin_{p}:Plugin"' for p in range(plugins))
    config = folder / "plugins.toml"
    config.write_text(f'[ckansig]\npaths = ["."]\nplugins = [\n{names}\n]\n')
    return config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--large", action="store_true",
                        help="also time doctor on 5,000 plugins against 1,000")
    args = parser.parse_args()
    script = shutil.which("ckansig", path=str(Path(sys.executable).parent)) or "ckansig"
    timings: dict[int, tuple[float, float]] = {}
    ok = True
    for plugins in (100, 1_000):
        folder = Path(tempfile.mkdtemp())
        config = generate(folder, plugins)
        base, cand = compare([script, "list", "-c", str(config), "--format", "json"],
                             [script, "doctor", "-c", str(config), "--format", "json"],
                             runs=args.runs, cwd=str(folder))
        timings[plugins] = (base, cand)
        ok &= report(f"doctor vs list, {plugins} plugins x 10 subscriptions", base, cand, 2.0)
        if plugins == 1_000:
            # every doctor run on an empty send-site cache: it reads and parses every file
            cache = folder / "cold-cache"
            cold = ["sh", "-c", f'rm -rf "{cache}"; CKANSIG_CACHE_DIR="{cache}" exec "$0" "$@"',
                    script, "doctor", "-c", str(config), "--format", "json"]
            base, cand = compare([script, "list", "-c", str(config), "--format", "json"], cold,
                                 runs=args.runs, cwd=str(folder))
            report("doctor with an empty send-site cache vs list (reported, no target)",
                   base, cand, float("inf"))
        shutil.rmtree(folder)
    (list_small, doctor_small), (list_big, doctor_big) = timings[100], timings[1_000]
    ok &= report("list growth, 100 -> 1,000 plugins", list_small, list_big, 11.0)
    ok &= report("doctor growth, 100 -> 1,000 plugins", doctor_small, doctor_big, 11.0)
    if args.large:
        folders = [Path(tempfile.mkdtemp()) for _ in range(2)]
        small, large = (generate(folder, count) for folder, count in zip(
            folders, (1_000, 5_000), strict=True))
        base, cand = compare([script, "doctor", "-c", str(small), "--format", "json"],
                             [script, "doctor", "-c", str(large), "--format", "json"],
                             runs=max(3, args.runs // 2), cwd=str(folders[0]))
        ok &= report("doctor growth, 1,000 -> 5,000 plugins", base, cand, 5.2)
        for folder in folders:
            shutil.rmtree(folder)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
