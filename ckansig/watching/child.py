"""The child side of ``ckansig trace``: switch recording on, then run the
program as its own ``__main__``, writing one JSON line per send.

    python -m ckansig.watching.child OUTPUT PATTERN REDACT -- PROGRAM [ARGS...]

PROGRAM is a Python script, an executable Python script found on PATH (such
as ``pytest``), or a Python interpreter followed by ``-m MODULE``, ``-c CODE``
or a script. Recording starts before the program imports anything.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import runpy
import shutil
import sys
from typing import Any

from ckansig.watching.recorder import SendRecord, record, scope

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
    # one O_APPEND write per send: a crash keeps what was recorded, and two
    # traces writing to one file interleave whole records
    stream = _AppendFile(output)
    try:
        _run(kind, target, program_argv, stream, pattern, redact == "1")
    finally:
        stream.close()


class _AppendFile:
    """A file that each record is appended to with one ``write`` call."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)

    def write(self, line: str) -> None:
        data = line.encode("utf-8", "backslashreplace")
        while data:
            written = os.write(self.fd, data)
            data = data[written:]

    def close(self) -> None:
        os.close(self.fd)


class _Writer:
    """Writes one JSON line per send. A send that cannot be recorded, or a file
    that cannot be written, is counted and reported once, at the end, never
    as a traceback per send; the program runs on regardless."""

    def __init__(self, stream: Any, pattern: str, redact: bool) -> None:
        self.stream, self.pattern, self.redact = stream, pattern, redact
        self.failed = 0
        self.first_failure: str | None = None
        self.write_error: str | None = None

    def __call__(self, rec: SendRecord) -> None:
        pattern = self.pattern
        if pattern and not (fnmatch.fnmatchcase(rec.name, pattern) or pattern in rec.name):
            return
        if self.write_error is not None:
            return
        try:
            from ckansig.watching.jsonl import record_json, redactor_of

            line = json.dumps(record_json(rec, redactor_of(rec, self.redact)),
                              default=repr) + "\n"
        except Exception as exc:
            from ckansig.errors import exc_text

            self.failed += 1
            self.first_failure = self.first_failure or exc_text(exc)
            return
        try:
            self.stream.write(line)
        except OSError as exc:
            self.write_error = f"{exc.strerror or exc}"

    def report(self) -> None:
        if self.write_error is not None:
            print(f"ckansig trace: could not write the record file: {self.write_error}; "
                  "sends after that were not recorded", file=sys.stderr)
        if self.failed:
            print(f"ckansig trace: {self.failed} send(s) could not be recorded (first: "
                  f"{self.first_failure})", file=sys.stderr)


def _run(kind: str, target: str, program_argv: list[str], stream: Any, pattern: str,
         redact: bool) -> None:
    writer = _Writer(stream, pattern, redact)
    sys.argv = program_argv
    from ckansig.redaction import SecretBook, redact_argv
    from ckansig.watching import scopes

    # the command line's words are kept, the values of its secret options hidden
    shown, secrets = redact_argv([os.path.basename(program_argv[0]), *program_argv[1:]])
    if not redact:
        shown, secrets = [os.path.basename(program_argv[0]), *program_argv[1:]], set()
    unscope = scopes.install()  # each request and job a scope of its own
    with record(writer), scope(f"command {' '.join(shown)}", SecretBook(secrets)):
        try:
            if kind == "module":
                try:
                    spec = importlib.util.find_spec(target)
                except (ImportError, ValueError):
                    spec = None
                if spec is None:  # as python -m says it: one line, exit status 1
                    print(f"{sys.executable}: No module named {target}", file=sys.stderr)
                    raise SystemExit(1)
                runpy.run_module(target, run_name="__main__", alter_sys=True)
            elif kind == "code":
                exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
            else:
                if os.path.isdir(target) and not os.path.isfile(
                        os.path.join(target, "__main__.py")):  # one line, as python says it
                    print(f"{sys.executable}: can't find '__main__' module in "
                          f"{target!r}", file=sys.stderr)
                    raise SystemExit(1)
                sys.path[0] = os.path.dirname(os.path.abspath(target))
                runpy.run_path(target, run_name="__main__")
        finally:
            unscope()
            writer.report()


if __name__ == "__main__":
    main(sys.argv[1:])
