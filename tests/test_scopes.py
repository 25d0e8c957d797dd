"""Scopes inside a traced program (``ckansig.watching.scopes``): each request a
real Flask app serves and each job a real rq worker performs, against a real
Redis (marker ``ckan``: Flask and rq come with CKAN; ``.ci/run`` starts Redis
and sets CKANSIG_TEST_REDIS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .test_ckan import HAVE_CKAN, REQUIRED

REDIS = os.environ.get("CKANSIG_TEST_REDIS")  # redis://127.0.0.1:port/0, from .ci/run

pytestmark = [
    pytest.mark.ckan,
    pytest.mark.skipif(not HAVE_CKAN and not REQUIRED, reason=(
        "needs Flask and rq, which come with CKAN: .ci/run runs these in its CKAN "
        "virtualenvs")),
]

SIGNALS = """
    from blinker import Namespace
    ns = Namespace()
    visited = ns.signal("scope_visited")
    visited.connect(lambda sender, **kw: "seen " + sender, weak=False)
"""


def traced(tmp_path: Path, program: str) -> list[dict]:
    script = tmp_path / "program.py"
    script.write_text(textwrap.dedent(program))
    output = tmp_path / "sends.jsonl"
    done = subprocess.run([sys.executable, "-m", "ckansig", "trace", "-o", str(output), "--",
                           sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return [json.loads(line) for line in output.read_text().splitlines()]


def test_each_flask_request_is_a_scope(tmp_path: Path) -> None:
    sends = traced(tmp_path, SIGNALS + """
    import flask  # imported after the recorder started: the hook patches it
    app = flask.Flask("scoped")

    @app.route("/hello/<name>")
    def hello(name):
        visited.send(name)
        return "hi"

    visited.send("outside")
    client = app.test_client()
    assert client.get("/hello/alice").status_code == 200
    assert client.post("/hello/bob").status_code == 405
    assert client.get("/hello/carol").status_code == 200
    """)
    mine = [(s["sender"], s["scope"]) for s in sends if s["signal"] == "scope_visited"]
    assert mine == [("outside", "command program.py"), ("alice", "GET /hello/alice"),
                    ("carol", "GET /hello/carol")]
    flasks = {s["scope"] for s in sends if s["signal"] == "request-started"}
    assert flasks == {"GET /hello/alice", "POST /hello/bob", "GET /hello/carol"}


@pytest.mark.skipif(not REDIS and not REQUIRED, reason=(
    "no Redis: .ci/run starts one and sets CKANSIG_TEST_REDIS"))
def test_each_rq_job_is_a_scope_even_in_a_forked_work_horse(tmp_path: Path) -> None:
    assert REDIS, "CKANSIG_REQUIRE_CKAN=1 but CKANSIG_TEST_REDIS is not set"
    (tmp_path / "fx_jobs.py").write_text(textwrap.dedent(SIGNALS + """
    def greet(name):
        visited.send(name)
        return name
    """))
    queue = f"ckansig-{os.getpid()}"
    sends = traced(tmp_path, f"""
    import sys
    sys.path.insert(0, {str(tmp_path)!r})
    from redis import Redis
    from rq import Queue, Worker
    import fx_jobs
    connection = Redis.from_url({REDIS!r})
    jobs = Queue({queue!r}, connection=connection)
    for name in ("alice", "bob"):
        jobs.enqueue(fx_jobs.greet, name)
    fx_jobs.visited.send("parent")
    Worker([jobs], connection=connection).work(burst=True)  # forks a work horse per job
    jobs.delete(delete_jobs=True)
    """)
    mine = {s["sender"]: s for s in sends if s["signal"] == "scope_visited"}
    assert set(mine) == {"parent", "alice", "bob"}
    assert mine["parent"]["scope"] == "command program.py"
    assert mine["alice"]["scope"] == mine["bob"]["scope"] == "job fx_jobs.greet"
    ids = [s["id"] for s in sends]
    assert len(ids) == len(set(ids))  # the work horses numbered their own
    assert mine["alice"]["receivers"][0]["result"] == "'seen alice'"
