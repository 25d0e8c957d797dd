"""``ckansig list`` through click's CliRunner and as an installed script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ckansig.cli import main

from .conftest import ROOT


def run(runner, *args: str):
    return runner.invoke(main, list(args), catch_exceptions=False)


def test_bundled_example_lists_every_scenario(runner, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run(runner, "list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["errors"] == []
    receivers = {
        (s["namespace"], s["name"]): [(r["receiver"], r["plugin"], r["via"], r["sender"])
                                      for r in s["receivers"]]
        for s in document["signals"]
    }
    assert receivers[("ckanext", "custom_something_happened")] == [
        ("ckanext.ext.listeners.custom_listener", "ckanext.ext.plugin:ExtPlugin", "isignal",
         None)]
    assert receivers[("ckan", "action_succeed")] == [
        ("ckanext.ext.listeners.dataset_created", "ckanext.ext.plugin:ExtPlugin", "isignal",
         "package_create")]
    assert receivers[("ckan", "resource_download")] == [
        ("ckanext.ext.audit.log_download", "ckanext.ext.audit", "import", None)]
    assert receivers[("ckan", "user_created")] == [
        ("ckanext.custom.plugin.CustomPlugin.announce_new_user",
         "ckanext.custom.plugin:CustomPlugin", "isignal", None)]
    custom = next(s for s in document["signals"] if s["name"] == "custom_something_happened")
    assert custom["defined_by"] == "ckanext.custom.plugin:CustomPlugin"


def test_json_schema_fields(runner, write_config) -> None:
    config = write_config("fx_good:GoodPlugin")
    result = run(runner, "list", "-c", str(config), "--format", "json", "--subscribed")
    document = json.loads(result.stdout)
    assert set(document) == {"version", "config", "signals", "errors"}
    signal = document["signals"][0]
    assert set(signal) >= {"namespace", "name", "args", "doc", "receivers"}
    receiver = signal["receivers"][0]
    assert set(receiver) >= {"receiver", "plugin", "sender", "module", "file", "line", "weak",
                             "via"}


def test_text_output(runner, write_config) -> None:
    config = write_config("fx_good:GoodPlugin")
    result = run(runner, "-c", str(config), "list", "user_created")
    assert result.exit_code == 0
    assert "user_created (username, user)" in result.stdout
    assert "fx_good.on_user_created" in result.stdout
    assert "sender='bob'" in result.stdout
    assert "fx_good:GoodPlugin" in result.stdout
    assert "1 signal(s), 2 receiver(s)" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour when not a terminal


def test_plugin_failure_exits_1_after_showing_the_rest(runner, write_config) -> None:
    config = write_config("fx_missing_dep", "fx_good:GoodPlugin")
    result = run(runner, "list", "-c", str(config))
    assert result.exit_code == 1
    assert "fx_good.on_user_created" in result.stdout
    assert "error: plugin fx_missing_dep: importing 'fx_missing_dep' failed: it needs module " \
        "'fx_not_installed_dependency'" in result.stderr
    assert "Traceback" not in result.stderr
    as_json = run(runner, "list", "-c", str(config), "--format", "json")
    assert as_json.exit_code == 1
    errors = json.loads(as_json.stdout)["errors"]
    assert [(e["plugin"], e["kind"]) for e in errors] == [("fx_missing_dep", "import_error")]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[ckansig]\nplugins = [\n", "invalid TOML"),  # broken TOML
        ("[ckansig]\nplugins = 'x'\n", "ckansig.plugins: must be an array"),  # wrong type
        ("[ckansig]\nextra = 1\n", "ckansig.extra: unknown key"),  # unknown key
    ],
)
def test_config_errors_exit_2_with_one_line(runner, tmp_path: Path, text: str,
                                            fragment: str) -> None:
    config = tmp_path / "plugins.toml"
    config.write_text(text)
    result = run(runner, "list", "-c", str(config))
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert str(config) in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_missing_config_file_exits_2(runner, tmp_path: Path) -> None:
    result = run(runner, "list", "-c", str(tmp_path / "nope.toml"))
    assert result.exit_code == 2
    assert "config file not found" in result.stderr


def test_env_config_is_used(runner, write_config, monkeypatch) -> None:
    monkeypatch.setenv("CKANSIG_CONFIG", str(write_config("fx_good:GoodPlugin")))
    result = run(runner, "list", "--subscribed", "--format", "json")
    assert {s["name"] for s in json.loads(result.stdout)["signals"]} == {
        "user_created", "failed_login"}


def test_no_config_lists_core_signals(runner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(runner, "list", "--format", "json")
    assert result.exit_code == 0
    assert "no config found" in result.stderr
    names = [s["name"] for s in json.loads(result.stdout)["signals"]]
    assert "user_created" in names and "datastore_delete" in names


def test_plugin_prints_do_not_corrupt_json(runner, write_config) -> None:
    result = run(runner, "list", "-c", str(write_config("fx_printer:PrinterPlugin")),
                 "--format", "json")
    json.loads(result.stdout)
    assert "fx_printer imported" in result.stderr and "subscribing" in result.stderr


def test_markup_and_escape_sequences_print_literally(runner, write_config) -> None:
    result = run(runner, "list", "-c", str(write_config("fx_markup:MarkupPlugin")),
                 "fx_markup*")
    assert result.exit_code == 0
    assert "fx_markup:[bold]loud[/bold]\\x1b[31m" in result.stdout
    assert "[red]not red[/red] \\x1b]0;title\\x07" in result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    document = json.loads(run(runner, "list", "-c", str(write_config("fx_markup:MarkupPlugin")),
                              "fx_markup*", "--format", "json").stdout)
    assert document["signals"][0]["name"] == "fx_markup:[bold]loud[/bold]\x1b[31m"


def test_version_and_help(runner) -> None:
    from ckansig import __version__

    assert run(runner, "--version").stdout.strip() == f"ckansig, version {__version__}"
    for command in main.commands:
        result = run(runner, command, "--help")
        assert result.exit_code == 0
        assert main.commands[command].help, f"{command} has no docstring"


def test_every_command_is_in_the_docs() -> None:
    docs = "".join(page.read_text() for page in (ROOT / "docs").rglob("*.md"))
    for command in main.commands:
        assert f"ckansig {command}" in docs, command


def test_installed_script_runs(tmp_path: Path) -> None:
    script = shutil.which("ckansig", path=os.path.dirname(sys.executable)) or shutil.which(
        "ckansig")
    assert script, "the ckansig console script is not installed"
    done = subprocess.run([script, "list", "--format", "json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert any(s["receivers"] for s in json.loads(done.stdout)["signals"])
    as_module = subprocess.run([sys.executable, "-m", "ckansig", "--version"],
                               capture_output=True, text=True, timeout=60)
    assert as_module.returncode == 0 and "ckansig" in as_module.stdout


def test_shell_completion_is_available(tmp_path: Path) -> None:
    env = dict(os.environ, _CKANSIG_COMPLETE="bash_source")
    done = subprocess.run([sys.executable, "-m", "ckansig"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert "complete" in done.stdout
