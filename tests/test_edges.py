"""Issue #23's rough edges, each class with more than one case: a JSON option's
errors name that option, and writing graph output where it cannot be written
is a usage error (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckansig.cli import main


@pytest.mark.parametrize(("args", "stdin", "named"), [
    (["call", "organization_create", "--data", "{bad"], None, "--data"),
    (["call", "organization_create", "--data", "-"], "{bad", "--data from stdin"),
    (["call", "organization_create", "--data", "[1]"], None, "--data"),  # not an object
    (["fire", "user_created", "--kwargs", "{bad"], None, "--kwargs"),
    (["fire", "user_created", "--kwargs", "-"], "[1, 2]", "--kwargs from stdin"),
])
def test_a_json_options_errors_name_that_option(runner, args: list[str], stdin: str | None,
                                                named: str) -> None:
    result = runner.invoke(main, args, input=stdin)
    assert result.exit_code == 2, result.output
    option = named.split()[0]
    assert f"Invalid value for '{option}': {named}: " in result.stderr
    other = "--kwargs" if option == "--data" else "--data"
    assert other not in result.stderr


@pytest.mark.parametrize("where", ["missing folder", "a folder"])
def test_graph_output_that_cannot_be_written_is_a_usage_error(runner, tmp_path: Path,
                                                              where: str) -> None:
    target = tmp_path / "missing" / "graph.html" if where == "missing folder" else tmp_path
    result = runner.invoke(main, ["graph", "--format", "html", "-o", str(target)])
    assert result.exit_code == 2, result.output
    assert "'-o' / '--output'" in result.stderr and str(target) in result.stderr


@pytest.mark.parametrize(("pattern", "sends", "said"), [
    ("user_*", "ns.signal('other').send('x')", "no send matched --signal 'user_*'"),
    ("nothing", "ns.signal('other').send('x')", "no send matched --signal 'nothing'"),
    (None, "pass", "no signal was sent"),
])
def test_trace_says_whether_nothing_matched_or_nothing_was_sent(
        tmp_path: Path, pattern: str | None, sends: str, said: str) -> None:
    import os
    import subprocess
    import sys

    script = tmp_path / "program.py"
    script.write_text(f"from blinker import Namespace\nns = Namespace()\n{sends}\n")
    done = subprocess.run(
        [sys.executable, "-m", "ckansig", "trace", *(["--signal", pattern] if pattern else []),
         "--", sys.executable, str(script)], capture_output=True, text=True, timeout=60,
        cwd=tmp_path, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    assert said in done.stderr


ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("args", "said"), [
    (["usr_created"], "no signal matches 'usr_created'; closest: user_created"),
    (["--namespace", "ckanx"], "no signal in namespace 'ckanx' (namespaces: ckan, ckanext)"),
    (["--plugin", "ckanext.ext.plugin:ExtPlugn"],
     "no plugin named 'ckanext.ext.plugin:ExtPlugn'; closest: ckanext.ext.plugin:ExtPlugin"),
    (["--plugin", "ckanext.ext.plugin:ExtPlugin", "user_created"],
     "plugin 'ckanext.ext.plugin:ExtPlugin' has no receiver on the signals selected"),
    (["zzzzzz", "--format", "json"], "no signal matches 'zzzzzz'"),
])
def test_list_filters_that_match_nothing_say_so(runner, monkeypatch: pytest.MonkeyPatch,
                                                args: list[str], said: str) -> None:
    monkeypatch.chdir(ROOT)  # the bundled example
    result = runner.invoke(main, ["list", *args])
    assert result.exit_code == 0, result.output
    assert said in result.stderr
    if "json" in args:
        import json

        assert json.loads(result.stdout)["signals"] == []  # stdout stays a document


def test_list_filters_that_match_say_nothing(runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for args in (["user_created"], ["--namespace", "ckan"], ["--subscribed", "datastore"]):
        result = runner.invoke(main, ["list", *args])
        assert result.exit_code == 0 and "ckansig: no" not in result.stderr, args


@pytest.mark.parametrize("has_main", [False, True])
def test_trace_of_a_folder_named_like_a_script(tmp_path: Path, has_main: bool) -> None:
    import subprocess
    import sys

    folder = tmp_path / "x.py"
    folder.mkdir()
    if has_main:
        (folder / "__main__.py").write_text("print('main ran')\n")
    done = subprocess.run([sys.executable, "-m", "ckansig", "trace", "--", str(folder)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr
    if has_main:  # python runs a folder's __main__.py: so does trace
        assert done.returncode == 0 and "main ran" in done.stdout
    else:  # one line, as python says it, and python's exit status
        assert done.returncode == 1
        assert f"can't find '__main__' module in {str(folder)!r}" in done.stderr


def test_a_comment_that_silences_nothing_fails_doctor(runner, write_config) -> None:
    # an ID no check has, a missing bracket, prose: each silences nothing, each is
    # an error, and doctor exits 1 (a CI that trusted the comment would pass wrongly)
    config = write_config("fx_doc:BadComments")
    result = runner.invoke(main, ["-c", str(config), "doctor", "--format", "json"])
    assert result.exit_code == 1, result.output
    import json

    found = [p for p in json.loads(result.stdout)["problems"] if p["id"] == "SIG017"]
    assert {p["severity"] for p in found} == {"error"} and len(found) == 3
    assert any("SIG099" in p["message"] for p in found)


@pytest.mark.parametrize(("args", "stdin", "source"), [
    (["fire", "user_created", "--kwargs", "@/dev/zero"], None, "/dev/zero"),
    (["fire", "user_created", "--kwargs", "-"], "[" * 1_500_000, "--kwargs from stdin"),
    (["call", "status_show", "--data", "-"], " " * 1_500_000, "--data from stdin"),
])
def test_json_options_read_at_most_the_limit(runner, args: list[str], stdin: str | None,
                                             source: str) -> None:
    result = runner.invoke(main, [*args, "--max-input-size", "1"], input=stdin)
    assert result.exit_code == 2, result.output
    assert f"{source}: more than 1 MB (the limit; --max-input-size MB raises it)" in \
        result.stderr
    assert "Traceback" not in result.output


@given(st.integers(min_value=0, max_value=40))
@settings(max_examples=25, deadline=None)
def test_the_limit_is_exact(padding: int) -> None:
    # a document of exactly the limit is read; one character more is refused
    import click

    from ckansig.cli.params import JsonObject

    document = '{"a": 1}' + " " * padding
    limit = len(document)
    ctx = click.Context(click.Command("x"))
    ctx.meta["ckansig.max_input_mb"] = 1
    import io
    import sys

    parser = JsonObject()
    old = sys.stdin
    try:
        sys.stdin = io.StringIO(document + " " * (1_000_000 - limit))
        assert parser.convert("-", None, ctx) == {"a": 1}
        sys.stdin = io.StringIO(document + " " * (1_000_000 - limit + 1))
        with pytest.raises(click.BadParameter, match="more than 1 MB"):
            parser.convert("-", None, ctx)
    finally:
        sys.stdin = old


@pytest.mark.parametrize("signal", ["fx_mv_cycle", "fx_mv_objects", "fx_mv_raising"])
@pytest.mark.parametrize("strict", [False, True])
def test_values_that_break_copying_or_comparing_blame_only_who_did_it(
        runner, write_config, signal: str, strict: bool) -> None:
    import json

    config = write_config("fx_mutating_values:MutatingValuesPlugin")
    args = ["-c", str(config), "fire", signal, "--kw", "data={}", "--format", "json"]
    result = runner.invoke(main, [*args, "--strict"] if strict else args)
    assert result.exit_code == (1 if strict else 0), result.output
    document = json.loads(result.stdout)
    by_name = {r["receiver"].rsplit(".", 1)[1]: r for r in document["receivers"]}
    guilty = next(r for name, r in by_name.items() if name != "innocent")
    assert guilty["mutated"] and guilty["status"] == "ok", guilty
    assert by_name["innocent"]["mutated"] == [], "the innocent receiver was blamed"
    assert "data" in document["unchecked"]  # not plain data after the guilty one


@pytest.mark.parametrize("args", [["list"], ["list", "--format", "json"], ["doctor"],
                                  ["graph"], ["list", "fx_mv_huge_sender"]])
def test_hostile_docstrings_and_sender_filters_are_shown(runner, write_config,
                                                         args: list[str]) -> None:
    config = write_config("fx_mutating_values:MutatingValuesPlugin")
    result = runner.invoke(main, ["-c", str(config), *args])
    assert result.exit_code == 0, result.output
    if args[-1] == "fx_mv_huge_sender":
        assert "sender=<int of 16610 bits>" in result.stdout


@pytest.mark.parametrize("name", ["lone \udcff surrogate", "\ud800", "ok \u00e9 \udfff"])
def test_json_on_a_terminal_writes_a_lone_surrogate_as_its_escape(
        monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    import io
    import json

    from ckansig.cli import support

    class Terminal(io.TextIOWrapper):
        def isatty(self) -> bool:
            return True

    raw = io.BytesIO()
    terminal = Terminal(raw, encoding="utf-8", errors="strict")

    class Streams:
        out = terminal

    monkeypatch.setattr("ckansig.isolation.streams", lambda: Streams)
    support.echo_json({"signal": name})  # a strict UTF-8 terminal: must not raise
    terminal.flush()
    assert json.loads(raw.getvalue().decode("utf-8")) == {"signal": name}


def test_assert_sent_with_self_referential_values(signal_log) -> None:
    from ckansig import signals

    sent = {"name": "bob"}
    sent["me"] = sent
    signals.ckanext.signal("fx_edges_cycle").send("bob", data=sent)
    expected = {"name": "bob"}
    expected["me"] = expected
    signal_log.assert_sent("fx_edges_cycle", data=expected)  # the same shape: it matches
    wrong = {"name": "alice"}
    wrong["me"] = wrong
    with pytest.raises(AssertionError) as failed:  # a message, never a RecursionError
        signal_log.assert_sent("fx_edges_cycle", data=wrong)
    assert "alice" in str(failed.value)
    listed = [sent]
    listed.append(listed)
    signals.ckanext.signal("fx_edges_cycle").send("bob", data=listed)
    with pytest.raises(AssertionError):
        signal_log.assert_sent("fx_edges_cycle", data=[1])


def test_an_optional_integration_is_info_a_loaded_providers_silence_a_warning(
        runner, write_config) -> None:
    import json

    examples = str(ROOT / "examples")
    from .conftest import FIXTURES

    config = write_config("fx_optional:OptionalPlugin", "ckanext.ext.plugin:ExtPlugin",
                          paths=[str(FIXTURES), examples])
    result = runner.invoke(main, ["-c", str(config), "doctor", "--format", "json",
                                  "--fail-level", "warning"])
    found = {p["signal"]: p for p in json.loads(result.stdout)["problems"]
             if p["id"] == "SIG011"}
    optional = found["ap_main:collect_config_sections"]
    assert optional["severity"] == "info"
    assert "runs only with the extension that provides 'ap_main'" in optional["message"]
    assert found["ext:never_sent"]["severity"] == "warning"  # its provider is loaded
    assert found["ckanext.ext.other"]["severity"] == "warning"  # ckanext.ext: installed
    assert found["ckanext.nothere.thing"]["severity"] == "info"
    assert result.exit_code == 1  # the warning fails --fail-level warning; the info does not


def test_optional_integrations_alone_pass_doctor(runner, write_config) -> None:
    import json

    config = write_config("fx_optional:OptionalPlugin")
    result = runner.invoke(main, ["-c", str(config), "doctor", "--format", "json",
                                  "--fail-level", "warning"])
    assert result.exit_code == 0, result.output
    problems = json.loads(result.stdout)["problems"]
    assert {(p["id"], p["severity"]) for p in problems} == {("SIG011", "info")}
    assert len(problems) == 4


@pytest.mark.parametrize(("plugin", "file", "line"), [
    ("fx_sitepkg.broken_import", "broken_import.py", 3),  # raised inside json
    ("fx_sitepkg.broken_init:BrokenInit", "broken_init.py", 10),  # inside a helper library
])
def test_sig001_points_at_the_plugins_own_line(runner, write_config, plugin: str, file: str,
                                                line: int) -> None:
    import json

    config = write_config(plugin)
    for args in (["doctor", "--format", "json"], ["list", "--format", "json"]):
        result = runner.invoke(main, ["-c", str(config), *args])
        document = json.loads(result.stdout)
        [found] = document["problems"] if args[0] == "doctor" else document["errors"]
        assert found["file"].endswith(f"fx_sitepkg/{file}"), found
        assert found["line"] == line, found


def test_a_missing_module_points_at_the_config_line(runner, tmp_path: Path) -> None:
    import json

    config = tmp_path / "plugins.toml"
    config.write_text('[ckansig]\nplugins = [\n  "fx_good",\n  "no_such_module_x:P",\n]\n')
    for args in (["doctor", "--format", "json"], ["list", "--format", "json"]):
        result = runner.invoke(main, ["-c", str(config), *args])
        document = json.loads(result.stdout)
        found = [p for p in (document["problems"] if args[0] == "doctor"
                             else document["errors"]) if p["plugin"] == "no_such_module_x:P"]
        assert [(f["file"], f["line"]) for f in found] == [(str(config), 4)], found
    text = runner.invoke(main, ["-c", str(config), "list"])
    assert f"({config}:4)" in text.stderr


def test_a_new_load_lets_the_previous_loads_plugins_go(write_config, tmp_path: Path) -> None:
    from ckansig.config import load_config
    from ckansig.loading import load
    from ckansig.loading.loader import _KEEP_ALIVE

    first = load(load_config(write_config("fx_good", "fx_fire:FirePlugin")))
    objects = [p.obj for p in first.plugins]
    assert objects and all(any(o is k for k in _KEEP_ALIVE) for o in objects)
    (tmp_path / "other").mkdir()
    other = tmp_path / "other" / "plugins.toml"
    other.write_text("[ckansig]\nplugins = []\n")
    load(load_config(other))
    assert not any(o is k for o in objects for k in _KEEP_ALIVE)  # only the last load's


@pytest.mark.parametrize("width", [40, 60, 80])
def test_tree_lines_cut_at_the_width_end_with_an_ellipsis(width: int) -> None:
    from ckansig.output.sends_view import plain_tree

    send = {"id": 1, "namespace": "ckanext", "signal": "fx_" + "long_name_" * 12,
            "sender": "bob", "kwargs": {"k": "v" * 200}, "receivers": [
                {"receiver": "ckanext.fx." + "receiver_" * 15, "status": "ok",
                 "result": "r" * 300, "children": []}],
            "filtered": ["ckanext.fx.other_" * 10]}
    drawn = plain_tree("title", [send], width=width).splitlines()
    cut = [line for line in drawn if len(line) >= width - 1]
    assert cut and all(line.rstrip().endswith("…") for line in cut), drawn
    assert all(len(line) <= width for line in drawn)


@pytest.mark.parametrize("plugin", ["fx_proxies", "fx_gc_replacer"])
@pytest.mark.parametrize("command", [["list", "user_created", "--format", "json"],
                                     ["doctor", "--format", "json"],
                                     ["fire", "user_created", "--format", "json"]])
def test_hostile_plugin_objects_hide_nothing(write_config, tmp_path: Path, plugin: str,
                                             command: list[str]) -> None:
    # in a process of its own: fx_gc_replacer changes the gc module for good
    import json
    import os
    import subprocess
    import sys

    from .conftest import FIXTURES

    config = write_config(plugin)
    done = subprocess.run([sys.executable, "-m", "ckansig", "-c", str(config), *command],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(FIXTURES)})
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 0, done.stderr[-2000:]
    document = json.loads(done.stdout)
    if command[0] == "list":
        assert document["errors"] == []
        [signal] = document["signals"]
        assert [r["receiver"].rsplit(".", 1)[1] for r in signal["receivers"]] in (
            ["proxied_good"], ["after_gc"])
    if command[0] == "fire":
        assert [r["status"] for r in document["receivers"]] == ["ok"]


STALE_PLUGIN = """\
from pathlib import Path

from ckansig import signals
from ckansig.plugins import ISignal, SingletonPlugin, implements


def mutating(sender, **kwargs):
    kwargs["data_dict"]["private"] = True


class Stale(SingletonPlugin):
    implements(ISignal)

    def get_signal_subscriptions(self):
        return {signals.action_succeeded: [mutating]}


# written after the code was compiled: the comment must silence nothing
MARK = "# ckansig: " + "ignore[SIG016]"
_here = Path(__file__)
_text = _here.read_text()
if _text.count(MARK) == 0:
    _here.write_text(_text.replace("**kwargs):\\n    kwargs", "**kwargs):  " + MARK
                                   + "\\n    kwargs", 1))
"""


def test_a_comment_written_after_the_code_was_compiled_silences_nothing(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    (tmp_path / "fx_stale.py").write_text(STALE_PLUGIN)
    (tmp_path / "plugins.toml").write_text(
        '[ckansig]\nplugins = ["fx_stale"]\npaths = ["."]\n')

    def found() -> list[dict]:
        done = subprocess.run([sys.executable, "-m", "ckansig", "doctor", "--format", "json"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)
        return [p for p in json.loads(done.stdout)["problems"] if p["id"] == "SIG016"]

    # the plugin writes the comment into its own file as it is imported: the
    # code that runs was compiled without it, so it silences nothing
    [first] = found()
    assert first["silenced"] is None
    assert "# ckansig: ignore[SIG016]" in (tmp_path / "fx_stale.py").read_text()
    [again] = found()  # now the comment was there when the code was compiled
    assert again["silenced"] == "comment"
