"""Shared timing helpers: medians of alternating whole-process runs.

These machines are shared and noisy, so every figure is a ratio against a
baseline measured in the same run, alternating the two commands.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence


def ckan_missing(benchmark: str) -> bool:
    """True (after saying so) when this Python has no CKAN to benchmark against."""
    import importlib.util

    if importlib.util.find_spec("ckan") is not None:
        return False
    print(f"{benchmark}: CKAN is not installed in this Python; run it with a CKAN "
          "virtualenv's python", file=sys.stderr)
    return True


def timing_env() -> dict[str, str]:
    """The environment for timed runs: bytecode is cached, as a user has it."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "ckansig-bench-pyc")
    # the send-site cache of the benchmarks, not the user's (warm after the untimed run)
    env.setdefault("CKANSIG_CACHE_DIR", os.path.join(tempfile.gettempdir(), "ckansig-bench-cache"))
    return env


def run_once(command: Sequence[str], cwd: str | None, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    # exit 1 is a finding (a plugin failed, doctor found problems); a traceback
    # at the end of stderr is a crash (a program that logs one and goes on exits 0)
    crashed = done.returncode == 1 and b"Traceback (most recent call last)" in done.stderr[-5000:]
    if done.returncode not in (0, 1) or crashed:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()[-500:]}")
    return elapsed


def compare(
    baseline: Sequence[str], candidate: Sequence[str], *, runs: int = 41, cwd: str | None = None
) -> tuple[float, float]:
    """Median wall times (seconds) of ``baseline`` and ``candidate``, alternated.

    Also prints two steadier ratios: the median of the ratios of each pair of
    back-to-back runs (the machine's speed drifts, but little within a pair),
    and the ratio of the fastest runs.
    """
    env = timing_env()
    run_once(baseline, cwd, env)  # one untimed run each: warm caches, write bytecode
    run_once(candidate, cwd, env)
    base, cand = [], []
    for _ in range(runs):
        base.append(run_once(baseline, cwd, env))
        cand.append(run_once(candidate, cwd, env))
    paired = statistics.median(c / b for b, c in zip(base, cand, strict=True))
    print(f"  (paired runs: median ratio {paired:.2f}; fastest runs: baseline "
          f"{min(base) * 1000:.4g} ms, ckansig {min(cand) * 1000:.4g} ms, "
          f"ratio {min(cand) / min(base):.2f})")
    return statistics.median(base), statistics.median(cand)


def report(label: str, base: float, cand: float, target: float) -> bool:
    ratio = cand / base
    verdict = "ok" if ratio <= target else "OVER TARGET"
    print(f"{label}: baseline {base * 1000:.4g} ms, ckansig {cand * 1000:.4g} ms, "
          f"ratio {ratio:.2f} (target <= {target}) {verdict}")
    return ratio <= target
