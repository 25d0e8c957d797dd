"""``ckansig graph``: the wiring map, plugins -> signals -> receivers, with
the send sites that send each signal, as Mermaid, Graphviz dot, SVG or a
self-contained HTML page (inline SVG, CSS and script: no network). The
picture is laid out by Graphviz ``dot`` when it is installed, else by
:mod:`ckansig.output.graph_layout`."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, NamedTuple

from ckansig.model import SignalInfo
from ckansig.output.terminal import clean

if TYPE_CHECKING:
    from ckansig.sends import SendIndex

__all__ = ["Graph", "build_graph", "graph_dot", "graph_html", "graph_mermaid", "graph_svg"]


class Node(NamedTuple):
    id: str
    label: str
    kind: str  # "plugin", "signal", "receiver" or "send"
    #: a receiver's plugin (what collapsing that plugin hides), else ""
    group: str = ""


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

    def node(kind: str, key: str, label: str, group: str = "") -> str:
        found = nodes.get(f"{kind}:{key}")
        if found is None:  # names come from plugins: control characters shown escaped
            found = nodes[f"{kind}:{key}"] = Node(f"{kind[0]}{len(nodes)}", clean(label), kind,
                                                  clean(group))
        return found.id

    def edge(source: str, target: str, label: str = "") -> None:
        edges.setdefault((source, target, label), Edge(source, target, clean(label)))

    for info in signals:
        signal = node("signal", info.key, info.key)
        for sub in info.subscriptions:
            owner = sub.plugin or "(no plugin)"
            receiver = node("receiver", f"{info.key}>{sub.receiver.name}", sub.receiver.name,
                            owner)
            plugin = node("plugin", sub.plugin or "?", owner)
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


def graph_dot(graph: Graph, ids: bool = False) -> str:
    """A Graphviz digraph (``dot -Tsvg``); ``ids``: SVG ids for the page's script."""
    lines = ["digraph ckansig {", "    rankdir=LR;",
             "    node [fontname=\"Helvetica\", fontsize=11];",
             "    edge [fontname=\"Helvetica\", fontsize=10, fontcolor=\"#aa6600\"];"]
    for n in graph.nodes:
        extra = f', id="n_{n.id}"' if ids else ""
        lines.append(f'    {n.id} [label="{_dot_text(n.label)}", shape={_DOT_SHAPES[n.kind]}'
                     f"{extra}];")
    for index, e in enumerate(graph.edges):
        attributes = [f'label="{_dot_text(e.label)}"'] if e.label else []
        if ids:
            attributes.append(f'id="e_{index}"')
        listed = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"    {e.source} -> {e.target}{listed};")
    lines.append("}")
    return "\n".join(lines) + "\n"


_FILL = {"plugin": "#eeeeff", "signal": "#eeffee", "receiver": "#ffffff", "send": "#ffeeee"}
_TITLES = {0: "plugins and send sites", 1: "signals", 2: "receivers"}


def _builtin_svg(graph: Graph) -> str:
    from ckansig.output.graph_layout import LINE, PAD, layered

    layout = layered(graph)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{layout.width:.0f}" '
             f'height="{layout.height:.0f}" viewBox="0 0 {layout.width:.0f} '
             f'{layout.height:.0f}" font-family="Helvetica, Arial, sans-serif" '
             f'font-size="12" class="ckansig-graph builtin">']
    layers = sorted({_layer(n.kind) for n in graph.nodes})
    for layer, (left, _) in zip(layers, layout.columns, strict=False):
        parts.append(f'<text x="{left:.1f}" y="24" font-weight="bold" fill="#555" '
                     f'class="column">{_TITLES[layer]}</text>')
    for index, (_, _, d) in enumerate(layout.paths):
        parts.append(f'<path id="e_{index}" class="edge" d="{d}" fill="none" stroke="#999"/>')
    for b in layout.boxes.values():
        n = b.node
        parts.append(f'<g id="n_{n.id}" class="node {n.kind}"><title>{html.escape(n.label)}'
                     f'</title><rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.width:.1f}" '
                     f'height="{b.height:.1f}" rx="6" fill="{_FILL[n.kind]}" stroke="#666"/>')
        for number, line in enumerate(b.lines):
            style = ' fill="#aa6600" font-size="11"' if number else ""
            baseline = b.y + PAD / 2 + LINE * (number + 0.75)
            parts.append(f'<text x="{b.x + PAD:.1f}" y="{baseline:.1f}" '
                         f'data-fit="{b.width - 2 * PAD:.1f}"{style}>{html.escape(line)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _layer(kind: str) -> int:
    from ckansig.output.graph_layout import LAYER

    return LAYER[kind]


def _dot_nodes_named(graph: Graph, svg: str) -> str:
    """dot titles each node with its id: the full name instead (the tooltip),
    and the node's kind as a class, as the built-in layout has them."""
    import re

    by_id = {n.id: n for n in graph.nodes}

    def named(match: re.Match[str]) -> str:
        n = by_id.get(match.group(1))
        if n is None:
            return match.group(0)
        return (f'<g id="n_{n.id}" class="node {n.kind}">\n'
                f"<title>{html.escape(n.label)}</title>")

    return re.sub(r'<g id="n_([^"]+)" class="node">\s*<title>[^<]*</title>', named, svg)


#: "auto" asks dot for graphs up to this many boxes: dot takes seconds beyond
#: (11 s for 1,000 plugins, 4,040 boxes), ckansig's own layout milliseconds
AUTO_DOT_MAX_NODES = 500


def graph_svg(graph: Graph, engine: str = "auto") -> str:
    """The picture alone: laid out by Graphviz ``dot`` (``engine`` "dot", or
    "auto" when it is installed and the graph has at most
    :data:`AUTO_DOT_MAX_NODES` boxes), else by the built-in layout ("builtin")."""
    if engine == "auto" and len(graph.nodes) > AUTO_DOT_MAX_NODES:
        engine = "builtin"
    if engine in ("auto", "dot"):
        from ckansig.output.graph_layout import dot_svg

        drawn = dot_svg(graph_dot(graph, ids=True))
        if drawn is not None:
            return _dot_nodes_named(graph, drawn).replace(
                "<svg ", '<svg class="ckansig-graph dot" ', 1)
        if engine == "dot":
            from ckansig.errors import UsageProblem

            raise UsageProblem("--layout dot: Graphviz's dot is not installed here "
                               "(apt install graphviz), or it failed", "--layout")
    return _builtin_svg(graph)


_PAGE_STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:1.5em;color:#222}
.bar{display:flex;gap:1em;align-items:center;flex-wrap:wrap;margin-bottom:.8em}
.legend span{display:inline-block;margin-right:.8em}
.legend i{display:inline-block;width:1em;height:.8em;border:1px solid #666;border-radius:3px;
margin-right:.3em;vertical-align:middle}
.ckansig-graph .node{cursor:pointer}
.ckansig-graph.focus .node,.ckansig-graph.focus .edge{opacity:.15}
.ckansig-graph.focus .hot{opacity:1}
.ckansig-graph.focus path.hot,.ckansig-graph.focus .edge.hot path{stroke:#c50;stroke-width:2}
.ckansig-graph.searching .node:not(.match){opacity:.2}
.ckansig-graph .match rect,.ckansig-graph .match polygon,.ckansig-graph .match ellipse,
.ckansig-graph .match path{stroke:#c50;stroke-width:2}
.ckansig-graph .hidden{display:none}
.ckansig-graph .collapsed rect,.ckansig-graph .collapsed polygon{stroke-dasharray:4 2}
"""

_PAGE_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById("ckansig-data").textContent);
  var svg = document.querySelector(".ckansig-graph");
  var byId = {}, near = {}, collapsed = {};
  data.nodes.forEach(function (n) { byId[n.id] = n; near[n.id] = []; });
  data.edges.forEach(function (e, i) {
    near[e[0]].push([e[1], i]); near[e[1]].push([e[0], i]);
  });
  function el(id) { return document.getElementById(id); }
  function nodeOf(target) {
    var g = target.closest ? target.closest("g.node") : null;
    return g && g.id.indexOf("n_") === 0 ? g.id.slice(2) : null;
  }
  svg.querySelectorAll("text[data-fit]").forEach(function (t) {
    var room = parseFloat(t.getAttribute("data-fit"));
    if (t.getComputedTextLength() > room) {
      t.setAttribute("textLength", room); t.setAttribute("lengthAdjust", "spacingAndGlyphs");
    }
  });
  function clear() {
    svg.classList.remove("focus");
    svg.querySelectorAll(".hot").forEach(function (x) { x.classList.remove("hot"); });
  }
  svg.addEventListener("mouseover", function (event) {
    var id = nodeOf(event.target); if (!id) { return; }
    clear(); svg.classList.add("focus"); el("n_" + id).classList.add("hot");
    near[id].forEach(function (pair) {
      var other = el("n_" + pair[0]), edge = el("e_" + pair[1]);
      if (other) { other.classList.add("hot"); }
      if (edge) { edge.classList.add("hot"); }
    });
  });
  svg.addEventListener("mouseout", function (event) { if (nodeOf(event.target)) { clear(); } });
  function apply() {
    data.nodes.forEach(function (n) {
      var hide = n.kind === "receiver" && collapsed[n.group];
      el("n_" + n.id).classList.toggle("hidden", !!hide);
      if (n.kind === "plugin") {
        el("n_" + n.id).classList.toggle("collapsed", !!collapsed[n.label]);
      }
    });
    data.edges.forEach(function (e, i) {
      var a = byId[e[0]], b = byId[e[1]];
      var hide = (b.kind === "receiver" && collapsed[b.group]) ||
                 (a.kind === "plugin" && collapsed[a.label]);
      var edge = el("e_" + i); if (edge) { edge.classList.toggle("hidden", !!hide); }
    });
    el("ckansig-collapsed").textContent = Object.keys(collapsed).filter(function (k) {
      return collapsed[k]; }).length + " collapsed";
  }
  svg.addEventListener("click", function (event) {
    var id = nodeOf(event.target); if (!id || byId[id].kind !== "plugin") { return; }
    collapsed[byId[id].label] = !collapsed[byId[id].label]; apply();
  });
  el("ckansig-expand").addEventListener("click", function () { collapsed = {}; apply(); });
  el("ckansig-collapse").addEventListener("click", function () {
    data.nodes.forEach(function (n) { if (n.kind === "plugin") { collapsed[n.label] = true; } });
    apply();
  });
  el("ckansig-search").addEventListener("input", function () {
    var q = this.value.trim().toLowerCase(), count = 0;
    svg.classList.toggle("searching", q.length > 0);
    data.nodes.forEach(function (n) {
      var hit = q.length > 0 && n.label.toLowerCase().indexOf(q) >= 0;
      el("n_" + n.id).classList.toggle("match", hit); if (hit) { count += 1; }
    });
    el("ckansig-found").textContent = q ? count + " found" : "";
  });
})();
"""


def graph_html(graph: Graph, title: str = "ckansig: signal wiring",
               engine: str = "auto") -> str:
    """A self-contained page (no network): the picture, a legend, a search
    box, plugins that collapse (their receivers hidden) on a click, and a
    signal's paths highlighted on hover."""
    import json

    picture = graph_svg(graph, engine)
    data = json.dumps({"nodes": [{"id": n.id, "label": n.label, "kind": n.kind,
                                  "group": n.group} for n in graph.nodes],
                       "edges": [[e.source, e.target] for e in graph.edges]},
                      ensure_ascii=True).replace("</", "<\\/")
    counts = ", ".join(f"{len(found)} {kind}(s)" for kind in ("send", "plugin", "signal",
                                                              "receiver")
                       if (found := [n for n in graph.nodes if n.kind == kind]))
    legend = "".join(f'<span><i style="background:{_FILL[kind]}"></i>{label}</span>'
                     for kind, label in (("plugin", "plugin"), ("send", "send site"),
                                         ("signal", "signal"), ("receiver", "receiver")))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_PAGE_STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>"
            f'<div class="bar"><input id="ckansig-search" type="search" '
            f'placeholder="search names" aria-label="search names">'
            f'<span id="ckansig-found"></span>'
            f'<button id="ckansig-collapse" type="button">collapse all plugins</button>'
            f'<button id="ckansig-expand" type="button">expand all</button>'
            f'<span id="ckansig-collapsed"></span>'
            f'<span class="legend">{legend}</span></div>'
            f"<p>{counts}; hover a box to see its paths, click a plugin to collapse "
            f"its receivers.</p>{picture}"
            f'<script type="application/json" id="ckansig-data">{data}</script>'
            f"<script>{_PAGE_SCRIPT}</script></body></html>\n")
