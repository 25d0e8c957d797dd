"""``ckansig graph``: the wiring map as Mermaid, dot and a self-contained page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ckansig.cli import main

from .conftest import ROOT


def graph(runner, *args: str) -> str:
    result = runner.invoke(main, ["-c", str(ROOT / "plugins.toml"), "graph", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_mermaid(runner) -> None:
    text = graph(runner, "--subscribed")
    assert text.startswith("flowchart LR\n")
    ids = dict(re.findall(r'^    (\w+)[\[(/]+"([^"]+)"', text, re.M))  # node lines only
    by_label = {label: ident for ident, label in ids.items()}
    custom = by_label["ckanext:custom_something_happened"]
    listener = by_label["ckanext.ext.listeners.custom_listener"]
    assert f"    {custom} --> {listener}" in text
    assert f"    {by_label['ckanext.ext.plugin:ExtPlugin']} --> {custom}" in text
    site = by_label["ckanext/custom/plugin.py:16"]  # the send site, read from source
    assert f'    {site} -->|"send"| {custom}' in text
    created = by_label["ckanext.ext.listeners.dataset_created"]
    assert f"""-->|"sender='package_create'"| {created}""" in text
    assert "ckanext/custom/plugin.py" not in graph(runner, "--subscribed", "--no-sends")


def test_filters_as_list(runner, clean_slate) -> None:
    text = graph(runner, "custom_*")
    assert "ckanext:custom_something_happened" in text and "ckan:user_created" not in text
    clean_slate.restore()  # each run loads afresh, as a new process would
    only = graph(runner, "--plugin", "ckanext.ext.audit")
    assert "ckanext.ext.audit.log_download" in only and "custom_listener" not in only


def test_dot(runner) -> None:
    text = graph(runner, "--subscribed", "--format", "dot")
    assert text.startswith("digraph ckansig {") and text.rstrip().endswith("}")
    assert 'label="ckanext:custom_something_happened", shape=ellipse' in text
    assert re.search(r'-> \w+ \[label="sender=\'package_create\'"\];', text)


def test_html_is_self_contained(runner, tmp_path: Path) -> None:
    page = tmp_path / "wiring.html"
    result = runner.invoke(main, ["-c", str(ROOT / "plugins.toml"), "graph", "--subscribed",
                                  "--format", "html", "-o", str(page)])
    assert result.exit_code == 0 and result.stdout == ""
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text
    # its script and data are inline: nothing is fetched
    assert "<script src" not in text and " src=" not in text and "http://" not in text.replace(
        'xmlns="http://www.w3.org/2000/svg"', "").replace(
        "http://www.w3.org/1999/xlink", "") and "https://" not in text
    assert "<title>ckanext.ext.listeners.custom_listener</title>" in text
    assert "4 plugin(s)" not in text and "3 plugin(s), 5 signal(s)" in text


def test_names_from_plugins_are_data(write_config, runner, tmp_path: Path) -> None:
    config = write_config("fx_markup:MarkupPlugin")
    for fmt in ("mermaid", "dot", "html"):
        result = runner.invoke(main, ["-c", str(config), "graph", "fx_markup*", "--format",
                                      fmt, "--no-sends"])
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
        assert "\\x1b[31m" in result.stdout
    html_page = runner.invoke(main, ["-c", str(config), "graph", "fx_markup*", "--format",
                                     "html", "--no-sends"]).stdout
    assert "[bold]loud[/bold]" in html_page and "<bold>" not in html_page


@given(st.text(alphabet='#quot;&"<>amp lt gt35', max_size=30))
def test_mermaid_escaping_is_unambiguous(name: str) -> None:
    from ckansig.output.graph_view import _mermaid_text

    escaped = _mermaid_text(name)
    assert '"' not in escaped and "<" not in escaped
    # Mermaid reads #name; and #number; as entities: decoding them gives the name back
    named = {"quot": '"', "amp": "&", "lt": "<", "gt": ">"}
    decoded = re.sub(r"#(\w+);", lambda m: named.get(m.group(1)) or chr(int(m.group(1))),
                     escaped)
    assert decoded == name.replace("\n", " ")


def test_send_site_labels_use_one_path_style(tmp_path: Path) -> None:
    from ckansig.output.graph_view import _tail

    for package in ("ckan/logic/action", "ckanext/fx/sub"):
        folder = tmp_path / package
        folder.mkdir(parents=True)
        for depth in range(len(package.split("/"))):
            part = tmp_path.joinpath(*package.split("/")[:depth + 1])
            if part.name != "ckanext":  # a namespace package: no __init__.py
                (part / "__init__.py").write_text("")
        (folder / "create.py").write_text("")
    assert _tail(str(tmp_path / "ckan/logic/action/create.py")) == "ckan/logic/action/create.py"
    assert _tail(str(tmp_path / "ckan/logic/__init__.py")) == "ckan/logic/__init__.py"
    assert _tail(str(tmp_path / "ckanext/fx/sub/create.py")) == "ckanext/fx/sub/create.py"
    (tmp_path / "loose.py").write_text("")
    assert _tail(str(tmp_path / "loose.py")) == f"{tmp_path.name}/loose.py"


def test_svg_is_the_picture_alone(runner) -> None:
    for layout in ("builtin", "auto"):
        text = graph(runner, "--subscribed", "--format", "svg", "--layout", layout)
        assert text.lstrip().startswith("<svg") and text.rstrip().endswith("</svg>")
        assert "ckanext.ext.listeners.dataset_created" in text


def _random_graph(draw: Any) -> Any:
    from ckansig.output.graph_view import Edge, Graph, Node

    plugins = [Node(f"p{i}", "plugin_" + "x" * draw(st.integers(0, 70)), "plugin")
               for i in range(draw(st.integers(1, 6)))]
    sends = [Node(f"d{i}", f"ckan/x.py:{i}", "send") for i in range(draw(st.integers(0, 3)))]
    signals = [Node(f"s{i}", f"sig_{i}", "signal") for i in range(draw(st.integers(1, 6)))]
    nodes, edges = plugins + sends + signals, []
    for index in range(draw(st.integers(0, 12))):
        signal = draw(st.sampled_from(signals))
        receiver = Node(f"r{index}", "recv_" + "y" * draw(st.integers(0, 90)), "receiver")
        nodes.append(receiver)
        edges.append(Edge(draw(st.sampled_from(plugins)).id, signal.id, ""))
        for sender in draw(st.lists(st.text("abc_", min_size=1, max_size=40), max_size=4)):
            edges.append(Edge(signal.id, receiver.id, f"sender={sender!r}"))
        else:
            edges.append(Edge(signal.id, receiver.id, ""))
    for send in sends:
        edges.append(Edge(send.id, draw(st.sampled_from(signals)).id, "send"))
    return Graph(nodes, list(dict.fromkeys(edges)))


@given(st.data())
def test_the_builtin_layout_never_overlaps_and_edges_keep_to_the_gaps(data: Any) -> None:
    from ckansig.output.graph_layout import LINE, PAD, layered

    graph = _random_graph(data.draw)
    layout = layered(graph)
    boxes = list(layout.boxes.values())
    assert len(boxes) == len(graph.nodes)
    for index, a in enumerate(boxes):
        assert a.x >= 0 and a.x + a.width <= layout.width
        assert a.y >= 0 and a.y + a.height <= layout.height
        assert a.height >= len(a.lines) * LINE + PAD
        for b in boxes[index + 1:]:
            apart = (a.x + a.width <= b.x or b.x + b.width <= a.x or
                     a.y + a.height <= b.y or b.y + b.height <= a.y)
            assert apart, (a, b)
    for source, target, d in layout.paths:
        # the curve runs between the source column's right edge and the target's left
        numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
        xs = [*numbers[0::2][:1], numbers[2], *numbers[3::2]]
        head = layout.boxes[target]
        assert max(xs) <= head.x + 0.05
        column_of = {b.x for b in boxes if b.node.kind == layout.boxes[source].node.kind}
        others = [b for b in boxes if b.x in column_of and b.node.id != source]
        assert all(b.x + b.width <= numbers[2] + 0.05 for b in others)
