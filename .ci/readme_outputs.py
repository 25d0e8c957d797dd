"""Check the outputs the README shows against real runs.

Each ```console block whose first line is "$ ckansig ..." is run with the
ckansig given (COLUMNS=120, no colour) and what it prints is compared with
the block, line by line in any order (blinker does not promise an order of
receivers), after putting aside what changes from run to run: times, ids,
dates, file paths of the machine and the tree's drawing characters.

    python .ci/readme_outputs.py CKANSIG_BIN DIR (plain|ckan)

plain: the blocks without --ckan-ini, run in DIR (the clone: the bundled
example); ckan: those with --ckan-ini, run in DIR (the demo extension).
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?")
TIME = re.compile(r"\d+(\.\d+)? ms")
PATH = re.compile(r"'/[^']*('|$)")


def normal(text: str) -> list[str]:
    lines = []
    for line in text.strip("\n").split("\n"):
        line = PATH.sub("'<path>'", TIME.sub("<t> ms", DATE.sub("<date>", UUID.sub("<id>",
                                                                                  line))))
        line = line.lstrip(" │├└─").rstrip()
        lines.append(line)
    return sorted(lines)


def blocks() -> list[tuple[str, str]]:
    found = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(), re.DOTALL):
        first, _, shown = block.partition("\n")
        if first.startswith("$ ckansig "):
            found.append((first[2:], shown))
    return found


def main() -> int:
    ckansig, folder, kind = sys.argv[1], sys.argv[2], sys.argv[3]
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb"}
    checked = failed = 0
    for command, shown in blocks():
        if ("--ckan-ini" in command) != (kind == "ckan"):
            continue
        args = shlex.split(command)[1:]
        done = subprocess.run([ckansig, *args], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=300)
        checked += 1
        if normal(done.stdout) != normal(shown):
            failed += 1
            print(f"README output differs for: {command}")
            want, got = normal(shown), normal(done.stdout)
            for line in sorted(set(want) - set(got)):
                print(f"  shown only:   {line}")
            for line in sorted(set(got) - set(want)):
                print(f"  printed only: {line}")
        else:
            print(f"README output matches: {command}")
    if not checked:
        print(f"no README outputs of kind {kind}")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
