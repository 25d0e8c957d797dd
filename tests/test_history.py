"""The web app's recorder without Flask or CKAN: a plain WSGI app whose
requests send signals (``ckansig.webapp.history``), the panel's HTML
(``ckansig.output.panel_view``) and the toolbar's panel setting."""

from __future__ import annotations

import json

import pytest
from blinker import Namespace, Signal
from hypothesis import given
from hypothesis import strategies as st

from ckansig import signals
from ckansig.output.panel_view import panel_html, panel_subtitle
from ckansig.webapp.flask_app import panel_setting
from ckansig.webapp.history import RecordRequests, RequestSends, SendHistory

flask_like = Namespace().signal("request-started")  # not CKAN's: counted, not shown
created = signals.ckanext.signal("history_test_created")
audited = signals.ckanext.signal("history_test_audited")


def on_created(sender: str, **kwargs: object) -> str:
    audited.send(sender, what="created")
    return f"created {sender}"


def on_audited(sender: str, **kwargs: object) -> str:
    return "<script>alert(1)</script>"  # a plugin's text, shown as data


def app(environ: dict, start_response) -> list[bytes]:
    flask_like.send("app")
    if environ["PATH_INFO"] == "/create":
        created.send("bob", password="hunter2-secret")
    start_response("201 Created", [("Content-Type", "text/plain")])
    return [b"done"]


def call(wsgi: RecordRequests, path: str) -> None:
    body = wsgi({"REQUEST_METHOD": "POST", "PATH_INFO": path}, lambda *args: None)
    assert list(body) == [b"done"]


def test_each_request_keeps_its_send_tree() -> None:
    created.connect(on_created)
    audited.connect(on_audited)
    history = SendHistory(size=2)
    wsgi = RecordRequests(app, history, skip=lambda environ: environ["PATH_INFO"] == "/skip")
    try:
        for path in ("/first", "/skip", "/create"):
            call(wsgi, path)
        assert hasattr(Signal.send, "__wrapped__")  # recording: send is wrapped
        document = history.json()
    finally:
        wsgi.close()
        created.disconnect(on_created)
        audited.disconnect(on_audited)
    assert not hasattr(Signal.send, "__wrapped__")  # the original is back
    assert [r["scope"] for r in document] == ["POST /create", "POST /first"]  # newest first
    create, first = document
    assert create["status"] == 201 and first["sends"] == [] and first["other_sends"] == 1
    [send] = create["sends"]
    assert (send["signal"], send["sender"], send["scope"]) == (
        "history_test_created", "bob", "POST /create")
    assert send["kwargs"] == {"password": "***"}
    [receiver] = send["receivers"]
    assert receiver["result"] == "'created bob'" and receiver["duration_ms"] >= 0
    [nested] = receiver["children"]
    assert (nested["signal"], nested["parent"]) == ("history_test_audited", send["id"])
    assert "hunter2-secret" not in json.dumps(document)
    assert panel_subtitle(create) == "2 sends"
    html = panel_html(create, [first], [("ckanext:history_test_created",
                                         [("<b>r</b>", "'bob'")])], "/_ckansig/sends")
    # the panel's own script only: the one in the data is text
    assert html.count("<script>") == 1 and "&lt;script&gt;" in html and "&lt;b&gt;r" in html
    assert 'data-signal="ckanext:history_test_audited"' in html
    assert "hunter2" not in html


def test_the_history_is_bounded() -> None:
    history = SendHistory(size=3)
    for number in range(5):
        history.add(RequestSends("GET", f"/{number}"))
    assert [r["path"] for r in history.json()] == ["/4", "/3", "/2"]
    assert [r["path"] for r in history.json(limit=1)] == ["/4"]


def test_a_request_not_recorded_is_said() -> None:
    assert panel_subtitle(None) == "not recorded"
    assert "was not recorded" in panel_html(None, [], [], "/_ckansig/sends")


dotted = st.from_regex(r"[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,4}", fullmatch=True)
separators = st.from_regex(r"[ \t\n,]{1,4}", fullmatch=True)


@given(st.lists(dotted, max_size=8), separators, st.booleans())
def test_the_panel_setting_splits_as_the_ini_writes_it(paths: list[str], separator: str,
                                                       padded: bool) -> None:
    text = separator.join(paths)
    if padded:
        text = f"{separator}{text}{separator}"
    assert panel_setting(text) == tuple(paths)
    assert panel_setting(paths) == tuple(paths)  # a list is taken as it is


def test_the_panel_setting_examples() -> None:
    assert panel_setting("a.B\n    c.D, e.F") == ("a.B", "c.D", "e.F")
    assert panel_setting(None) == () and panel_setting("") == ()


@pytest.mark.parametrize("failure", [ValueError("boom"), KeyboardInterrupt()])
def test_a_request_whose_app_raises_is_kept_as_a_500(failure: BaseException) -> None:
    def raising(environ: dict, start_response) -> list[bytes]:
        created.send("bob")
        raise failure

    history = SendHistory(size=2)
    wsgi = RecordRequests(raising, history)
    try:
        with pytest.raises(type(failure)):
            wsgi({"REQUEST_METHOD": "GET", "PATH_INFO": "/boom"}, lambda *args: None)
        [document] = history.json()
    finally:
        wsgi.close()
    assert (document["scope"], document["status"]) == ("GET /boom", 500)
    assert [s["signal"] for s in document["sends"]] == ["history_test_created"]


def _visit(wsgi: RecordRequests, path: str, cookie: str | None) -> str | None:
    """One request with ``cookie`` (a Cookie header); the viewer cookie it is given."""
    given: list[str] = []

    def start(status: str, headers: list[tuple[str, str]], *exc: object) -> None:
        given.extend(value for name, value in headers if name == "Set-Cookie")

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path}
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    list(wsgi(environ, start))
    [viewer] = given or [None]
    return None if viewer is None else viewer.split(";")[0]


def test_a_viewer_sees_its_own_requests_only() -> None:
    history = SendHistory()
    wsgi = RecordRequests(app, history)
    try:
        alice = _visit(wsgi, "/alice-first", None)
        bob = _visit(wsgi, "/bob-first", "session=x")
        assert alice and bob and alice != bob and alice.startswith("ckansig_viewer=")
        assert _visit(wsgi, "/alice-again", f"session=y; {alice}") is None  # kept, not renewed
        assert _visit(wsgi, "/bob-again", bob) is None
        # a token that is not one ckansig gave is not a viewer: a new one is given
        assert _visit(wsgi, "/forged", "ckansig_viewer=alice") is not None
    finally:
        wsgi.close()
    tokens = {request.path: request.viewer for request in history.requests()}
    mine = [r["path"] for r in history.json(viewer=tokens["/alice-first"])]
    assert mine == ["/alice-again", "/alice-first"]
    assert [r["path"] for r in history.json(viewer=tokens["/bob-first"])] == [
        "/bob-again", "/bob-first"]
    assert len(history.json()) == 5  # /_ckansig/sends (sysadmins) sees them all


@given(st.text(max_size=80))
def test_any_cookie_header_is_read_without_error(header: str) -> None:
    from ckansig.webapp.history import _viewer

    found = _viewer({"HTTP_COOKIE": header})
    assert found is None or (len(found) == 22 and f"ckansig_viewer={found}" in header)


def test_the_timeline_draws_each_send_and_receiver_at_its_offset_and_duration() -> None:
    import re

    request = {"scope": "POST /x", "time": 100.0, "duration_ms": 40.0, "sends": [{
        "signal": "s", "namespace": "ckan", "sender": "a", "kwargs": {"token": "***"},
        "time": 100.010, "duration_ms": 30.0, "receivers": [
            {"receiver": "ext.fast", "status": "ok", "duration_ms": 5.0, "result": "'1'",
             "db_changes": {"activity": {"inserted": 1, "updated": 0, "deleted": 0}},
             "children": []},
            {"receiver": "ext.slow", "status": "error", "duration_ms": 25.0, "result": None,
             "error": {"type": "KeyError", "message": "'x'"}, "children": []}]}]}
    html = panel_html(request, [], [], "/_ckansig/sends", slow_ms=20)
    bars = re.findall(r'data-kind="(\w+)".*?left:([\d.]+)%;width:([\d.]+)%', html)
    assert [(kind, float(left), float(width)) for kind, left, width in bars] == [
        ("send", 25.0, 75.0), ("receiver", 25.0, 12.5), ("receiver", 37.5, 62.5)]
    assert html.count("ckansig-slow") - html.count(".ckansig-slow") == 1  # ext.slow only
    assert "&quot;inserted&quot;: 1" in html and "KeyError" in html
    assert "no database changes recorded" in html  # ext.slow wrote nothing


@pytest.mark.ckan  # runs where Flask-DebugToolbar is: .ci/run's CKAN virtualenvs
def test_a_slow_threshold_that_is_no_number_falls_back() -> None:
    pytest.importorskip("flask_debugtoolbar")
    from ckansig.webapp.panel import _slow_ms

    assert _slow_ms({"ckansig.slow_ms": "120"}) == 120.0
    for bad in ("slow", "-3", "0", None):
        assert _slow_ms({"ckansig.slow_ms": bad}) == 50.0
    assert _slow_ms({}) == 50.0
