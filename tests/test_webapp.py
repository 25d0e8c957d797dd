"""The ``ckansig`` CKAN plugin in a real CKAN app on a real PostgreSQL: the
Signals panel of the debug toolbar and ``/_ckansig/sends`` (marker ``ckan``).

Each app runs in a subprocess of its own (CKAN's start-up is global state),
driven through werkzeug's test client; ``test_browser.py`` drives a real
server in a real Chromium.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from .conftest import valid_sends
from .test_ckan import (
    DATABASE,
    HAVE_CKAN,
    REQUIRED,
    ckan_command,
    fresh_database,
    release,
    write_ini,
)

try:
    import flask_debugtoolbar  # noqa: F401  (CKAN's dev requirement, installed by .ci/run)

    HAVE_TOOLBAR = True
except ImportError:
    HAVE_TOOLBAR = False

pytestmark = [
    pytest.mark.ckan,
    pytest.mark.skipif(not (HAVE_CKAN and DATABASE and HAVE_TOOLBAR) and not REQUIRED, reason=(
        "needs CKAN, Flask-DebugToolbar and CKANSIG_TEST_DATABASE (.ci/run has all three)")),
]

PASSWORD = "correct-horse-battery-9"


@functools.cache
def shared_database() -> str:
    """One database for these tests, initialised by ``ckan db init``, with a
    sysadmin ``admin`` (made once per session: each init takes seconds)."""
    url = fresh_database("ckansig_web")
    folder = Path(tempfile.mkdtemp(prefix="ckansig-web-"))
    ini = write_ini(folder, url, debug=False, plugins="activity")
    ckan_command("-c", str(ini), "db", "init", cwd=folder)
    ckan_command("-c", str(ini), "user", "add", "admin", "email=admin@example.org",
                 f"password={PASSWORD}", cwd=folder)
    ckan_command("-c", str(ini), "sysadmin", "add", "admin", cwd=folder)
    ckan_command("-c", str(ini), "user", "add", "carla", "email=carla@example.org",
                 f"password={PASSWORD}", cwd=folder)  # no sysadmin
    return url


def web_ini(folder: Path, *, debug: bool = True, plugins: str = "activity demo ckansig",
            **settings: str) -> Path:
    """A whole ckan.ini on the tests' database (a sysadmin ``admin`` in it);
    ``settings`` replace or join ``[app:main]``'s (a dot in a key is spelled ``__``)."""
    return write_ini(folder, shared_database(), debug=debug, plugins=plugins, **settings)


# Runs in the subprocess: CKAN's own start-up, then the requests, as JSON.
APP = textwrap.dedent("""\
    import json, sys
    from blinker import Signal
    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    from werkzeug.test import Client
    original_send = Signal.send
    app = make_app(load_config(sys.argv[1]))
    client, out = Client(app), {"patched": Signal.send is not original_send}
    token = None
    for method, path, body in json.loads(sys.argv[2]):
        if path.startswith("TOKEN"):  # TOKEN: admin's API token from now on; TOKEN:name, name's
            import ckan.logic as logic, ckan.model as model
            name = path.partition(":")[2] or "admin"
            made = logic.get_action("api_token_create")(
                {"user": name, "ignore_auth": True, "model": model},
                {"user": name, "name": "test"})
            token = made["token"]
            continue
        if path == "ANONYMOUS":
            token = None
            continue
        if path == "NEWCLIENT":  # another browser: no cookies
            client = Client(app)
            continue
        headers = {"Authorization": token} if token else {}
        response = client.open(path, method=method, json=body, headers=headers)
        text = response.get_data(as_text=True)
        out[f"{method} {path}"] = {"status": response.status_code, "type": response.mimetype,
                                   "body": text}
    print("\\n" + json.dumps(out))
""")


def run_app(ini: Path, *requests: tuple[str, str, object]) -> dict:
    done = subprocess.run([sys.executable, "-c", APP, str(ini), json.dumps(requests)],
                          cwd=ini.parent, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def sends(out: dict) -> list[dict]:
    requests = json.loads(out["GET /_ckansig/sends"]["body"])["requests"]
    for request in requests:
        valid_sends(request["sends"])  # of the one published shape
    return requests


def tree_nodes(send: dict) -> list[dict]:
    """``send`` and every send under it, depth first."""
    found = [send]
    for receiver in send["receivers"]:
        for child in receiver["children"]:
            found += tree_nodes(child)
    return found


def test_debug_false_means_no_route_and_no_recording(tmp_path: Path) -> None:
    ini = web_ini(tmp_path, debug=False)
    out = run_app(ini, ("GET", "/api/3/action/status_show", None),
                  ("GET", "/_ckansig/sends", None))
    assert out["patched"] is False  # blinker untouched: nothing recorded
    assert out["GET /api/3/action/status_show"]["status"] == 200
    assert out["GET /_ckansig/sends"]["status"] == 404


def test_history_holds_each_requests_send_tree(tmp_path: Path) -> None:
    ini = web_ini(tmp_path, ckansig__history="3")
    new_user = {"name": "bob", "email": "bob@example.org", "password": PASSWORD}
    out = run_app(ini, ("GET", "/api/3/action/status_show", None), ("GET", "TOKEN", None),
                  ("POST", "/api/3/action/user_create", new_user),
                  ("GET", "/_ckansig/sends", None))
    assert out["patched"] is True
    assert out["POST /api/3/action/user_create"]["status"] == 200
    page = out["GET /_ckansig/sends"]
    assert page["type"] == "application/json"
    history = sends(out)
    assert [r["scope"] for r in history] == ["POST /api/3/action/user_create",
                                             "GET /api/3/action/status_show"]  # newest first
    created, status = history
    assert created["status"] == 200 and status["status"] == 200
    # Flask's request_started, forwarded as CKAN's by a bound send connected at import
    started = next(s for s in status["sends"] if s["signal"] == "request-started")
    [forward] = started["receivers"]
    assert [c["signal"] for c in forward["children"]] == ["request_started"]
    # user_create -> activity's receiver -> activity_create, a send it caused
    action = next(s for s in created["sends"] if s["sender"] == "user_create")
    by_name = {r["receiver"].rsplit(".", 1)[1]: r for r in action["receivers"]}
    activity = by_name["user_changed"]
    assert activity["status"] == "ok" and activity["duration_ms"] > 0
    # the rows it wrote, from SQLAlchemy's flush events (the panel shows them on a click)
    assert activity["db_changes"]["activity"]["inserted"] == 1
    assert by_name["count_users"]["db_changes"] == {}
    [nested] = activity["children"]
    assert (nested["signal"], nested["sender"]) == ("action_succeed", "activity_create")
    assert nested["parent"] == action["id"]
    assert by_name["count_users"]["result"].startswith("'")  # the demo's receiver, redacted repr
    # the password is a secret in every field of every send
    assert PASSWORD not in page["body"] and "***" in page["body"]
    user_created = [n for s in created["sends"] for n in tree_nodes(s)
                    if n["signal"] == "user_created"]
    assert [u["sender"] for u in user_created] == ["bob"]  # sent by the action itself


def test_history_keeps_the_last_n_requests(tmp_path: Path) -> None:
    ini = web_ini(tmp_path, ckansig__history="2")
    out = run_app(ini, *[("GET", f"/api/3/action/status_show?n={i}", None) for i in range(4)],
                  ("GET", "/api/3/action/site_read", None), ("GET", "TOKEN", None),
                  ("GET", "/_ckansig/sends", None))
    assert [r["scope"] for r in sends(out)] == ["GET /api/3/action/site_read",
                                                "GET /api/3/action/status_show"]


def test_the_history_is_for_sysadmins_only(tmp_path: Path) -> None:
    # every user's requests are in it (password hashes, emails, private data):
    # anonymous clients and other users get 403, through CKAN's own authorization
    ini = web_ini(tmp_path)
    new_user = {"name": "dora", "email": "dora@example.org", "password": PASSWORD}
    out = run_app(ini, ("GET", "TOKEN", None), ("POST", "/api/3/action/user_create", new_user),
                  ("GET", "ANONYMOUS", None), ("GET", "/_ckansig/sends?as=anonymous", None),
                  ("GET", "TOKEN:carla", None), ("GET", "/_ckansig/sends?as=carla", None),
                  ("GET", "TOKEN:admin", None), ("GET", "/_ckansig/sends?as=admin", None))
    assert out["POST /api/3/action/user_create"]["status"] == 200
    for who in ("anonymous", "carla"):
        refused = out[f"GET /_ckansig/sends?as={who}"]
        assert refused["status"] == 403, (who, refused)
        assert "for sysadmins" in json.loads(refused["body"])["error"]
        assert "dora" not in refused["body"] and "pbkdf2" not in refused["body"]
    allowed = out["GET /_ckansig/sends?as=admin"]
    assert allowed["status"] == 200
    assert "dora" in allowed["body"] and PASSWORD not in allowed["body"]


def test_the_panel_is_in_the_toolbar(tmp_path: Path) -> None:
    ini = web_ini(tmp_path)
    out = run_app(ini, ("GET", "/api/3/action/status_show", None), ("GET", "/user/login", None))
    html = out["GET /user/login"]["body"]
    assert 'id="flDebugSignalsPanel"' in html  # the toolbar's entry
    assert 'class="ckansig-note ckansig-order"' in html  # receiver order: not CKAN's
    assert 'data-scope="GET /user/login"' in html  # this request
    assert '<details class="ckansig-request" data-scope="GET /api/3/action/status_show">' in html
    assert 'data-signal="ckan:request_started"' in html


def test_the_panel_shows_the_viewers_own_requests_only(tmp_path: Path) -> None:
    ini = web_ini(tmp_path)
    out = run_app(ini, ("GET", "/api/3/action/status_show", None), ("GET", "/user/login", None),
                  ("GET", "NEWCLIENT", None),
                  ("GET", "/api/3/action/site_read", None),
                  ("GET", "/user/login?browser=second", None))
    first, second = out["GET /user/login"]["body"], out["GET /user/login?browser=second"]["body"]
    assert 'data-scope="GET /api/3/action/status_show"' in first
    assert 'data-scope="GET /api/3/action/site_read"' in second
    # another browser's request is never shown
    assert "status_show" not in second and "site_read" not in first


def test_the_toolbars_panel_setting_from_ckan_ini_is_honoured(tmp_path: Path) -> None:
    # CKAN does not pass the ini's DEBUG_TB_PANELS on: 2.12 drops it, 2.10 and
    # 2.11 pass it as text, which the toolbar reads one character at a time
    setting = ("flask_debugtoolbar.panels.timer.TimerDebugPanel\n"
               "    ckansig.webapp.panel.SignalsPanel")
    if release() < (2, 12):  # the toolbar's import of "." stops CKAN's start-up itself
        broken = web_ini(tmp_path, plugins="activity ckansig", DEBUG_TB_PANELS=setting)
        with pytest.raises(AssertionError, match="Empty module name"):
            run_app(broken, ("GET", "/user/login", None))
        return
    alone = web_ini(tmp_path / "alone", plugins="activity", DEBUG_TB_PANELS=setting)
    html = run_app(alone, ("GET", "/user/login", None))["GET /user/login"]["body"]
    assert 'id="flDebugSignalsPanel"' not in html
    both = web_ini(tmp_path / "both", plugins="activity ckansig",
                   DEBUG_TB_PANELS=setting)
    html = run_app(both, ("GET", "/user/login", None))["GET /user/login"]["body"]
    assert 'id="flDebugSignalsPanel"' in html and 'id="flDebugTimerPanel"' in html
    assert 'id="flDebugVersionPanel"' not in html  # the ini's list, not the defaults
