"""Finding and parsing the config: examples of every error, and properties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckansig.config import Config, PluginSpec, find_config, load_config, parse_config
from ckansig.errors import ConfigError


def write(tmp_path: Path, text: str, name: str = "plugins.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- discovery ------------------------------------------------------------------


def test_explicit_path_wins(tmp_path: Path) -> None:
    write(tmp_path, "[ckansig]\n")
    other = write(tmp_path, "[ckansig]\n", "other.toml")
    env = {"CKANSIG_CONFIG": str(tmp_path / "plugins.toml")}
    assert find_config(other, env, tmp_path) == str(other)


def test_environment_comes_before_plugins_toml(tmp_path: Path) -> None:
    write(tmp_path, "[ckansig]\n")
    other = write(tmp_path, "[ckansig]\n", "other.toml")
    assert find_config(None, {"CKANSIG_CONFIG": str(other)}, tmp_path) == str(other)


def test_plugins_toml_comes_before_pyproject(tmp_path: Path) -> None:
    plugins = write(tmp_path, "[ckansig]\n")
    write(tmp_path, "[tool.ckansig]\n", "pyproject.toml")
    assert find_config(None, {}, tmp_path) == str(plugins)


def test_pyproject_is_used_only_with_a_tool_ckansig_table(tmp_path: Path) -> None:
    pyproject = write(tmp_path, "[project]\nname='x'\n", "pyproject.toml")
    assert find_config(None, {}, tmp_path) is None
    pyproject.write_text("[project]\nname='x'\n[tool.ckansig]\nplugins=[]\n")
    assert find_config(None, {}, tmp_path) == str(pyproject)
    assert load_config(pyproject) == Config(path=str(pyproject))


@pytest.mark.parametrize("source", ["explicit", "env"])
def test_a_named_config_must_exist(tmp_path: Path, source: str) -> None:
    # A path the user typed that does not exist is an error, not a silent default.
    explicit = "missing.toml" if source == "explicit" else None
    env = {"CKANSIG_CONFIG": "missing.toml"} if source == "env" else {}
    with pytest.raises(ConfigError, match=r"missing\.toml: config file not found"):
        find_config(explicit, env, tmp_path)


def test_no_config_at_all(tmp_path: Path) -> None:
    assert find_config(None, {}, tmp_path) is None
    assert load_config(None) == Config()


# -- parsing --------------------------------------------------------------------


def test_full_config(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    path = write(tmp_path, """
[ckansig]
paths = ["src"]
plugins = ["a.b:C", "a.listeners", "example_isignal"]

[ckansig.doctor]
ignore = ["SIG014"]
ckan_version = "2.11"
fail_level = "warning"
""")
    config = load_config(path)
    assert config.paths == (str((tmp_path / "src").resolve()),)
    assert [(s.kind, s.module, s.attribute) for s in config.plugins] == [
        ("object", "a.b", "C"), ("module", "a.listeners", None),
        ("name", "example_isignal", None),
    ]
    assert [s.line for s in config.plugins] == [4, 4, 4]
    assert config.doctor.ignore == ("SIG014",)
    assert config.doctor.ckan_version == (2, 11)
    assert config.doctor.fail_level == "warning"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        # broken TOML: the parser's line
        ("[ckansig]\nplugins = [\n  'a',\n  'b'\n", 4, "invalid TOML: Unclosed array"),
        ("[ckansig]\nplugins = ['a' 'b']\n", 2, "invalid TOML"),
        # an unknown key in [ckansig]
        ("[ckansig]\nplugins = []\nplugin = ['a']\n", 3, "ckansig.plugin: unknown key"),
        # an unknown top-level table
        ("[ckansig]\n[other]\nx = 1\n", 2, "other: unknown table"),
        # plugins must be an array
        ("[ckansig]\n\nplugins = 'a.b'\n", 3, "ckansig.plugins: must be an array"),
        # array items must be strings
        ("[ckansig]\nplugins = ['a', 3]\n", 2, "ckansig.plugins[1]: must be a string"),
        # a malformed module:attribute
        ("[ckansig]\nplugins = ['a b:C']\n", 2, "ckansig.plugins[0]"),
        ("[ckansig]\nplugins = ['a.b:']\n", 2, "is not an attribute path"),
        ("[ckansig]\nplugins = ['']\n", 2, "empty plugin name"),
        ("[ckansig]\nplugins = ['a..b']\n", 2, "not a dotted module path"),
        # the same plugin twice
        ("[ckansig]\nplugins = ['a.b', 'a.b']\n", 2, "listed twice"),
        # paths that are not folders
        ("[ckansig]\npaths = ['nope']\n", 2, "ckansig.paths[0]: 'nope' is not a folder"),
        # the doctor table
        ("[ckansig]\n[ckansig.doctor]\nignore = ['E501']\n", 3, "is not a check ID"),
        ("[ckansig]\n[ckansig.doctor]\nckan_version = 2.11\n", 3, "ckan_version"),
        ("[ckansig]\n[ckansig.doctor]\nfail_level = 'fatal'\n", 3, "fail_level"),
        ("[ckansig]\n[ckansig.doctor]\nignores = []\n", 3, "ckansig.doctor.ignores: unknown"),
        ("[ckansig]\ndoctor = 1\n", 2, "ckansig.doctor: must be a table"),
        # no [ckansig] at all
        ("", None, "no [ckansig] table"),
        ("ckansig = 3\n", 1, "must be a table"),
    ],
)
def test_errors_name_file_line_and_key(
    tmp_path: Path, text: str, line: int | None, fragment: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert fragment in message
    assert message.startswith(str(path) + (f":{line}:" if line else ":"))
    assert "\n" not in message
    assert info.value.line == line


def test_pyproject_errors_name_the_tool_table(tmp_path: Path) -> None:
    path = write(tmp_path, "[tool.ckansig]\nplugins = 'x'\n", "pyproject.toml")
    with pytest.raises(ConfigError, match=r"pyproject.toml:2: tool.ckansig.plugins"):
        load_config(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "plugins.toml"
    path.write_bytes(b"[ckansig]\nplugins = ['\xff']\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


def test_a_folder_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder, not a config file"):
        load_config(tmp_path)
    with pytest.raises(ConfigError, match=r"is a folder, not a config file .from --config"):
        find_config(tmp_path)


def test_pyproject_with_dotted_keys_is_found(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool]\nckansig.plugins = ["a.b:C"]\n')
    path = find_config(cwd=tmp_path)
    assert path == str(tmp_path / "pyproject.toml")
    assert [s.text for s in load_config(path).plugins] == ["a.b:C"]


@pytest.mark.parametrize(("raw", "message", "line"), [
    # a byte that is not UTF-8: where it is
    (b'[ckansig]\nplugins = ["caf\xe9"]\n', "not UTF-8: byte 0xe9 at line 2, column 16", 2),
    # a byte order mark, named as such
    (b'\xef\xbb\xbf[ckansig]\nplugins = []\n', "byte order mark (BOM)", 1),
    # nested deeper than the parser can go: a config error, not a RecursionError
    (b"[ckansig]\nx = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested too deeply", None),
])
def test_undecodable_configs_name_the_culprit(tmp_path: Path, raw: bytes, message: str,
                                              line: int | None) -> None:
    for name in ("plugins.toml", "pyproject.toml"):
        path = tmp_path / name
        path.write_bytes(raw.replace(b"[ckansig]", b"[tool.ckansig]") if name.startswith("py")
                         else raw)
        with pytest.raises(ConfigError, match=message.replace("(", ".").replace(")", ".")) as e:
            load_config(path) if name == "plugins.toml" else find_config(cwd=tmp_path)
        assert e.value.line == line
        path.unlink()


@pytest.mark.parametrize(
    ("text", "kind"),
    [("a.b:C", "object"), ("a.b:C.inner", "object"), ("a.b", "module"),
     ("example_isignal", "name"), ("my-plugin", "name"), (" a.b ", "module")],
)
def test_plugin_spec_kinds(text: str, kind: str) -> None:
    assert PluginSpec.parse(text).kind == kind


# -- properties -----------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_a_config_or_a_clean_error(text: str) -> None:
    try:
        config = parse_config(text, Path("/nonexistent/plugins.toml"))
    except ConfigError as exc:
        assert str(exc).startswith("/nonexistent/plugins.toml")
        assert "\n" not in str(exc)
    else:
        assert isinstance(config, Config)


toml_scalars = st.one_of(
    st.text(max_size=20), st.integers(), st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
)
toml_values = st.recursive(
    toml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(["ignore", "select", "paths", "x"]), children,
                        max_size=3),
    ),
    max_leaves=8,
)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(
    st.sampled_from(["paths", "plugins", "doctor", "unknown"]), toml_values, max_size=4))
def test_any_structure_gives_a_config_or_a_clean_error(section: dict[str, object]) -> None:
    text = "[ckansig]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in section.items())
    try:
        config = parse_config(text, Path("/nonexistent/plugins.toml"))
    except ConfigError as exc:
        assert exc.key is None or exc.key.startswith("ckansig")
        assert "\n" not in str(exc)
    else:
        assert all(isinstance(s, PluginSpec) for s in config.plugins)


@pytest.mark.parametrize("value", ['["SIG999x"]', '"SIG014"', '[3]'])
def test_per_receiver_errors_carry_their_line(tmp_path: Path, value: str) -> None:
    path = tmp_path / "plugins.toml"
    path.write_text('[ckansig]\nplugins = []\n\n[ckansig.doctor.per_receiver]\n'
                    '"ckanext.ok.*" = ["SIG014"]\n'
                    f'"ckanext.x.plugin.XPlugin.on_*" = {value}\n')
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.line == 6
    assert error.value.key.startswith("ckansig.doctor.per_receiver.ckanext.x.plugin")


def test_a_path_with_a_newline_is_named_on_one_line(tmp_path) -> None:
    config = tmp_path / "plugins.toml"
    config.write_text('[ckansig]\npaths = ["\\n"]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert "\n" not in str(caught.value) and "looked in" in str(caught.value)
