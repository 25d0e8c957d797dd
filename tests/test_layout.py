"""The package stays in small pieces: no module over 400 lines (issue 21)."""

from __future__ import annotations

from .conftest import ROOT

LIMIT = 400


def test_no_module_is_over_400_lines() -> None:
    sizes = {path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
             for path in (ROOT / "ckansig").rglob("*.py")}
    assert len(sizes) > 50  # the package, not an empty folder
    over = {path: lines for path, lines in sizes.items() if lines > LIMIT}
    assert not over, f"over {LIMIT} lines: {over}"
