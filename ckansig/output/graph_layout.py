"""Where ``ckansig graph`` draws each box and edge: Graphviz ``dot`` when it
is installed (called once, for SVG), else a layered layout of its own with the
same guarantees.

The built-in layout has three layers, left to right: the sources (plugins and
send sites), the signals, the receivers. Every edge joins two neighbouring
layers. Within a layer boxes are stacked with a gap, so no two overlap; the
receivers of a signal are stacked together, in the order of the signals, and
each signal is level with the first of its receivers; the sources are ordered
by the mean position of the signals they point to, which keeps edges from
crossing where it can. An edge leaves its box to the right edge of its
layer's column, crosses the gap between the two columns as a curve, and ends
on the left edge of the next column, where its target box begins: it passes
through no box. A receiver's sender filters are lines of its own box, not
labels on edges, so they are never stacked on one another.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ckansig.output.graph_view import Graph, Node

__all__ = ["Box", "Layout", "dot_svg", "layered"]

#: px per character of the 12px sans-serif text, a generous average (the page
#: also shrinks a text that is wider than its box, once the browser measured it)
CHAR = 7.2
LINE = 15.0
PAD = 8.0
GAP = 8.0
COLUMN_GAP = 90.0
MAX_CHARS = 64
LAYER = {"plugin": 0, "send": 0, "signal": 1, "receiver": 2}


class Box(NamedTuple):
    """A node's box: top-left corner, size, and the lines of text it holds."""

    node: Node
    x: float
    y: float
    width: float
    height: float
    lines: list[str]


class Layout(NamedTuple):
    width: float
    height: float
    boxes: dict[str, Box]
    #: one SVG path per edge: (source id, target id, the path's ``d``)
    paths: list[tuple[str, str, str]]
    #: the left edge and width of each column, for the column titles
    columns: list[tuple[float, float]]


def shown(text: str) -> str:
    """``text`` cut to :data:`MAX_CHARS`, keeping its end (a dotted name's
    most telling part)."""
    return text if len(text) <= MAX_CHARS else "…" + text[-(MAX_CHARS - 1):]


def _lines(node: Node, filters: list[str]) -> list[str]:
    lines = [shown(node.label)]
    line = "for"
    for index, item in enumerate(filters):  # wrapped between senders where it can be
        item += "," if index < len(filters) - 1 else ""
        if len(line) + 1 + len(item) > MAX_CHARS and line != "for":
            lines.append(line)
            line = ""
        line = f"{line} {item}".lstrip()
        while len(line) > MAX_CHARS:
            lines.append(line[:MAX_CHARS])
            line = line[MAX_CHARS:]
    if filters:
        lines.append(line)
    return lines


def layered(graph: Graph) -> Layout:
    """The built-in layout of ``graph`` (see the module's docstring)."""
    by_id = {n.id: n for n in graph.nodes}
    filters: dict[str, list[str]] = {}
    targets: dict[str, list[str]] = {}
    for e in graph.edges:
        if e.target not in targets.setdefault(e.source, []):
            targets[e.source].append(e.target)
        if e.label and by_id[e.target].kind == "receiver":
            filters.setdefault(e.target, []).append(e.label.removeprefix("sender="))
    layers: list[list[Node]] = [[], [], []]
    for n in graph.nodes:
        layers[LAYER[n.kind]].append(n)
    # receivers grouped under their signal (each receiver node has one)
    receivers_of = {s.id: [t for t in targets.get(s.id, []) if by_id[t].kind == "receiver"]
                    for s in layers[1]}
    order = {n.id: index for index, n in enumerate(layers[1])}
    for _ in range(2):  # sources by their signals, signals by their sources
        layers[0].sort(key=lambda n: _mean([order[t] for t in targets.get(n.id, [])
                                            if t in order], order_of_missing=len(order)))
        rank = {n.id: index for index, n in enumerate(layers[0])}
        sources_of: dict[str, list[int]] = {}
        for source in layers[0]:
            for t in targets.get(source.id, []):
                sources_of.setdefault(t, []).append(rank[source.id])
        layers[1].sort(key=lambda n: _mean(sources_of.get(n.id, []),
                                           order_of_missing=len(rank)))
        order = {n.id: index for index, n in enumerate(layers[1])}
    placed_receivers = {r for rs in receivers_of.values() for r in rs}
    layers[2] = [by_id[r] for s in layers[1] for r in receivers_of[s.id]] + [
        n for n in layers[2] if n.id not in placed_receivers]
    lines = {n.id: _lines(n, filters.get(n.id, [])) for n in graph.nodes}
    widths = [max((len(line) for n in layer for line in lines[n.id]), default=0) * CHAR
              + 2 * PAD for layer in layers]
    lefts, x = [], 20.0
    for width in widths:
        lefts.append(x)
        x += width + COLUMN_GAP if width > 2 * PAD else 0
    boxes: dict[str, Box] = {}
    top = 40.0

    def box(n: Node, y: float) -> Box:
        layer = LAYER[n.kind]
        text = lines[n.id]
        found = boxes[n.id] = Box(n, lefts[layer], y, max(len(t) for t in text) * CHAR + 2 * PAD,
                                  len(text) * LINE + PAD, text)
        return found

    y = top
    for n in layers[2]:
        y = box(n, y).y + boxes[n.id].height + GAP
    y = top
    for n in layers[1]:  # level with its first receiver, below the signal before it
        first = receivers_of[n.id][0] if receivers_of[n.id] else None
        y = max(y, boxes[first].y if first else y)
        y = box(n, y).y + boxes[n.id].height + GAP
    y = top
    for n in layers[0]:
        y = box(n, y).y + boxes[n.id].height + GAP
    paths = []
    for e in graph.edges:
        tail, head = boxes[e.source], boxes[e.target]
        column_right = lefts[LAYER[tail.node.kind]] + widths[LAYER[tail.node.kind]]
        start_y, end_y = tail.y + tail.height / 2, head.y + head.height / 2
        middle = (column_right + head.x) / 2
        paths.append((e.source, e.target,
                      f"M{tail.x + tail.width:.1f},{start_y:.1f} H{column_right:.1f} "
                      f"C{middle:.1f},{start_y:.1f} {middle:.1f},{end_y:.1f} "
                      f"{head.x:.1f},{end_y:.1f}"))
    width = max((b.x + b.width for b in boxes.values()), default=200.0) + 20
    height = max((b.y + b.height for b in boxes.values()), default=60.0) + 20
    columns = [(lefts[i], widths[i]) for i in range(3) if layers[i]]
    return Layout(width, height, boxes, paths, columns)


def _mean(values: list[int], order_of_missing: int) -> float:
    return sum(values) / len(values) if values else float(order_of_missing)


def dot_svg(dot_source: str, timeout: float = 60.0) -> str | None:
    """``dot -Tsvg`` of ``dot_source``, or None when Graphviz is not installed
    (or fails: the built-in layout is drawn instead)."""
    dot = shutil.which("dot")
    if dot is None:
        return None
    try:
        done = subprocess.run([dot, "-Tsvg"], input=dot_source, capture_output=True,
                              text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 or "<svg" not in done.stdout:
        return None
    return done.stdout[done.stdout.index("<svg"):]
