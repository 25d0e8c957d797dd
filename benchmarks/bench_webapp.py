"""The ``ckansig`` CKAN plugin in a running app (issue 14): what recording every
request's sends costs a real CKAN dev server.

Four configurations of ``ckan run`` servers on one database, started from the
ckan.ini given, each as ``--processes`` servers (3 unless told; two servers of
the same code differ by up to 8% here, by memory layout, so one server a
configuration cannot judge a 3% target):
- debug on, without ckansig (the baseline) and with it (recording, the panel);
- debug off, without ckansig and with it (the plugin loaded, nothing recording).

The client sends ``GET /api/3/action/status_show`` to each server in turn,
``--requests`` rounds (2,000 unless told), so that the pairs share the
machine's drift; a configuration's time in a round is the mean over its
servers. It prints the median latencies and the median of the per-round
ratios. Run it with the Python of a CKAN virtualenv that has ckansig
installed, on a ckan.ini whose database exists (``ckan db init``):

    /path/to/ckan-venv/bin/python benchmarks/bench_webapp.py --ckan-ini ckan.ini

Targets: recording on <= 1.03x the same app without it (issue 21; 1.05x before); with no recorder
active (debug off) 1.00 (<= 1.02, the noise of this machine).
Flask-DebugToolbar must be installed (CKAN's debug mode imports it).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import ckan_missing

SERVERS = {  # name: (debug, ckansig in ckan.plugins)
    "debug": ("true", False),
    "debug+ckansig": ("true", True),
    "plain": ("false", False),
    "plain+ckansig": ("false", True),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def plugins_of(ini: Path) -> str:
    from ckan.cli import load_config

    return str(load_config(str(ini)).get("ckan.plugins") or "")


def start(folder: Path, base: Path, name: str, debug: str, ckansig: bool) -> tuple[str, object]:
    plugins = plugins_of(base).split()
    plugins = [p for p in plugins if p != "ckansig"] + (["ckansig"] if ckansig else [])
    port = free_port()
    ini = folder / f"{name}.ini"
    ini.write_text(base.read_text())  # a whole file: CKAN's logging sections included
    text = ini.read_text().splitlines()
    out = []
    for line in text:
        key = line.split("=", 1)[0].strip()
        if key == "use" and "config:" in line:  # a parent ini, relative to the base's folder
            parent = line.split("config:", 1)[1].strip()
            line = f"use = config:{(base.parent / parent).resolve()}"
        elif key == "debug":
            line = f"debug = {debug}"
        elif key == "ckan.plugins":
            line = f"ckan.plugins = {' '.join(plugins)}"
        out.append(line)
    ini.write_text("\n".join(out) + "\n")
    ckan = Path(sys.executable).parent / "ckan"
    log = (folder / f"{name}.log").open("w")
    process = subprocess.Popen([str(ckan), "-c", str(ini), "run", "-H", "127.0.0.1", "-p",
                                str(port), "--disable-reloader"], cwd=folder, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api/3/action/status_show"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return url, process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{name}: ckan run did not start; see {name}.log") from None
            time.sleep(0.3)


def latency(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
        if response.status != 200:
            raise SystemExit(f"{url}: HTTP {response.status}")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckan-ini", required=True, type=Path)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=3,
                        help="servers per configuration (default 3): two servers of the "
                        "same code differ by up to 8%% here, by memory layout")
    args = parser.parse_args()
    if ckan_missing("bench_webapp"):
        return 2
    base = args.ckan_ini.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.chdir(folder)
        servers = {name: [start(folder, base, f"{name}.{index}", *spec)
                          for index in range(args.processes)]
                   for name, spec in SERVERS.items()}
        try:
            for group in servers.values():  # warm up: templates, caches, first queries
                for url, _ in group:
                    for _ in range(50):
                        latency(url)
            # each round asks every server once; a configuration's time in a
            # round is the mean of its servers' (their layouts average out)
            times: dict[str, list[float]] = {name: [] for name in servers}
            for _ in range(args.requests):
                for name, group in servers.items():
                    times[name].append(statistics.fmean(latency(url) for url, _ in group))
        finally:
            for group in servers.values():
                for _, process in group:
                    process.terminate()  # type: ignore[attr-defined]
                    process.wait()  # type: ignore[attr-defined]
        recording = "".join(path.read_text() for path in folder.glob("debug+ckansig.*.log"))
    if "Traceback" in recording and "ckansig" in recording.split("Traceback", 1)[1][:3000]:
        print("the recording server logged a traceback from ckansig", file=sys.stderr)
        return 1
    ok = True
    print(f"GET /api/3/action/status_show, {args.requests} rounds of a request to each of "
          f"{args.processes} server(s) per configuration, in turn:")
    for name, values in times.items():
        print(f"  {name:14} median {statistics.median(values) * 1000:.3f} ms")
    for label, base_name, cand_name, target in (
            ("recording on (debug = true)", "debug", "debug+ckansig", 1.03),
            ("no recorder active (debug = false)", "plain", "plain+ckansig", 1.02)):
        base_times, cand_times = times[base_name], times[cand_name]
        paired = statistics.median(c / b for b, c in zip(base_times, cand_times, strict=True))
        medians = statistics.median(cand_times) / statistics.median(base_times)
        verdict = "ok" if paired <= target else "OVER TARGET"
        print(f"{label}: paired ratio {paired:.3f}, ratio of medians {medians:.3f} "
              f"(target <= {target}) {verdict}")
        ok = ok and paired <= target
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
