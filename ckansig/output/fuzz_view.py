"""``ckansig fuzz``: the receivers that raised on calls the action accepted,
each with its smallest data_dict and the ``call`` that replays it."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING, Any

from ckansig.output.terminal import clean
from ckansig.values import jsonable

if TYPE_CHECKING:
    from rich.console import Console

    from ckansig.firing.fuzz import Crash, FuzzReport
    from ckansig.values import Redactor

__all__ = ["FUZZ_SCHEMA_VERSION", "fuzz_json", "print_fuzz", "replay_command"]

FUZZ_SCHEMA_VERSION = 1


def crash_redactor(crash: Crash, enabled: bool) -> Redactor:
    """The redaction of one crash: the secrets of its own data_dict (another
    example's secret, a field name that was a password's value, says nothing here)."""
    from ckansig.redaction import SecretBook

    book = SecretBook()
    book.learn(crash.data_dict)
    return book.redactor(enabled)


def replay_command(argv: list[str], crash: Crash, action: str, user: str | None,
                   redactor: Redactor) -> str:
    """``ckansig [its global options] call ACTION --data JSON [--user U]``:
    ``argv`` is the fuzz command line, whose options before ``fuzz`` are kept."""
    before = argv[:argv.index("fuzz")] if "fuzz" in argv else []
    data = json.dumps(jsonable(crash.data_dict, redactor), ensure_ascii=False,
                      separators=(",", ":"))
    command = ["ckansig", *before, "call", action, "--data", data]
    if user is not None:
        command += ["--user", user]
    return shlex.join(command)


def fuzz_json(report: FuzzReport, argv: list[str], user: str | None,
              redact: bool = True) -> dict[str, Any]:
    """The documented ``ckansig fuzz --format json`` document."""
    return {
        "version": FUZZ_SCHEMA_VERSION,
        "action": report.action,
        "examples": report.examples,
        "accepted": report.accepted,
        "crashed": report.crashed,
        "rejected": report.rejected,
        "seconds": round(report.seconds, 3),
        "out_of_time": report.out_of_time,
        "crashes": [_crash_json(crash, report.action, argv, user, crash_redactor(crash, redact))
                    for crash in report.crashes],
    }


def _crash_json(crash: Crash, action: str, argv: list[str], user: str | None,
                redactor: Redactor) -> dict[str, Any]:
    return {
        "receiver": crash.receiver,
        "signal": crash.signal,
        "error": {"type": crash.error_type, "message": redactor.text(crash.message)},
        "data_dict": jsonable(crash.data_dict, redactor),
        "replay": replay_command(argv, crash, action, user, redactor),
    }


def print_fuzz(out: Console, report: FuzzReport, argv: list[str], user: str | None,
               redact: bool = True) -> None:
    from rich.text import Text

    rejected = ", ".join(f"{count} {clean(name)}" for name, count in
                         sorted(report.rejected.items())) or "none"
    head = Text(f"fuzz {clean(report.action)}: ", style="bold")
    head.append(f"{report.examples} call(s) in {report.seconds:.1f} s, each rolled back: "
                f"{report.crashed} with a receiver that raised, {report.accepted} without; "
                f"rejected by the action: {rejected}")
    out.print(head)
    if report.out_of_time:
        out.print(Text("stopped at the deadline: the examples left were not tried",
                       style="yellow"))
    for crash in report.crashes:
        redactor = crash_redactor(crash, redact)
        line = Text("✗ ", style="bold red")
        line.append(f"{clean(crash.receiver)} raised {clean(crash.error_type)}: "
                    f"{clean(redactor.text(crash.message))}", style="bold red")
        line.append(f"  (on {clean(crash.signal)}, a call the action accepted)")
        out.print(line)
        data = json.dumps(jsonable(crash.data_dict, redactor), ensure_ascii=False)
        out.print(Text(f"    smallest data_dict: {clean(data)}"))
        out.print(Text("    replay: " + clean(replay_command(argv, crash, report.action, user,
                                                             redactor)), style="dim"))
    if not report.crashes:
        out.print(Text("no receiver raised on a call the action accepted", style="green"))
