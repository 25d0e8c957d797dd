"""Issue #23's rough edges, each class with more than one case: a JSON option's
errors name that option, and writing graph output where it cannot be written
is a usage error (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
