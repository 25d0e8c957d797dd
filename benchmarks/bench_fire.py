"""Tracing cost of ``ckansig fire`` (issue 3 targets).

In one process, on 1,000 and 10,000 no-op receivers:
- traced fire, mutation check off  <= 1.0x plain ``Signal.send``
- traced fire, mutation check on   <= 2.5x plain ``Signal.send`` (small kwargs)
- traced fire with the send tree   <= 1.1x the same fire without it (issue 14)

End to end, on 10,000 receivers:
- ``ckansig fire --format json``   <= 1.6x (issue 21; 1.8x before) a plain
  script that imports the same plugin module, connects the same receivers,
  calls ``send`` and prints ``[name, repr(result)]`` pairs as JSON.

    python benchmarks/bench_fire.py [--runs 11]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import compare, report


def write_plugin(folder: Path, count: int, name: str) -> None:
    """A plugin module with ``count`` module-level no-op receivers."""
    lines = ["import ckansig.plugins as p", "",
             f"event = p.toolkit.signals.ckanext.signal({name!r})", ""]
    for i in range(count):
        lines.append(f"def r{i}(sender, **kwargs):\n    return {i}\n")
    lines.append("RECEIVERS = [" + ", ".join(f"r{i}" for i in range(count)) + "]")
    lines.append(textwrap.dedent("""
        class BenchPlugin(p.SingletonPlugin):
            p.implements(p.ISignal)

            def get_signal_subscriptions(self):
                return {event: RECEIVERS}
    """))
    (folder / f"{name}.py").write_text("\n".join(lines))


def in_process(count: int, rounds: int) -> bool:
    from ckansig.config import Config, PluginSpec
    from ckansig.firing import fire
    from ckansig.loading import load

    folder = Path(tempfile.mkdtemp())
    name = f"bench_inproc_{count}"
    write_plugin(folder, count, name)
    registry = load(Config(paths=(str(folder),),
                           plugins=(PluginSpec.parse(f"{name}:BenchPlugin"),)))
    info = registry.find(name)
    assert len(info.subscriptions) == count, registry.errors
    kwargs = {"user": {"name": "bob", "id": 7}, "n": 3}

    def plain() -> object:
        return info.signal.send("bob", **kwargs)

    def traced_off() -> object:
        return fire(info, "bob", kwargs, registry=registry, check_mutation=False)

    def traced_on() -> object:
        return fire(info, "bob", kwargs, registry=registry, check_mutation=True)

    def without_tree() -> object:
        return fire(info, "bob", kwargs, registry=registry, check_mutation=True, tree=False)

    timings: dict[str, list[float]] = {"plain": [], "off": [], "on": [], "no tree": []}
    runs = (("plain", plain), ("off", traced_off), ("on", traced_on),
            ("no tree", without_tree))
    for _, func in runs:
        func()
    for _ in range(rounds):  # alternate, so drift hits all alike
        for key, func in runs:
            start = time.perf_counter()
            func()
            timings[key].append(time.perf_counter() - start)
    base = statistics.median(timings["plain"])
    ok = report(f"fire, {count} receivers, mutation check off (vs Signal.send)", base,
                statistics.median(timings["off"]), 1.0)
    ok &= report(f"fire, {count} receivers, mutation check on  (vs Signal.send)", base,
                 statistics.median(timings["on"]), 2.5)
    ok &= report(f"fire, {count} receivers, with the send tree (vs without)",
                 statistics.median(timings["no tree"]), statistics.median(timings["on"]), 1.1)
    shutil.rmtree(folder)
    return ok


def end_to_end(count: int, runs: int) -> bool:
    folder = Path(tempfile.mkdtemp())
    name = "bench_e2e"
    write_plugin(folder, count, name)
    (folder / "plugins.toml").write_text(
        f'[ckansig]\npaths = ["."]\nplugins = ["{name}:BenchPlugin"]\n')
    (folder / "plain.py").write_text(textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(folder)!r})
        import {name} as module
        for receiver in module.RECEIVERS:
            module.event.connect(receiver)
        results = module.event.send("bob", n=3)
        print(json.dumps([[r.__qualname__, repr(v)] for r, v in results]))
    """))
    script = shutil.which("ckansig", path=str(Path(sys.executable).parent)) or "ckansig"
    base, cand = compare(
        [sys.executable, str(folder / "plain.py")],
        [script, "fire", name, "--sender", "bob", "--kw", "n=3", "--format", "json"],
        runs=runs, cwd=str(folder))
    shutil.rmtree(folder)
    return report(f"ckansig fire --format json, {count} receivers (vs plain script)",
                  base, cand, 1.6)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    ok = in_process(1_000, 200)
    ok &= in_process(10_000, 40)
    ok &= end_to_end(10_000, args.runs)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
