"""The cost of ckansig's OpenTelemetry instrumentation (issue 26).

1. 100,000 sends to one receiver, each configuration in a fresh process,
   alternated (``--rounds``, 11 unless told), against the same sends
   uninstrumented: instrumented with no tracer provider configured (target
   <= 1.01x), and, for the record, with the SDK at 0%, 10% and 100% sampling
   (a batch processor, spans dropped by the exporter), and inside a request
   span that is not sampled (as most requests are at 10%).
2. With ``--ckan-ini``: CKAN dev servers (``ckan run``) under
   ``opentelemetry-instrument`` with the SDK, the Flask instrumentation and a
   batch OTLP/HTTP exporter to a sink in this script, with ckansig's
   instrumentation and without it (``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=blinker``:
   the same OpenTelemetry set-up, so the ratio is ckansig's cost), sampling
   every trace and 10% of them. ``--processes`` servers per configuration (2
   unless told: servers of the same code differ by memory layout), asked in
   turn: ``--requests`` rounds of ``GET status_show`` (2,000) and
   ``--creates`` rounds of an anonymous ``POST user_create`` (200: CKAN hashes
   each password, so each takes long). Targets: every trace <= 1.05x, 10%
   <= 1.01x (the paired median ratio). Run it with the Python of a CKAN
   virtualenv with ``ckansig[test]`` installed, on a ckan.ini whose database
   exists:

    python benchmarks/bench_otel.py
    /path/to/ckan-venv/bin/python benchmarks/bench_otel.py --ckan-ini ckan.ini
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SENDS = 100_000
CONFIGS = ["plain", "no-provider", "sdk-0%", "sdk-10%", "sdk-100%", "sdk-unsampled-request"]


def child(config: str) -> None:
    """One configuration's 100,000 sends; prints the seconds they took."""
    from blinker import Namespace

    if config.startswith("sdk"):
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            SpanExporter,
            SpanExportResult,
        )
        from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

        class Drop(SpanExporter):  # type: ignore[misc]
            def export(self, spans: object) -> SpanExportResult:
                return SpanExportResult.SUCCESS

        from opentelemetry.sdk.trace.sampling import ParentBased

        ratio = float(config.split("-")[1].rstrip("%")) / 100 if "%" in config else 0.0
        provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(ratio)))
        provider.add_span_processor(BatchSpanProcessor(Drop()))
        trace.set_tracer_provider(provider)
    if config != "plain":
        from ckansig.otel import BlinkerInstrumentor

        BlinkerInstrumentor().instrument()
    signal = Namespace().signal("bench")

    def receiver(sender: object, **kwargs: object) -> object:
        return sender

    signal.connect(receiver)
    send = signal.send
    import contextlib

    request: Any = contextlib.nullcontext()
    if config == "sdk-unsampled-request":  # inside a request span that is not sampled
        from opentelemetry import trace as api

        request = api.get_tracer("bench").start_as_current_span("request")
    with request:
        for _ in range(1000):  # warm
            send("x", value=1)
        start = time.perf_counter()
        for _ in range(SENDS):
            send("x", value=1)
        print(time.perf_counter() - start)


def sends(rounds: int) -> bool:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times: dict[str, list[float]] = {config: [] for config in CONFIGS}
    for _ in range(rounds):
        for config in CONFIGS:
            done = subprocess.run([sys.executable, __file__, "--child", config], env=env,
                                  capture_output=True, text=True, check=True)
            times[config].append(float(done.stdout.strip().splitlines()[-1]))
    base = times["plain"]
    print(f"{SENDS:,} sends to one receiver, {rounds} rounds, each configuration in a "
          "fresh process:")
    ok = True
    for config in CONFIGS:
        paired = statistics.median(c / b for b, c in zip(base, times[config], strict=True))
        line = (f"  {config:12} median {statistics.median(times[config]) * 1000:8.1f} ms, "
                f"paired ratio {paired:.3f}")
        if config == "no-provider":
            verdict = "ok" if paired <= 1.01 else "OVER TARGET"
            line += f" (target <= 1.01) {verdict}"
            ok = paired <= 1.01
        print(line)
    return ok


# -- CKAN requests ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sink() -> tuple[str, list[int]]:
    """An OTLP/HTTP endpoint that accepts and drops; counts the bytes of spans."""
    received = [0]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/v1/traces":
                received[0] += len(body)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", received


def start(folder: Path, base: Path, name: str, endpoint: str, ckansig: bool,
          ratio: float) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    ini = folder / f"{name}.ini"
    ini.write_text(f"[app:main]\nuse = config:{base}\nckan.auth.create_user_via_api = true\n"
                   f"ckan.site_url = http://127.0.0.1:{port}\n")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "OTEL_SERVICE_NAME": name, "OTEL_TRACES_EXPORTER": "otlp",
           "OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none",
           "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
           "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
           "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
           "OTEL_TRACES_SAMPLER_ARG": str(ratio)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not ckansig:
        env["OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"] = "blinker"
    log = (folder / f"{name}.log").open("w")
    process = subprocess.Popen(
        [str(bin_dir / "opentelemetry-instrument"), str(bin_dir / "ckan"), "-c", str(ini),
         "run", "-H", "127.0.0.1", "-p", str(port), "--disable-reloader"],
        cwd=folder, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/api/3/action/"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url + "status_show", timeout=5):
                return url, process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{name}: ckan run did not start; see {folder / name}.log"
                                 ) from None
            time.sleep(0.3)


def latency(url: str, body: bytes | None = None) -> float:
    request = urllib.request.Request(url, data=body,
                                     headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return time.perf_counter() - start


def requests(base: Path, processes: int, rounds: int, creates: int) -> bool:
    endpoint, received = sink()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for ratio, target in ((1.0, 1.05), (0.1, 1.01)):
            servers = {name: [start(folder, base, f"{name}-{int(ratio * 100)}.{index}",
                                    endpoint, with_ckansig, ratio)
                              for index in range(processes)]
                       for name, with_ckansig in (("otel", False), ("otel+ckansig", True))}
            try:
                for group in servers.values():
                    for url, _ in group:
                        for _ in range(30):
                            latency(url + "status_show")
                times: dict[str, dict[str, list[float]]] = {
                    what: {name: [] for name in servers} for what in ("status_show",
                                                                      "user_create")}
                users = (json.dumps({"name": f"bench-{tag}", "email": f"{tag}@example.org",
                                     "password": "correct-horse-42"}).encode()
                         for tag in (f"{int(ratio * 100)}-{n}-{os.getpid()}"
                                     for n in itertools.count()))

                for what, count in (("status_show", rounds), ("user_create", creates)):
                    for _ in range(count):
                        for name, group in servers.items():
                            times[what][name].append(statistics.fmean(
                                latency(url + what, next(users) if what == "user_create" else None)
                                for url, _ in group))
            finally:
                for group in servers.values():
                    for _, process in group:
                        process.terminate()
                        process.wait()
            print(f"sampling {ratio:.0%}, {processes} server(s) per configuration, asked in "
                  f"turn ({received[0]:,} bytes of spans exported so far):")
            for what, by_name in times.items():
                base_t, cand_t = by_name["otel"], by_name["otel+ckansig"]
                paired = statistics.median(c / b for b, c in zip(base_t, cand_t, strict=True))
                verdict = "ok" if paired <= target else "OVER TARGET"
                print(f"  {what:12} {len(base_t)} rounds: median "
                      f"{statistics.median(base_t) * 1000:.2f} ms without ckansig, "
                      f"{statistics.median(cand_t) * 1000:.2f} ms with; paired ratio "
                      f"{paired:.3f} (target <= {target}) {verdict}")
                ok = ok and paired <= target
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--ckan-ini", type=Path)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--creates", type=int, default=200)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    ok = sends(args.rounds)
    if args.ckan_ini is not None:
        ok = requests(args.ckan_ini.resolve(), args.processes, args.requests,
                      args.creates) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
