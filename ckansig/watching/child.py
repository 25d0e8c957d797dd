"""The child side of ``ckansig trace``: switch recording on, then run the
program as its own ``__main__``, writing one JSON line per send.

    python -m ckansig.watching.child OUTPUT PATTERN REDACT -- PROGRAM [ARGS...]

PROGRAM is a Python script, an executable Python script found on PATH (such
as ``pytest``), or a Python interpreter followed by ``-m MODULE``, ``-c CODE``
or a script. Recording starts before the program imports anything.
"""

from __future__ import annotations

import fnmatch
import json
import os
import runpy
import shutil
import sys
from typing import Any

from ckansig.watching.recorder import SendRecord, record

__all__ = ["PYTHON_NAMES", "main", "resolve"]

#: The kinds of program ckansig trace can run in-process.
PYTHON_NAMES = ("python", "python3", "pypy", "pypy3")


def resolve(command: list[str]) -> tuple[str, str, list[str]]:
    """How to run ``command``: ("path" | "module" | "code", target, argv)."""
    program, args = command[0], command[1:]
    if _is_python(program):
        if not args:
            raise ValueError("give the Python program to run: a script, -m MODULE or -c CODE")
        if args[0] == "-m" and len(args) > 1:
            return "module", args[1], [args[1], *args[2:]]
        if args[0] == "-c" and len(args) > 1:
            return "code", args[1], ["-c", *args[2:]]
        if args[0].startswith("-"):
            raise ValueError(f"unsupported Python option {args[0]!r} (use -m or -c)")
        program, args = args[0], args[1:]
    path = program if os.path.exists(program) else shutil.which(program)
    if path is None:
        raise ValueError(f"{program!r} not found")
    if not (path.endswith(".py") or _has_python_shebang(path)):
        raise ValueError(f"{program!r} is not a Python program (no .py and no python "
                         "#! line): ckansig trace records sends inside Python programs only")
    return "path", path, [path, *args]


def _is_python(program: str) -> bool:
    name = os.path.basename(program)
    return program == sys.executable or any(
        name == p or (name.startswith(p) and name[len(p):].replace(".", "").isdigit())
        for p in PYTHON_NAMES)


def _has_python_shebang(path: str) -> bool:
    try:
        with open(path, "rb") as stream:
            first = stream.readline(200)
    except OSError:
        return False
    return first.startswith(b"#!") and b"python" in first


def main(argv: list[str]) -> None:
    output, pattern, redact, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit("usage: python -m ckansig.watching.child OUTPUT PATTERN REDACT -- CMD")
    kind, target, program_argv = resolve(command)
    # a line per send, flushed as written: a crash keeps what was recorded
    with open(output, "a", encoding="utf-8", buffering=1) as stream:
        _run(kind, target, program_argv, stream, pattern, redact == "1")


def _run(kind: str, target: str, program_argv: list[str], stream: Any, pattern: str,
         redact: bool) -> None:
    def sink(rec: SendRecord) -> None:
        if pattern and not (fnmatch.fnmatchcase(rec.name, pattern) or pattern in rec.name):
            return
        from ckansig.values import Redactor
        from ckansig.watching.jsonl import record_json

        redactor = Redactor(rec.kwargs, rec.sender, enabled=redact)
        document: dict[str, Any] = record_json(rec, redactor)
        stream.write(json.dumps(document, default=repr) + "\n")

    sys.argv = program_argv
    with record(sink):
        try:
            if kind == "module":
                runpy.run_module(target, run_name="__main__", alter_sys=True)
            elif kind == "code":
                exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
            else:
                sys.path[0] = os.path.dirname(os.path.abspath(target))
                runpy.run_path(target, run_name="__main__")
        finally:
            stream.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
