"""The Signals panel of CKAN's debug toolbar, as an HTML fragment: this
request's send trees (receivers, durations, redacted results, the sends each
receiver made), the wiring of every signal it sent, and the trees of the
requests before it (a login's ``logged_in`` is sent by the POST that redirects,
not by the page that shows the toolbar).

Its input is JSON as ``/_ckansig/sends`` serves it (secrets already hidden);
every piece of text is escaped. The current request is drawn as a timeline:
each send and each receiver call a bar at its offset and duration from the
request's start, nested as the tree, slow receivers marked; a click on a bar
shows its arguments, result or error and database changes, and a filter keeps
the signals or receivers whose names hold its text. Its small script is
inline (no network); the trees fold with ``<details>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from ckansig.watching.records import ORDER_CAVEAT

__all__ = ["panel_html", "panel_subtitle"]

_STYLE = """<style>
.ckansig-panel{--ck-fg:#222;--ck-muted:#777;--ck-line:#ddd;--ck-code:#f3f3f3;--ck-ok:#2e7d32;
 --ck-error:#c62828;--ck-sig:#0b5394;--ck-bar:#90caf9;--ck-rbar:#a5d6a7;--ck-slow:#ff9800;
 --ck-track:#f5f5f5;color:var(--ck-fg);font:inherit}
@media (prefers-color-scheme: dark){.ckansig-panel{--ck-fg:#e6e6e6;--ck-muted:#a0a0a0;
 --ck-line:#444;--ck-code:#2d2d2d;--ck-ok:#81c784;--ck-error:#ef9a9a;--ck-sig:#90caf9;
 --ck-bar:#1e88e5;--ck-rbar:#43a047;--ck-track:#2a2a2a}}
.ckansig-panel h4{margin:14px 0 6px}
.ckansig-panel ul{list-style:none!important;margin:0!important;padding:0 0 0 18px!important}
.ckansig-panel li{margin:0!important;padding:0!important;list-style:none!important}
.ckansig-panel>section>ul{padding-left:0!important}
.ckansig-send>.ckansig-line{font-weight:600}
.ckansig-sig{color:var(--ck-sig)}.ckansig-ms{color:var(--ck-muted);font-weight:400}
.ckansig-ok{color:var(--ck-ok)}.ckansig-error{color:var(--ck-error)}
.ckansig-not_reached{color:var(--ck-muted)}
.ckansig-panel code{background:var(--ck-code);padding:0 3px;border-radius:2px}
.ckansig-note{color:var(--ck-muted)}
.ckansig-panel details{margin:4px 0}.ckansig-panel summary{cursor:pointer}
.ckansig-panel .ckansig-tools{margin:4px 0 8px}
.ckansig-panel .ckansig-tools input{min-width:18em}
.ckansig-panel .ckansig-row{display:flex!important;align-items:center;cursor:pointer;
 border-bottom:1px solid var(--ck-line)}
.ckansig-panel .ckansig-row[hidden],.ckansig-panel .ckansig-detail[hidden]{display:none!important}
.ckansig-panel .ckansig-row:hover{background:var(--ck-code)}
.ckansig-panel .ckansig-label{display:block!important;flex:0 0 38%;overflow:hidden;
 white-space:nowrap;text-overflow:ellipsis}
.ckansig-panel .ckansig-track{display:block!important;flex:1 1 auto;position:relative!important;
 height:14px!important;background:var(--ck-track)!important}
.ckansig-panel .ckansig-bar{display:block!important;position:absolute!important;top:2px;
 height:10px!important;min-width:1px;background:var(--ck-bar)!important}
.ckansig-panel .ckansig-row[data-kind=receiver] .ckansig-bar{background:var(--ck-rbar)!important}
.ckansig-panel .ckansig-row.ckansig-slow .ckansig-bar{background:var(--ck-slow)!important}
.ckansig-panel .ckansig-row[data-status=error] .ckansig-bar{background:var(--ck-error)!important}
.ckansig-panel .ckansig-detail{display:block;padding:4px 8px 8px 24px;
 border-bottom:1px solid var(--ck-line)}
.ckansig-panel .ckansig-detail pre{white-space:pre-wrap;margin:2px 0;max-height:16em;
 overflow:auto}
</style>"""

_SCRIPT = """<script>(function () {
  var panel = document.currentScript.parentNode;
  var rows = panel.querySelectorAll('.ckansig-row');
  panel.querySelector('.ckansig-rows').addEventListener('click', function (event) {
    var row = event.target.closest('.ckansig-row');
    if (!row) { return; }
    var detail = row.nextElementSibling;
    detail.hidden = !detail.hidden;
  });
  var filter = panel.querySelector('.ckansig-filter');
  filter.addEventListener('input', function () {
    var text = filter.value.trim().toLowerCase(), hidden = 0;
    rows.forEach(function (row) {
      var keep = !text || (row.getAttribute('data-signal') + ' ' +
        row.getAttribute('data-name')).toLowerCase().indexOf(text) >= 0;
      row.hidden = !keep;
      if (!keep) { row.nextElementSibling.hidden = true; }
      if (!keep && row.getAttribute('data-kind') === 'send') { hidden += 1; }
    });
    panel.querySelector('.ckansig-hidden').textContent =
      text ? hidden + ' send(s) hidden by the filter' : '';
  });
})();</script>"""

#: receivers slower than this are marked in the timeline (``ckansig.slow_ms``)
SLOW_MS = 50.0


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


def _key(send: Mapping[str, Any]) -> str:
    return str(send["signal"]) if send.get("namespace") is None else \
        f"{send['namespace']}:{send['signal']}"


def _pre(label: str, value: Any) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, indent=1, default=str,
                                                           ensure_ascii=False)
    return f"<div>{_text(label)}:<pre>{_text(text)}</pre></div>"


def _bars(request: Mapping[str, Any]) -> tuple[list[tuple[Any, ...]], float]:
    """The rows of the timeline, in tree order: (depth, kind, signal, name,
    offset ms, duration ms, status, detail html), and the time they span."""
    start = float(request.get("time") or 0.0)
    rows: list[tuple[Any, ...]] = []

    def send_rows(send: Mapping[str, Any], depth: int) -> None:
        key = _key(send)
        offset = (float(send.get("time") or start) - start) * 1000
        detail = _pre("sender", _short(send.get("sender"), 400)) + _pre(
            "keyword arguments (secrets hidden)", send.get("kwargs") or {})
        if send.get("error"):
            detail += _pre("error", send["error"])
        rows.append((depth, "send", key, key, offset, float(send.get("duration_ms") or 0),
                     "error" if send.get("error") else "ok", detail))
        at = offset
        for receiver in send.get("receivers") or []:
            took = float(receiver.get("duration_ms") or 0)
            outcome = (_pre("error", receiver["error"]) if receiver.get("error") else
                       _pre("result", receiver.get("result")))
            changes = receiver.get("db_changes")
            outcome += _pre("database changes", changes) if changes else \
                '<div class="ckansig-note">no database changes recorded</div>'
            rows.append((depth + 1, "receiver", key, str(receiver.get("receiver")), at, took,
                         str(receiver.get("status")), outcome))
            for child in receiver.get("children") or []:
                send_rows(child, depth + 2)
            at += took

    for send in request.get("sends") or []:
        send_rows(send, 0)
    span = max([float(request.get("duration_ms") or 0)]
               + [offset + took for _, _, _, _, offset, took, _, _ in rows])
    return rows, span or 1.0


def _timeline(request: Mapping[str, Any], slow_ms: float) -> str:
    rows, span = _bars(request)
    if not rows:
        return ""
    html_rows = []
    for depth, kind, key, name, offset, took, status, detail in rows:
        slow = kind == "receiver" and took >= slow_ms
        label = _text(key if kind == "send" else name)
        html_rows.append(
            f'<div class="ckansig-row{" ckansig-slow" if slow else ""}" data-kind="{kind}" '
            f'data-signal="{_text(key)}" data-name="{_text(name)}" data-status="{_text(status)}"'
            f' data-offset="{offset:.4f}" data-duration="{took:.4f}" title="{took:.3f} ms'
            f'{" (slow)" if slow else ""}">'
            f'<span class="ckansig-label" style="padding-left:{depth * 10}px">{label} '
            f'<span class="ckansig-ms">{took:.2f} ms</span></span>'
            f'<span class="ckansig-track"><span class="ckansig-bar" style="left:'
            f'{100 * offset / span:.4f}%;width:{100 * took / span:.4f}%"></span></span></div>'
            f'<div class="ckansig-detail" hidden>{detail}</div>')
    return (f'<section class="ckansig-timeline" data-span="{span:.4f}"><h4>Timeline '
            f'<span class="ckansig-note">{span:.2f} ms from the request\'s start; receivers '
            f"over {slow_ms:g} ms marked; click a bar for its details</span></h4>"
            '<div class="ckansig-tools"><input class="ckansig-filter" type="search" '
            'placeholder="filter by signal or receiver" aria-label="filter by signal or '
            'receiver"> <span class="ckansig-hidden ckansig-note"></span></div>'
            f'<div class="ckansig-rows">{"".join(html_rows)}</div>{_SCRIPT}</section>')


def _wiring(wiring: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> str:
    if not wiring:
        return ""
    rows: list[str] = []
    for key, receivers in wiring:
        listed = "<br>".join(f"{_text(name)} <span class=\"ckansig-note\">{_text(senders)}</span>"
                             for name, senders in receivers) or \
            '<span class="ckansig-note">no receiver</span>'
        parity = "flDebugOdd" if len(rows) % 2 == 0 else "flDebugEven"  # as the toolbar's
        rows.append(f'<tr class="{parity}" data-signal="{_text(key)}"><td>{_text(key)}</td>'
                    f"<td>{listed}</td></tr>")
    return ('<section class="ckansig-wiring"><h4>Wiring of the signals sent</h4><table>'
            f"<thead><tr><th>signal</th><th>receivers (senders)</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></section>")


def panel_subtitle(request: Mapping[str, Any] | None) -> str:
    """The toolbar's line under "Signals": how many sends this request made."""
    if request is None:
        return "not recorded"
    count = _count(request)
    return f"{count} send{'' if count == 1 else 's'}"


def panel_html(request: Mapping[str, Any] | None, earlier: Sequence[Mapping[str, Any]],
               wiring: Sequence[tuple[str, Sequence[tuple[str, str]]]],
               sends_path: str, slow_ms: float = SLOW_MS) -> str:
    """The panel: ``request`` (JSON of the current request, or None when it is
    not recorded), ``earlier`` requests (newest first), and the ``wiring`` of
    the signals sent: (signal, [(receiver, senders)])."""
    parts = [_STYLE, '<div class="ckansig-panel">']
    if request is None:
        parts.append('<p class="ckansig-note">This request was not recorded.</p>')
    else:
        parts.append(_timeline(request, slow_ms))
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
