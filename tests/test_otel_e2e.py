"""Issue #26 end to end over OTLP/HTTP: a real CKAN dev server (``ckan run``)
and a real rq worker (``ckan jobs worker``) on PostgreSQL and Redis, both
started under ``opentelemetry-instrument`` (so the Flask instrumentation and
ckansig's, through its entry point), export to an OTLP endpoint in the test
that decodes the requests with opentelemetry-proto (tests/otlp_endpoint.py).
One anonymous ``user_create`` request must give one trace: the request span,
``action_succeed`` and activity's receiver, the nested
``action_succeed(activity_create)``, the job a receiver enqueued, and the
send the job made in the worker. Solr is a stand-in (tests/solr_standin.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .otlp_endpoint import Received, Span, otlp_endpoint
from .solr_standin import solr_standin
from .test_browser import free_port, wait_until_up
from .test_ckan import pytestmark
from .test_rollback import needs_database, plugin_site_ini

__all__ = ["pytestmark"]

pytest.importorskip("opentelemetry.proto")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Received, Path]]:
    """The dev server and the job worker, instrumented; yields the server's
    URL, what the OTLP endpoint received, and the folder of their logs."""
    folder = tmp_path_factory.mktemp("otel")
    bin_dir = Path(sys.executable).parent
    with solr_standin() as solr_url, otlp_endpoint() as (endpoint, received):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        ini = plugin_site_ini(folder, "otel", "fx_ckan_otel",
                              "[ckan.plugins]\nfx_otel = fx_ckan_otel:OtelPlugin\n",
                              "activity fx_otel", solr_url, ckan__site_url=url,
                              ckan__auth__create_user_via_api="true")
        env = {**os.environ,
               "OTEL_TRACES_EXPORTER": "otlp", "OTEL_METRICS_EXPORTER": "otlp",
               "OTEL_LOGS_EXPORTER": "none", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
               "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200",
               "OTEL_METRIC_EXPORT_INTERVAL": "500"}
        instrument = str(bin_dir / "opentelemetry-instrument")
        ckan = str(bin_dir / "ckan")
        processes = []
        logs = []
        for name, command in [
                ("server", [ckan, "-c", str(ini), "run", "-H", "127.0.0.1", "-p", str(port),
                            "--disable-reloader"]),
                ("worker", [ckan, "-c", str(ini), "jobs", "worker"])]:
            log = (folder / f"{name}.log").open("w")
            logs.append(log)
            processes.append(subprocess.Popen(
                [instrument, *command], cwd=folder, stdout=log, stderr=subprocess.STDOUT,
                env={**env, "OTEL_SERVICE_NAME": f"ckan-{name}"}))
        try:
            for log in logs:
                log.flush()
            wait_until_up(url, processes[0], folder / "server.log")
            yield url, received, folder
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
            for log in logs:
                log.close()


def post(url: str, action: str, data: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(f"{url}/api/3/action/{action}",
                                     data=json.dumps(data).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        found: dict[str, Any] = json.load(response)
    return found


def wait_for(received: Received, folder: Path, test: Any, what: str) -> Any:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with received.lock:
            found = test(list(received.spans))
        if found:
            return found
        time.sleep(0.3)
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-2500:]}" for p in folder.glob("*.log"))
    pytest.fail(f"no {what} reached the OTLP endpoint in 60 s\n{logs}")


@needs_database
def test_one_user_create_request_is_one_trace(site: tuple[str, Received, Path]) -> None:
    url, received, folder = site
    assert post(url, "user_create", {"name": "traced", "email": "traced@example.org",
                                     "password": "correct-horse-42"})["success"]

    def the_send(spans: list[Span]) -> Span | None:
        return next((s for s in spans if s.name == "send ckan:action_succeed"
                     and s.attributes.get("ckansig.sender") == "user_create"), None)

    send = wait_for(received, folder, the_send, "action_succeed(user_create) span")

    def complete(spans: list[Span]) -> bool:
        names = {s.name for s in spans if s.trace_id == send.trace_id}
        return {"job fx_ckan_otel.welcome", "fx_ckan_otel.note_welcome"} <= names

    wait_for(received, folder, complete, "job span in the request's trace")
    spans = received.by_trace(send.trace_id)
    by_id = {s.span_id: s for s in spans}

    def parent(span: Span) -> Span:
        return by_id[span.parent_id]

    def one(test: Any) -> Span:
        [found] = [s for s in spans if test(s)]
        return found

    # the request span (the Flask instrumentation's, kind SERVER) holds the send
    request = one(lambda s: s.kind == 2 and s.parent_id == "")
    ancestor = send
    while ancestor.parent_id:
        ancestor = parent(ancestor)
    assert ancestor is request, (request.name, ancestor.name)
    assert send.attributes["messaging.system"] == "blinker"
    assert send.attributes["messaging.destination.name"] == "ckan:action_succeed"
    # activity's receiver, and the send it made (activity_create's action_succeed)
    activity = one(lambda s: s.name.endswith("subscriptions.user_changed"))
    assert parent(activity) is send
    assert activity.attributes["messaging.operation.type"] == "process"
    assert activity.attributes["code.function.name"].endswith("user_changed")
    assert activity.attributes["code.file.path"].endswith("subscriptions.py")
    assert activity.attributes["ckansig.sender_filter"] == "user_create"
    assert activity.attributes["ckansig.db.inserted"] >= 1
    nested = one(lambda s: s.name == "send ckan:action_succeed"
                 and s.attributes.get("ckansig.sender") == "activity_create")
    assert parent(nested) is activity
    # the job a receiver enqueued, performed in the worker's forked horse
    enqueue = one(lambda s: s.name == "fx_ckan_otel.OtelPlugin.enqueue")
    assert parent(enqueue) is send
    enqueued = one(lambda s: s.name == "enqueue fx_ckan_otel.welcome")
    assert parent(enqueued) is enqueue
    job = one(lambda s: s.name == "job fx_ckan_otel.welcome")
    assert parent(job) is enqueued
    # another process: the trace crossed from the web server into the worker
    assert (send.service, job.service) == ("ckan-server", "ckan-worker")
    welcomed = one(lambda s: s.name == "send ckanext:fx_otel_welcomed")
    assert parent(welcomed) is job
    assert parent(one(lambda s: s.name == "fx_ckan_otel.note_welcome")) is welcomed
    # the password is no attribute of any span
    assert "correct-horse-42" not in repr([s.attributes for s in spans])


@needs_database
def test_the_receiver_duration_histogram_is_exported(site: tuple[str, Received, Path]) -> None:
    url, received, _ = site
    post(url, "user_create", {"name": "timed", "email": "timed@example.org",
                              "password": "correct-horse-42"})
    deadline = time.monotonic() + 30
    points: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not points:
        with received.lock:
            points = [p for p in received.metrics.get("messaging.process.duration", [])
                      if str(p["attributes"].get("code.function.name")).endswith(
                          "user_changed")]
        time.sleep(0.3)
    assert points, sorted(received.metrics)
    assert points[0]["unit"] == "s" and points[0]["count"] >= 1
    assert points[0]["attributes"]["messaging.destination.name"] == "ckan:action_succeed"


CONFIGURED_IN_CODE = """
import json, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

spans = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(spans))
trace.set_tracer_provider(provider)  # the site's own set-up, before CKAN starts

from ckan.cli import load_config
from ckan.config.middleware import make_app
import ckan.plugins.toolkit as tk

app = make_app(load_config(sys.argv[1]))
with app._wsgi_app.test_request_context("/"):
    tk.get_action("status_show")({"ignore_auth": True}, {})
print(json.dumps([[s.name, dict(s.attributes)] for s in spans.get_finished_spans()]))
"""


@needs_database
@pytest.mark.parametrize("switch", ["true", "false"])
def test_the_ckan_ini_switch_for_sites_that_configure_opentelemetry_in_code(
        tmp_path_factory: pytest.TempPathFactory, switch: str) -> None:
    folder = tmp_path_factory.mktemp("otel-switch")
    ini = plugin_site_ini(folder, f"otel_switch_{switch}", "fx_ckan_otel",
                          "[ckan.plugins]\nfx_otel = fx_ckan_otel:OtelPlugin\n",
                          "ckansig fx_otel", "http://127.0.0.1:9/solr", ckansig__otel=switch)
    done = subprocess.run([sys.executable, "-c", CONFIGURED_IN_CODE, str(ini)], cwd=folder,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    spans = json.loads(done.stdout.splitlines()[-1])
    sends = [attributes for name, attributes in spans
             if name == "send ckan:action_succeed" and attributes.get(
                 "ckansig.sender") == "status_show"]
    assert len(sends) == (1 if switch == "true" else 0), spans


def test_the_switch_without_opentelemetry_says_why_and_goes_on(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from ckansig.webapp.plugin import _instrument

    monkeypatch.setitem(sys.modules, "ckansig.otel.instrumentor", None)  # not installed
    with caplog.at_level("ERROR"):
        _instrument(False)  # no exception: the site starts
    assert "ckansig.otel = true, but OpenTelemetry is not installed" in caplog.text
