"""The Signals panel of CKAN's debug toolbar, as an HTML fragment: this
request's send trees (receivers, durations, redacted results, the sends each
receiver made), the wiring of every signal it sent, and the trees of the
requests before it (a login's ``logged_in`` is sent by the POST that redirects,
not by the page that shows the toolbar).

Its input is JSON as ``/_ckansig/sends`` serves it (secrets already hidden);
every piece of text is escaped. No script, no network: ``<details>`` folds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from ckansig.watching.records import ORDER_CAVEAT

__all__ = ["panel_html", "panel_subtitle"]

_STYLE = """<style>
.ckansig-panel{font:13px/1.45 system-ui,sans-serif;color:#222}
.ckansig-panel h4{margin:14px 0 6px;font-size:14px}
.ckansig-panel ul{list-style:none!important;margin:0!important;padding:0 0 0 18px!important}
.ckansig-panel li{margin:0!important;padding:0!important;list-style:none!important}
.ckansig-panel>section>ul{padding-left:0!important}
.ckansig-send>.ckansig-line{font-weight:600}
.ckansig-sig{color:#0b5394}.ckansig-ms{color:#777;font-weight:400}
.ckansig-ok{color:#2e7d32}.ckansig-error{color:#c62828}.ckansig-not_reached{color:#999}
.ckansig-panel code{background:#f3f3f3;padding:0 3px;border-radius:2px;font-size:12px}
.ckansig-note{color:#777}
.ckansig-panel table{border-collapse:collapse}
.ckansig-panel td,.ckansig-panel th{border:1px solid #ddd;padding:2px 6px;text-align:left;
 vertical-align:top}
.ckansig-panel details{margin:4px 0}.ckansig-panel summary{cursor:pointer}
</style>"""


def _ms(value: Any) -> str:
    return "" if value is None else f' <span class="ckansig-ms">{float(value):.2f} ms</span>'


def _text(value: Any) -> str:
    return escape(str(value), quote=True)


def _code(value: Any) -> str:
    return f"<code>{_text(value)}</code>"


def _receiver(receiver: Mapping[str, Any]) -> str:
    status = str(receiver.get("status"))
    line = (f'<span class="ckansig-name">{_text(receiver.get("receiver"))}</span> '
            f'<span class="ckansig-{_text(status)}">{_text(status)}</span>'
            + _ms(receiver.get("duration_ms")))
    if receiver.get("result") is not None:
        line += f" &rarr; {_code(receiver['result'])}"
    error = receiver.get("error")
    if error:
        line += f" {_code(str(error.get('type')) + ': ' + str(error.get('message')))}"
    children = receiver.get("children") or []
    nested = f"<ul>{''.join(_send(child) for child in children)}</ul>" if children else ""
    return (f'<li class="ckansig-receiver" data-receiver="{_text(receiver.get("receiver"))}" '
            f'data-status="{_text(status)}">{line}{nested}</li>')


def _send(send: Mapping[str, Any]) -> str:
    key = send["signal"] if send.get("namespace") is None else \
        f"{send['namespace']}:{send['signal']}"
    kwargs = send.get("kwargs")
    line = (f'<span class="ckansig-line"><span class="ckansig-sig">{_text(key)}</span> '
            f"sender={_code(_short(send.get('sender')))}"
            + (f" kwargs: {_text(', '.join(map(str, kwargs)))}" if isinstance(kwargs, dict)
               and kwargs else "")
            + _ms(send.get("duration_ms")) + "</span>")
    receivers = send.get("receivers") or []
    notes = []
    filtered = send.get("filtered") or []
    if not receivers:
        notes.append("no receiver for this sender" if filtered else "no receiver")
    if filtered:
        notes.append(f"{len(filtered)} connected for other senders, not called: "
                     + ", ".join(str(name).rsplit(".", 1)[-1] for name in filtered))
    if send.get("dead"):
        notes.append(f"{send['dead']} dead weak receiver(s) skipped")
    if send.get("error"):
        notes.append(f"raised {send['error'].get('type')}")
    note = "".join(f'<li class="ckansig-note">{_text(n)}</li>' for n in notes)
    return (f'<li class="ckansig-send" data-signal="{_text(key)}" '
            f'data-sender="{_text(_short(send.get("sender")))}">{line}'
            f"<ul>{''.join(_receiver(r) for r in receivers)}{note}</ul></li>")


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _count(request: Mapping[str, Any]) -> int:
    def count(send: Mapping[str, Any]) -> int:
        return 1 + sum(count(child) for r in send.get("receivers") or ()
                       for child in r.get("children") or ())

    return sum(count(send) for send in request.get("sends") or ())


def _trees(request: Mapping[str, Any]) -> str:
    sends = request.get("sends") or []
    body = "".join(_send(send) for send in sends) or \
        '<li class="ckansig-note">no CKAN signal was sent</li>'
    other = request.get("other_sends") or 0
    if other:
        body += (f'<li class="ckansig-note">and {other} send(s) of Flask\'s own signals '
                 "(templates, app contexts), not shown</li>")
    if request.get("dropped"):
        body += f'<li class="ckansig-note">{request["dropped"]} more send(s) not kept</li>'
    return f"<ul>{body}</ul>"


def _wiring(wiring: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> str:
    if not wiring:
        return ""
    rows = []
    for key, receivers in wiring:
        listed = "<br>".join(f"{_text(name)} <span class=\"ckansig-note\">{_text(senders)}</span>"
                             for name, senders in receivers) or \
            '<span class="ckansig-note">no receiver</span>'
        rows.append(f'<tr data-signal="{_text(key)}"><td>{_text(key)}</td><td>{listed}</td></tr>')
    return ('<section class="ckansig-wiring"><h4>Wiring of the signals sent</h4><table>'
            f"<tr><th>signal</th><th>receivers (senders)</th></tr>{''.join(rows)}</table>"
            "</section>")


def panel_subtitle(request: Mapping[str, Any] | None) -> str:
    """The toolbar's line under "Signals": how many sends this request made."""
    if request is None:
        return "not recorded"
    count = _count(request)
    return f"{count} send{'' if count == 1 else 's'}"


def panel_html(request: Mapping[str, Any] | None, earlier: Sequence[Mapping[str, Any]],
               wiring: Sequence[tuple[str, Sequence[tuple[str, str]]]],
               sends_path: str) -> str:
    """The panel: ``request`` (JSON of the current request, or None when it is
    not recorded), ``earlier`` requests (newest first), and the ``wiring`` of
    the signals sent: (signal, [(receiver, senders)])."""
    parts = [_STYLE, '<div class="ckansig-panel">']
    if request is None:
        parts.append('<p class="ckansig-note">This request was not recorded.</p>')
    else:
        parts.append(f'<section class="ckansig-request ckansig-current" '
                     f'data-scope="{_text(request["scope"])}"><h4>This request: '
                     f"{_text(request['scope'])}</h4>{_trees(request)}</section>")
    parts.append(_wiring(wiring))
    if earlier:
        parts.append('<section class="ckansig-earlier"><h4>Earlier requests</h4>')
        for before in earlier:
            status = before.get("status")
            parts.append(
                f'<details class="ckansig-request" data-scope="{_text(before["scope"])}">'
                f"<summary>{_text(before['scope'])} &rarr; {_text(status)} "
                f'<span class="ckansig-note">{_count(before)} send(s)</span></summary>'
                f"{_trees(before)}</details>")
        parts.append("</section>")
    parts.append(f'<p class="ckansig-note ckansig-order">{_text(ORDER_CAVEAT.capitalize())}.</p>')
    parts.append(f'<p class="ckansig-note">As JSON: <a href="{_text(sends_path)}">'
                 f"{_text(sends_path)}</a></p></div>")
    return "".join(parts)
