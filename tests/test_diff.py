"""``ckansig diff``: two sides (saved JSON, plugins.toml, ckan.ini in the CKAN
tests), what it reports, its formats and exit codes, bad sides, and
properties of the comparison on generated documents."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckansig.cli import main
from ckansig.diffing import Side, compare

from .conftest import FIXTURES


def config(folder: Path, *plugins: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "plugins.toml"
    path.write_text(f"[ckansig]\npaths = [{json.dumps(str(FIXTURES))}]\n"
                    f"plugins = {json.dumps(list(plugins))}\n")
    return path


def saved(runner, path: Path, toml: Path, *extra: str) -> Path:
    result = runner.invoke(main, ["list", "--format", "json", "-c", str(toml), *extra])
    path.write_text(result.stdout)
    return path


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ckansig", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(FIXTURES)})


@pytest.fixture
def sides(tmp_path: Path, runner, clean_slate) -> tuple[Path, Path]:
    before = saved(runner, tmp_path / "before.json",
                   config(tmp_path / "a", "fx_diff:Before"), "--findings")
    clean_slate.restore()
    after = saved(runner, tmp_path / "after.json",
                  config(tmp_path / "b", "fx_diff:After", "fx_nowhere", "fx_provider"),
                  "--findings")
    return before, after


def test_what_changed_between_two_saved_documents(sides: tuple[Path, Path], runner) -> None:
    before, after = sides
    result = runner.invoke(main, ["diff", str(before), str(after), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["changed"] is True
    assert document["signals"] == {"added": ["ckanext:fx_provider_ready"], "removed": []}
    receivers = document["receivers"]
    assert [(r["signal"], r["receiver"]) for r in receivers["added"]] == [
        ("ckanext:fx_diff_custom", "fx_diff.on_custom")]
    assert [(r["signal"], r["receiver"]) for r in receivers["removed"]] == [
        ("ckan:failed_login", "fx_diff.mutates"), ("ckan:user_created", "fx_diff.on_user")]
    [changed] = receivers["changed"]
    assert changed["what"] == ['sender "package_create" -> "package_update"',
                               "plugin fx_diff:Before -> fx_diff:After"]
    assert changed["before"]["plugin"] == "fx_diff:Before"
    findings = document["findings"]
    assert findings["compared"] is True
    assert [(p["id"], p["plugin"]) for p in findings["new"]] == [("SIG001", "fx_nowhere")]
    # failed_login sends no data_dict: the receiver both reads and changes what is not there
    assert [(p["id"], p["receiver"]) for p in findings["fixed"]] == [
        ("SIG016", "fx_diff.mutates")] * 2
    same = runner.invoke(main, ["diff", str(before), str(before), "--fail-on-change"])
    assert same.exit_code == 0 and "no change in signal wiring" in same.stdout
    failing = runner.invoke(main, ["diff", str(before), str(after), "--fail-on-change"])
    assert failing.exit_code == 1


def test_text_and_markdown(sides: tuple[Path, Path], runner) -> None:
    before, after = sides
    text = runner.invoke(main, ["diff", str(before), str(after)]).stdout
    assert "+ ckanext:fx_diff_custom > fx_diff.on_custom (fx_diff:After, sender ANY)" in text
    assert '~ ckan:action_succeed > fx_diff.on_action: sender "package_create" -> ' \
        '"package_update"; plugin fx_diff:Before -> fx_diff:After' in text
    assert "fixed: SIG016" in text
    assert text.rstrip().endswith(
        "1 signal(s) added, 1 receiver(s) added, 2 receiver(s) removed, 1 receiver(s) "
        "changed, 1 new finding(s), 2 finding(s) fixed")
    markdown = runner.invoke(main, ["diff", str(before), str(after), "-f", "markdown"]).stdout
    assert markdown.startswith("### ckansig: signal wiring")
    assert "| added | ckanext:fx\\_diff\\_custom | fx\\_diff.on\\_custom |" in markdown
    assert "| new | SIG001 | error | fx\\_nowhere |" in markdown


def test_documents_without_findings_compare_load_errors(tmp_path: Path, runner,
                                                        clean_slate) -> None:
    before = saved(runner, tmp_path / "before.json", config(tmp_path / "a", "fx_diff:Before"))
    clean_slate.restore()
    after = saved(runner, tmp_path / "after.json",
                  config(tmp_path / "b", "fx_diff:Before", "fx_nowhere"))
    document = json.loads(runner.invoke(main, ["diff", str(before), str(after), "-f",
                                               "json"]).stdout)
    assert document["findings"] == {"compared": False, "new": [], "fixed": []}
    assert [e["plugin"] for e in document["errors"]["new"]] == ["fx_nowhere"]
    text = runner.invoke(main, ["diff", str(before), str(after)]).stdout
    assert "findings not compared" in text


def test_config_sides_load_in_their_own_process(tmp_path: Path) -> None:
    a = config(tmp_path / "a", "fx_diff:Before")
    b = config(tmp_path / "b", "fx_diff:After")
    (tmp_path / "plugins.toml").write_text('[ckansig]\nplugins = ["fx_nowhere"]\n')  # ignored
    done = run("diff", str(a), str(b), "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["findings"]["compared"] is True
    assert document["findings"]["new"] == []
    assert [r["receiver"] for r in document["receivers"]["added"]] == ["fx_diff.on_custom"]
    assert document["a"] == str(a)


@pytest.mark.parametrize(("content", "name", "message"), [
    (None, "missing.json", "cannot read it"),
    ("{not json", "bad.json", "bad.json:1: not JSON"),
    ('{"version": 1}', "other.json", "not a 'ckansig list --format json' document"),
    ('{"signals": [{"name": 3}], "errors": []}', "odd.json", "signals[0] is not a signal"),
    ('[ckansig]\nplugins = "fx_good"\n', "plugins.toml", "cannot load it: "),
])
def test_a_side_that_cannot_be_read(tmp_path: Path, content: str | None, name: str,
                                    message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    good = tmp_path / "good.json"
    good.write_text('{"signals": [], "errors": []}')
    done = run("diff", str(path), str(good), cwd=tmp_path)
    assert done.returncode == 2, done
    assert done.stdout == "" and "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert message in line and name in line


# -- properties ---------------------------------------------------------------------

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8)
_receivers = st.lists(st.fixed_dictionaries({
    "receiver": _text, "plugin": st.one_of(st.none(), _text),
    "sender": st.one_of(st.none(), _text, st.integers()),
    "sender_type": st.sampled_from(["ANY", "str", "int"]), "alive": st.booleans()}),
    max_size=4)
_documents = st.fixed_dictionaries({
    "signals": st.lists(st.fixed_dictionaries({
        "namespace": st.sampled_from(["ckan", "ckanext", None]), "name": _text,
        "present": st.booleans(), "receivers": _receivers}), max_size=5),
    "errors": st.lists(st.fixed_dictionaries({"plugin": _text, "kind": _text}), max_size=2),
    "problems": st.lists(st.fixed_dictionaries({
        "id": st.sampled_from(["SIG001", "SIG006"]), "severity": st.just("error"),
        "plugin": _text, "silenced": st.none()}), max_size=3),
})


@given(a=_documents, b=_documents)
@settings(max_examples=200, deadline=None)
def test_a_diff_and_its_reverse_mirror_each_other(a: dict, b: dict) -> None:
    forward, backward = compare(Side("a", a), Side("b", b)), compare(Side("b", b), Side("a", a))
    assert forward.signals_added == backward.signals_removed
    assert forward.receivers_added == backward.receivers_removed
    assert [(y, x) for x, y in forward.receivers_changed] == backward.receivers_changed
    assert forward.findings_new == [p for p in forward.findings_new]
    assert len(forward.findings_new) - len(forward.findings_fixed) == \
        len(b["problems"]) - len(a["problems"])
    assert forward.changed == backward.changed
    assert not compare(Side("a", a), Side("a", a)).changed


# -- hostile sides (issue 23 §3) -----------------------------------------------------

@pytest.mark.parametrize(("content", "message"), [
    ('{"signals": [], "errors": [1, 2]}', "errors is not a list of load errors"),
    ('{"signals": [], "errors": [], "problems": [{"id": 5}]}', "problems is not a list"),
    ('{"signals": [], "errors": [], "n": ' + "9" * 5000 + "}", "not JSON ckansig can read"),
    ('{"signals": [], "errors": [], "deep": ' + "[" * 100_000 + "]" * 100_000 + "}",
     "not JSON ckansig can read"),
])
def test_a_hostile_document_is_a_one_line_usage_error(tmp_path: Path, content: str,
                                                      message: str) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(content)
    good = tmp_path / "good.json"
    good.write_text('{"signals": [], "errors": []}')
    for args in ([str(path), str(good)], [str(path), str(good), "--fail-on-change"]):
        done = run("diff", *args, cwd=tmp_path)
        assert done.returncode == 2, done  # never 1, the code of "changed"
        [line] = done.stderr.splitlines()
        assert message in line and "hostile.json" in line


_json = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=4)),
                     lambda inner: st.one_of(st.lists(inner, max_size=3),
                                             st.dictionaries(st.text(max_size=3), inner,
                                                             max_size=3)), max_leaves=8)


@given(plugin=_json, namespace=_json, kind=_json, signal=_json)
@settings(max_examples=150, deadline=None)
def test_any_json_where_names_are_expected_compares(plugin, namespace, kind, signal) -> None:
    document = {"signals": [{"name": "s", "namespace": namespace, "receivers": [
        {"receiver": "r", "plugin": plugin, "sender": plugin}]}],
        "errors": [{"plugin": plugin, "kind": kind, "signal": signal}],
        "problems": [{"id": "SIG001", "plugin": plugin, "signal": signal}]}
    from ckansig.diffing import _checked

    side = Side("a", _checked(document, "a"))
    diff = compare(side, Side("b", _checked({"signals": [], "errors": []}, "b")))
    assert diff.changed
    from ckansig import output

    json.dumps(output.diff_json(diff))  # renders


def test_pipes_are_sides(tmp_path: Path, sides: tuple[Path, Path]) -> None:
    before, after = sides
    script = f'{sys.executable} -m ckansig diff {before} <(cat {after}) --format json'
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ,
                                                       "PYTHONPATH": str(FIXTURES)})
    assert done.returncode == 0, done.stderr
    piped = json.loads(done.stdout)
    assert piped["receivers"]["added"]  # the same diff as from the files
    stdin = subprocess.run([sys.executable, "-m", "ckansig", "diff", str(before), "/dev/stdin",
                            "--format", "json"], input=after.read_text(), cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert stdin.returncode == 0, stdin.stderr
    assert json.loads(stdin.stdout)["receivers"] == piped["receivers"]


def test_a_named_fifo_without_a_writer_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "side.json"
    os.mkfifo(fifo)
    good = tmp_path / "good.json"
    good.write_text('{"signals": [], "errors": []}')
    done = run("diff", str(fifo), str(good), cwd=tmp_path)  # run()'s own timeout: 120 s
    assert done.returncode == 2
    assert "nothing came through the pipe for 5 s" in done.stderr


def test_a_sides_stderr_is_kept_bounded(tmp_path: Path) -> None:
    # a plugin that writes 40 MB to stderr while loading: diff keeps the tail only
    (tmp_path / "fx_loud.py").write_text(
        "import sys\nsys.stderr.write('x' * 40_000_000 + '\\n')\n"
        "from ckansig.plugins import SingletonPlugin\n"
        "class Loud(SingletonPlugin):\n    pass\n")
    side = tmp_path / "plugins.toml"
    side.write_text(f'[ckansig]\npaths = ["{tmp_path}"]\nplugins = ["fx_loud:Loud"]\n')
    good = tmp_path / "good.json"
    good.write_text('{"signals": [], "errors": []}')
    done = run("diff", str(side), str(good), "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-500:]
    assert len(done.stderr) < 1_000_000
