"""``ckansig graph --format html`` in a real headless Chromium (marker
``browser``): on a generated config of 50 plugins and on CKAN's activity
plugin (six sender-filtered receivers on ``action_succeed``), laid out by
Graphviz ``dot`` and by the built-in layout, the boxes and labels the browser
draws never overlap, every edge of the built-in layout keeps out of every box,
everything is inside the picture, and hover, search and collapsing work.
Screenshots are saved in ``$CKANSIG_ARTIFACTS`` for the docs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .test_browser import ARTIFACTS, browser, pytestmark
from .test_ckan import generated_ini

__all__ = ["browser", "pytestmark"]

SIGNALS = 12


def fifty_plugins(folder: Path) -> Path:
    """A module of 50 plugins, each receiving three of 12 signals, some for
    particular senders (one with a long name), and its plugins.toml."""
    lines = ["import ckansig.plugins as p", "",
             f"SIGNALS = [p.toolkit.signals.ckanext.signal(f'fx_gen:signal_{{i}}') "
             f"for i in range({SIGNALS})]", ""]
    for index in range(50):
        lines += [f"class Plugin{index:02d}(p.SingletonPlugin):",
                  "    p.implements(p.ISignal)", "",
                  "    def get_signal_subscriptions(self):",
                  f"        return {{SIGNALS[{index % SIGNALS}]: [self.on_first],",
                  f"                SIGNALS[{(index + 1) % SIGNALS}]: "
                  f"[{{'sender': 'package_create', 'receiver': self.on_second}},",
                  f"                    {{'sender': 'a_rather_long_sender_name_{index}', "
                  f"'receiver': self.on_second}}],",
                  f"                SIGNALS[{(index + 5) % SIGNALS}]: [self.on_third]}}", "",
                  "    def on_first(self, sender, **kwargs):", "        return 1", "",
                  "    def on_second(self, sender, **kwargs):", "        return 2", "",
                  "    def on_third(self, sender, **kwargs):", "        return 3", ""]
    (folder / "fx_gen.py").write_text("\n".join(lines))
    plugins = ", ".join(f'"fx_gen:Plugin{index:02d}"' for index in range(50))
    config = folder / "plugins.toml"
    config.write_text(f'[ckansig]\npaths = ["."]\nplugins = [{plugins}]\n')
    return config


GEOMETRY = """
const svg = document.querySelector('.ckansig-graph');
const box = r => ({x: r.left, y: r.top, right: r.right, bottom: r.bottom});
const shapes = [...svg.querySelectorAll('g.node')].map(g => {
  const shape = g.querySelector('rect, polygon, ellipse, path');
  return {id: g.id, box: box(shape.getBoundingClientRect()),
          texts: [...g.querySelectorAll('text')].map(t => box(t.getBoundingClientRect()))};
});
const labels = [...svg.querySelectorAll('g.edge text')].map(t => box(t.getBoundingClientRect()));
const picture = box(svg.getBoundingClientRect());
const matrix = svg.getScreenCTM();
const edges = [...svg.querySelectorAll('path.edge, g.edge path')].map(p => {
  const points = [], length = p.getTotalLength();
  const m = p.getScreenCTM();
  for (let i = 1; i < 40; i++) {
    const q = p.getPointAtLength(length * i / 40);
    points.push([q.x * m.a + q.y * m.c + m.e, q.x * m.b + q.y * m.d + m.f]);
  }
  return {id: p.id || p.parentNode.id, points: points};
});
return {shapes: shapes, labels: labels, picture: picture, edges: edges};
"""


def overlap(a: dict[str, float], b: dict[str, float], slack: float = 0.5) -> bool:
    return (a["x"] < b["right"] - slack and b["x"] < a["right"] - slack
            and a["y"] < b["bottom"] - slack and b["y"] < a["bottom"] - slack)


def inside(inner: dict[str, float], outer: dict[str, float], slack: float = 1.0) -> bool:
    return (inner["x"] >= outer["x"] - slack and inner["right"] <= outer["right"] + slack
            and inner["y"] >= outer["y"] - slack and inner["bottom"] <= outer["bottom"] + slack)


def check_geometry(found: dict[str, Any], builtin: bool) -> None:
    shapes, labels, picture = found["shapes"], found["labels"], found["picture"]
    assert shapes
    boxes = [s["box"] for s in shapes]
    texts = [t for s in shapes for t in s["texts"]] + labels
    for index, a in enumerate(boxes):
        assert inside(a, picture), ("outside the picture", shapes[index]["id"])
        for b in boxes[index + 1:]:
            assert not overlap(a, b), ("boxes overlap", a, b)
    for shape in shapes:
        for text in shape["texts"]:
            assert inside(text, shape["box"], slack=2.0), ("text outside its box", shape["id"])
    for index, a in enumerate(texts):
        for b in texts[index + 1:]:
            assert not overlap(a, b, slack=1.0), ("labels overlap", a, b)
    for label in labels:
        for b in boxes:
            assert not overlap(label, b, slack=1.0), ("an edge label on a box", label, b)
    if builtin:  # its promise: no edge passes through a box
        for edge in found["edges"]:
            for x, y in edge["points"]:
                for b in boxes:
                    assert not (b["x"] + 1 < x < b["right"] - 1 and b["y"] + 1 < y
                                < b["bottom"] - 1), ("an edge through a box", edge["id"], b)


def draw(config_args: list[str], page: Path, layout: str) -> None:
    done = subprocess.run([sys.executable, "-m", "ckansig", *config_args, "graph", "--format",
                           "html", "--layout", layout, "-o", str(page)],
                          capture_output=True, text=True, timeout=300, cwd=page.parent)
    assert done.returncode == 0, done.stderr[-2000:]


def open_graph(browser: Any, config_args: list[str], folder: Path, layout: str) -> None:
    """Draw the graph page of ``config_args`` into ``folder`` and open it in ``browser``."""
    page = folder / "graph.html"
    draw(config_args, page, layout)
    browser.get(page.as_uri())


def keep_screenshot(browser: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / name))


LAYOUTS = ["builtin"] + (["dot"] if shutil.which("dot") else [])


@pytest.mark.parametrize("layout", LAYOUTS)
def test_fifty_plugins_nothing_overlaps(browser: Any, tmp_path: Path, layout: str) -> None:
    open_graph(browser, ["-c", str(fifty_plugins(tmp_path))], tmp_path, layout)
    found = browser.execute_script(GEOMETRY)
    data = browser.execute_script(
        "return JSON.parse(document.getElementById('ckansig-data').textContent)")
    kinds = [n["kind"] for n in data["nodes"]]
    assert (kinds.count("plugin"), kinds.count("receiver")) == (50, 150)
    assert len(found["shapes"]) == len(kinds)  # every node drawn
    check_geometry(found, builtin=layout == "builtin")
    keep_screenshot(browser, f"graph-50-plugins-{layout}.png")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_activitys_sender_filtered_receivers_are_readable(browser: Any, tmp_path: Path,
                                                          layout: str) -> None:
    base = generated_ini(tmp_path / "base.ini")
    ini = tmp_path / "ckan.ini"
    ini.write_text(f"[app:main]\nuse = config:{base}\nckan.plugins = activity\n")
    open_graph(browser, ["--ckan-ini", str(ini)], tmp_path, layout)
    check_geometry(browser.execute_script(GEOMETRY), builtin=layout == "builtin")
    keep_screenshot(browser, f"graph-activity-{layout}.png")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_hover_search_and_collapse(browser: Any, tmp_path: Path, layout: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    open_graph(browser, ["-c", str(fifty_plugins(tmp_path))], tmp_path, layout)
    signal = browser.find_element(By.XPATH, "//*[local-name()='g'][contains(@class,'signal')]"
                                  "[*[local-name()='title'][text()='ckanext:fx_gen:signal_0']]")
    ActionChains(browser).move_to_element(signal).perform()
    hot = browser.execute_script(
        "return [...document.querySelectorAll('.hot')].map(e => e.id)")
    # signal_0: received by plugins 0, 11 (second, for two senders: one box), 24, 36, 48...
    assert signal.get_attribute("id") in hot and any(h.startswith("e_") for h in hot)
    assert "focus" in browser.find_element(By.CSS_SELECTOR, ".ckansig-graph").get_attribute(
        "class")
    search = browser.find_element(By.ID, "ckansig-search")
    search.send_keys("Plugin07")
    assert browser.find_element(By.ID, "ckansig-found").text == "4 found"  # and 3 receivers
    search.clear()
    search.send_keys("x")  # clear() fires no input event: type, then erase
    search.send_keys("\b")
    before = browser.execute_script(
        "return document.querySelectorAll('g.node.receiver:not(.hidden)').length")
    plugin = browser.find_element(By.XPATH, "//*[local-name()='g'][contains(@class,'plugin')]"
                                  "[*[local-name()='title'][text()='fx_gen:Plugin07']]")
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', "
                           "{bubbles: true}))", plugin)
    after = browser.execute_script(
        "return document.querySelectorAll('g.node.receiver:not(.hidden)').length")
    assert before - after == 3  # Plugin07's three receivers
    browser.find_element(By.ID, "ckansig-expand").click()
    assert browser.execute_script(
        "return document.querySelectorAll('g.node.receiver:not(.hidden)').length") == before
