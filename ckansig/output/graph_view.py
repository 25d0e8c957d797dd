"""``ckansig graph``: the wiring map, plugins -> signals -> receivers, with
the send sites that send each signal, as Mermaid, Graphviz dot or a
self-contained HTML page (inline SVG and CSS: no script, no network)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, NamedTuple

from ckansig.model import SignalInfo
from ckansig.output.terminal import clean

if TYPE_CHECKING:
    from ckansig.sends import SendIndex

__all__ = ["Graph", "build_graph", "graph_dot", "graph_html", "graph_mermaid"]


class Node(NamedTuple):
    id: str
    label: str
    kind: str  # "plugin", "signal", "receiver" or "send"


class Edge(NamedTuple):
    source: str
    target: str
    label: str  # a sender filter, or ""


class Graph(NamedTuple):
    nodes: list[Node]
    edges: list[Edge]


def build_graph(signals: list[SignalInfo], sends: SendIndex | None = None) -> Graph:
    """Plugins -> the signals they subscribe to -> the receivers, and each send
    site -> the signal it sends. Receivers connected for several senders are
    one node, with one edge per sender filter."""
    nodes: dict[str, Node] = {}
    edges: dict[tuple[str, str, str], Edge] = {}

    def node(kind: str, key: str, label: str) -> str:
        found = nodes.get(f"{kind}:{key}")
        if found is None:  # names come from plugins: control characters shown escaped
            found = nodes[f"{kind}:{key}"] = Node(f"{kind[0]}{len(nodes)}", clean(label), kind)
        return found.id

    def edge(source: str, target: str, label: str = "") -> None:
        edges.setdefault((source, target, label), Edge(source, target, clean(label)))

    for info in signals:
        signal = node("signal", info.key, info.key)
        for sub in info.subscriptions:
            receiver = node("receiver", f"{info.key}>{sub.receiver.name}", sub.receiver.name)
            plugin = node("plugin", sub.plugin or "?", sub.plugin or "(no plugin)")
            edge(plugin, signal)
            sender = "" if sub.sender.kind == "any" else f"sender={sub.sender.repr}"
            edge(signal, receiver, sender)
        if sends is not None:
            for site in sends.sites_of(info.namespace, info.name):
                where = f"{site.file}:{site.line}"
                label = f"{_tail(site.file)}:{site.line}"
                edge(node("send", where, label), signal, site.method)
    return Graph(list(nodes.values()), list(edges.values()))


def _tail(path: str) -> str:
    """``path`` from its top-level package on, one style for every file:
    ``ckan/logic/action/create.py``, ``ckanext/foo/plugin.py``; a file
    outside any package keeps its folder (``examples/run.py``)."""
    import os

    folder, name = os.path.split(path.replace("\\", "/"))
    parts = [name]
    while folder and os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, package = os.path.split(folder)
        parts.append(package)
    if os.path.basename(folder) == "ckanext" or len(parts) == 1:  # a namespace, or no package
        parts.append(os.path.basename(folder))
    return "/".join(part for part in reversed(parts) if part)


def _mermaid_text(text: str) -> str:
    """Text inside a Mermaid ``"..."`` label: quotes and markup as entities, and
    ``#`` itself first (``#35;``), so that a name holding ``#quot;`` is drawn as itself."""
    return (text.replace("#", "#35;").replace("&", "#amp;").replace('"', "#quot;")
            .replace("<", "#lt;")
            .replace(">", "#gt;").replace("\n", " "))


_SHAPES = {"plugin": ('["', '"]'), "signal": ('(["', '"])'), "receiver": ('["', '"]'),
           "send": ('[/"', '"/]')}


def graph_mermaid(graph: Graph) -> str:
    """A Mermaid flowchart (for a README or a pull request)."""
    lines = ["flowchart LR"]
    for n in graph.nodes:
        opening, closing = _SHAPES[n.kind]
        lines.append(f"    {n.id}{opening}{_mermaid_text(n.label)}{closing}")
    for e in graph.edges:
        arrow = f' -->|"{_mermaid_text(e.label)}"| ' if e.label else " --> "
        lines.append(f"    {e.source}{arrow}{e.target}")
    for kind, style in (("plugin", "fill:#eef"), ("signal", "fill:#efe"),
                        ("send", "fill:#fee")):
        members = [n.id for n in graph.nodes if n.kind == kind]
        if members:
            lines.append(f"    classDef {kind} {style}")
            lines.append(f"    class {','.join(members)} {kind}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


_DOT_SHAPES = {"plugin": "box, style=filled, fillcolor=\"#eeeeff\"",
               "signal": "ellipse, style=filled, fillcolor=\"#eeffee\"",
               "receiver": "box", "send": "note, style=filled, fillcolor=\"#ffeeee\""}


def graph_dot(graph: Graph) -> str:
    """A Graphviz digraph (``dot -Tsvg``)."""
    lines = ["digraph ckansig {", "    rankdir=LR;", "    node [fontname=\"Helvetica\"];"]
    for n in graph.nodes:
        lines.append(f'    {n.id} [label="{_dot_text(n.label)}", shape={_DOT_SHAPES[n.kind]}];')
    for e in graph.edges:
        label = f' [label="{_dot_text(e.label)}"]' if e.label else ""
        lines.append(f"    {e.source} -> {e.target}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


_COLUMNS = ("send", "plugin", "signal", "receiver")
_FILL = {"plugin": "#eeeeff", "signal": "#eeffee", "receiver": "#ffffff", "send": "#ffeeee"}


def graph_html(graph: Graph, title: str = "ckansig: signal wiring") -> str:
    """A self-contained page: the graph drawn in columns as inline SVG (send
    sites, plugins, signals, receivers), with no script and no network."""
    width, row, gap, box = 340, 34, 60, 300
    columns = [[n for n in graph.nodes if n.kind == kind] for kind in _COLUMNS]
    used = [c for c in columns if c]
    place: dict[str, tuple[float, float]] = {}
    for x_index, column in enumerate(used):
        for y_index, n in enumerate(column):
            place[n.id] = (20 + x_index * (width + gap), 40 + y_index * row)
    height = 60 + max((len(c) for c in used), default=0) * row
    total = 40 + len(used) * (width + gap)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{height}" '
             f'font-family="Helvetica, Arial, sans-serif" font-size="12">']
    titles = {"send": "send sites", "plugin": "plugins", "signal": "signals",
              "receiver": "receivers"}
    for x_index, column in enumerate(used):
        parts.append(f'<text x="{20 + x_index * (width + gap)}" y="24" font-weight="bold" '
                     f'fill="#555">{titles[column[0].kind]}</text>')
    for e in graph.edges:
        (x1, y1), (x2, y2) = place[e.source], place[e.target]
        start, end = (x1 + box, y1 + 11), (x2, y2 + 11)
        middle = (start[0] + end[0]) / 2
        parts.append(f'<path d="M{start[0]},{start[1]} C{middle},{start[1]} {middle},{end[1]} '
                     f'{end[0]},{end[1]}" fill="none" stroke="#999"/>')
        if e.label:
            parts.append(f'<text x="{middle}" y="{(start[1] + end[1]) / 2 - 3}" fill="#a60" '
                         f'text-anchor="middle">{html.escape(e.label)}</text>')
    for n in graph.nodes:
        x, y = place[n.id]
        shown = n.label if len(n.label) <= 48 else "..." + n.label[-45:]
        parts.append(f'<g class="{n.kind}"><title>{html.escape(n.label)}</title>'
                     f'<rect x="{x}" y="{y}" width="{box}" height="22" rx="6" '
                     f'fill="{_FILL[n.kind]}" stroke="#666"/>'
                     f'<text x="{x + 8}" y="{y + 15}">{html.escape(shown)}</text></g>')
    parts.append("</svg>")
    counts = ", ".join(f"{len(c)} {kind}(s)" for kind, c in zip(_COLUMNS, columns, strict=True)
                       if c)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>"
            "body{font-family:Helvetica,Arial,sans-serif;margin:1.5em}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{counts}; hover a box for its full name.</p>"
            f"{''.join(parts)}</body></html>\n")
