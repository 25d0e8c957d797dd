"""What every renderer shares for the terminal: making plugin text safe to
print, file:line locations, and the rich console.

Everything that comes from plugins (names, docstrings, reprs, messages) is data:
it is cleaned of terminal control sequences and never parsed as rich markup
(text is built with ``rich.text.Text``, not markup strings). rich is imported
only when text output is asked for.
"""

from __future__ import annotations

import os
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

# Every C0/C1 control character but tab and newline, and the bidirectional
# overrides and isolates (which reorder what a terminal shows), mapped to escapes.
_CONTROL = {
    code: chr(code).encode("unicode_escape").decode("ascii")
    for code in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0),
                 *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}


def clean(text: object) -> str:
    """``text`` as a string that is safe to print on a terminal: control
    characters (ESC, BEL, CR, …) and bidi overrides are shown escaped instead
    of being obeyed, and a lone surrogate as its ``\\udcxx`` escape."""
    cleaned = str(text).translate(_CONTROL)
    if cleaned.isascii():
        return cleaned
    # a lone surrogate cannot be written to any stream: escape it
    return cleaned.encode("utf-8", "backslashreplace").decode("utf-8")


def where(file: str | None, line: int | None) -> str:
    """``file:line`` shortened to a path relative to the working directory."""
    if not file:
        return ""
    try:
        rel = os.path.relpath(file)
        if not rel.startswith(".."):
            file = rel
    except ValueError:  # another drive on Windows
        pass
    return f"{file}:{line}" if line else file


def console(file: IO[str] | None = None, stderr: bool = False) -> Console:
    """A rich console: colour only on a terminal, NO_COLOR respected (by rich)."""
    from rich.console import Console

    from ckansig.isolation import streams

    if file is None:
        own = streams()
        file = own.err if stderr else own.out
    console = Console(file=file, highlight=False, soft_wrap=True, emoji=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 160  # a pipe or a file: fold tables less than rich's default 80
    return console
