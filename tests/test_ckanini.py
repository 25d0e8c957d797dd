"""Reading ckan.plugins from a CKAN config file."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ckansig.cli import main
from ckansig.config import Config, load_config
from ckansig.config.ckan_ini import read_plugins
from ckansig.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def test_continuation_lines(tmp_path: Path) -> None:
    ini = write(tmp_path / "ckan.ini", """\
        [app:main]
        use = egg:ckan
        ckan.site_url = http://localhost
        ckan.plugins = activity example_isignal
            datastore
            text_view
        """)
    names, source, line = read_plugins(ini)
    assert names == ["activity", "example_isignal", "datastore", "text_view"]
    assert (source, line) == (str(ini), 4)


def test_inheritance_and_here(tmp_path: Path) -> None:
    write(tmp_path / "base.ini", "[app:main]\nckan.plugins = activity\n")
    (tmp_path / "test").mkdir()
    child = write(tmp_path / "test" / "test.ini", """\
        [app:main]
        use = config:%(here)s/../base.ini
        """)
    names, source, _ = read_plugins(child)
    assert names == ["activity"] and source == str(tmp_path / "base.ini")


def test_own_plugins_win_over_the_parent(tmp_path: Path) -> None:
    write(tmp_path / "base.ini", "[app:main]\nckan.plugins = activity\n")
    child = write(tmp_path / "child.ini", """\
        [app:main]
        use = config:base.ini
        ckan.plugins = stats
        """)
    assert read_plugins(child)[0] == ["stats"]


def test_no_plugins_key(tmp_path: Path) -> None:
    assert read_plugins(write(tmp_path / "c.ini", "[app:main]\nuse = egg:ckan\n"))[0] == []


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("[server:main]\nport = 5000\n", "no [app:main] section", None),  # wrong section
        ("[app:main\nckan.plugins = a\n", "invalid CKAN config", 1),  # broken header
        ("ckan.plugins = a\n", "invalid CKAN config", 1),  # no section header at all
        ("[app:main]\nckan.plugins = %(missing)s\n", "ckan.plugins", 2),  # interpolation
        ("[app:main]\nuse = config:self.ini\n", "inherits from itself", None),  # a loop
        ("[app:main]\nuse = config:nope.ini\n", "CKAN config file not found", None),
    ],
)
def test_errors_name_the_file(tmp_path: Path, text: str, fragment: str,
                              line: int | None) -> None:
    ini = write(tmp_path / "self.ini", text)
    with pytest.raises(ConfigError) as info:
        read_plugins(ini)
    assert fragment in str(info.value)
    assert info.value.line == line
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CKAN config file not found"):
        read_plugins(tmp_path / "nope.ini")


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=120))
def test_any_text_gives_names_or_a_clean_error(tmp_path: Path, text: str) -> None:
    ini = tmp_path / "any.ini"
    ini.write_text("[app:main]\n" + text, encoding="utf-8")
    try:
        names, _, _ = read_plugins(ini)
    except ConfigError as exc:
        assert "\n" not in str(exc)
    else:
        assert all(name and not any(c.isspace() for c in name) for name in names)


def test_config_merges_ini_plugins(tmp_path: Path) -> None:
    write(tmp_path / "ckan.ini", "[app:main]\nckan.plugins = fx_a fx_b\n")
    config = write(tmp_path / "plugins.toml", """\
        [ckansig]
        plugins = ["fx_b", "fx_c.plugin:P"]
        ckan_ini = "ckan.ini"
        """)
    merged = load_config(config).with_ckan_ini(None)
    assert [s.text for s in merged.plugins] == ["fx_b", "fx_c.plugin:P", "fx_a"]
    assert merged.plugins[2].source == str(tmp_path / "ckan.ini")
    assert Config().with_ckan_ini(None) == Config()


def test_cli_ckan_ini_with_entry_points(runner, tmp_path: Path, monkeypatch) -> None:
    from .conftest import fake_distribution

    site = fake_distribution(tmp_path / "site", "fx_dist",
                             "[ckan.plugins]\nfx_good_plugin = fx_good:GoodPlugin\n"
                             "fx_missing = fx_missing_dep:Plugin\n"
                             "fx_gone = fx_gone_module:Plugin\n")
    from .conftest import FIXTURES

    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(FIXTURES))
    monkeypatch.chdir(tmp_path)
    ini = write(tmp_path / "ckan.ini",
                "[app:main]\nckan.plugins = fx_good_plugin\n  fx_missing fx_gone\n")
    result = runner.invoke(main, ["--ckan-ini", str(ini), "list", "--subscribed", "--format",
                                  "json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert {r["plugin"] for s in document["signals"] for r in s["receivers"]} == {
        "fx_good_plugin"}
    assert [(e["plugin"], e["kind"], e["missing_module"]) for e in document["errors"]] == [
        ("fx_missing", "import_error", "fx_not_installed_dependency"),
        ("fx_gone", "module_not_found", "fx_gone_module")]
    monkeypatch.setenv("CKAN_INI", str(ini))
    doctor = runner.invoke(main, ["doctor", "--format", "json"])
    sites = {p["plugin"]: (p["file"], p["line"]) for p in json.loads(doctor.stdout)["problems"]
             if p["id"] == "SIG001"}
    # the import that failed, in the plugin's module
    assert sites["fx_missing"] == (str(FIXTURES / "fx_missing_dep.py"), 3)
    # no module to point at: the ckan.plugins line of the ini
    assert sites["fx_gone"] == (str(ini), 2)


@pytest.mark.parametrize("how", ["--ckan-ini", "CKAN_INI"])
def test_shell_completion_reads_the_ckan_ini_like_the_commands(tmp_path: Path, how: str) -> None:
    """Completion finds the config as the commands do, the CKAN config file included."""
    import os
    import subprocess
    import sys

    from .conftest import FIXTURES, fake_distribution

    site = fake_distribution(tmp_path / "site", "fx_dist",
                             "[ckan.plugins]\nfx_provider = fx_provider\n")
    ini = write(tmp_path / "ckan.ini", "[app:main]\nckan.plugins = fx_provider\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CKAN_INI", "CKANSIG_CONFIG")}
    env.update(_CKANSIG_COMPLETE="bash_complete",
               PYTHONPATH=os.pathsep.join([str(site), str(FIXTURES)]))
    words = ["ckansig", "fire", "fx_prov"]
    if how == "--ckan-ini":
        words[1:1] = ["--ckan-ini", str(ini)]
    else:
        env["CKAN_INI"] = str(ini)
    env.update(COMP_WORDS=" ".join(words), COMP_CWORD=str(len(words) - 1))
    done = subprocess.run([sys.executable, "-m", "ckansig"], env=env, capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)
    assert "plain,fx_provider_ready" in done.stdout.splitlines(), done.stdout + done.stderr


def test_a_name_in_ckan_plugins_must_be_an_entry_point(runner, tmp_path: Path,
                                                       monkeypatch) -> None:
    """As in CKAN: ckan.plugins names entry points; a module of that name is not enough."""
    from .conftest import FIXTURES

    monkeypatch.syspath_prepend(str(FIXTURES))
    monkeypatch.chdir(tmp_path)
    ini = write(tmp_path / "ckan.ini", "[app:main]\n\nckan.plugins = fx_provider\n")
    result = runner.invoke(main, ["--ckan-ini", str(ini), "list", "--format", "json"])
    assert result.exit_code == 1
    (error,) = json.loads(result.stdout)["errors"]
    assert (error["plugin"], error["kind"]) == ("fx_provider", "plugin_not_found")
    assert (error["file"], error["line"]) == (str(ini), 3)
    doctor = runner.invoke(main, ["--ckan-ini", str(ini), "doctor", "--format", "json"])
    assert doctor.exit_code == 1
    assert [p["id"] for p in json.loads(doctor.stdout)["problems"]] == ["SIG001"]


def test_a_plugin_named_twice_in_ckan_plugins_is_an_error_without_ckan_too(
    runner, tmp_path: Path, monkeypatch,
) -> None:
    from .conftest import FIXTURES, fake_distribution

    site = fake_distribution(tmp_path / "site", "fx_dist",
                             "[ckan.plugins]\nfx_good_plugin = fx_good:GoodPlugin\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(FIXTURES))
    ini = write(tmp_path / "ckan.ini",
                "[app:main]\nckan.plugins = fx_good_plugin\n  fx_good_plugin\n")
    result = runner.invoke(main, ["--ckan-ini", str(ini), "doctor", "--format", "json"])
    assert result.exit_code == 1
    found = [(p["id"], p["plugin"], p["file"]) for p in json.loads(result.stdout)["problems"]
             if p["id"] == "SIG001"]
    assert found == [("SIG001", "fx_good_plugin", str(ini))]
    listed = runner.invoke(main, ["--ckan-ini", str(ini), "list", "--format", "json"])
    errors = json.loads(listed.stdout)["errors"]
    assert [(e["kind"], e["plugin"]) for e in errors] == [("duplicate_plugin", "fx_good_plugin")]
    assert "named twice in ckan.plugins" in errors[0]["error"]
    assert errors[0]["error"].endswith("remove the duplicate")


def _not_a_file(tmp_path: Path, kind: str) -> tuple[Path, str]:
    """A ckan.ini argument that is no regular file, or whose chain names one,
    and the path the error must name."""
    import os

    if kind == "folder":
        return tmp_path, str(tmp_path)
    if kind == "fifo":  # opening it for reading would wait for a writer forever
        os.mkfifo(tmp_path / "pipe.ini")
        return tmp_path / "pipe.ini", str(tmp_path / "pipe.ini")
    if kind == "device in the chain":  # reading it would fill the memory
        return write(tmp_path / "ckan.ini", "[app:main]\nuse = config:/dev/zero\n"), "/dev/zero"
    (tmp_path / "base").mkdir()  # a folder in the chain
    return write(tmp_path / "ckan.ini", "[app:main]\nuse = config:base\n"), str(
        tmp_path / "base")


@pytest.mark.parametrize("kind", ["folder", "fifo", "device in the chain", "folder in the chain"])
def test_a_ckan_ini_that_is_no_regular_file_is_a_config_error(tmp_path: Path,
                                                              kind: str) -> None:
    from .test_hostile import ckansig

    given, culprit = _not_a_file(tmp_path, kind)
    done = ckansig("--ckan-ini", str(given), "list", cwd=tmp_path, timeout=30)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.decode().strip().splitlines()[-1:]
    assert line.startswith(f"Error: {culprit}: ")
    assert ("is a folder" if "folder" in kind else "is not a regular file") in line
    assert b"Traceback" not in done.stderr
