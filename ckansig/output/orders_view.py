"""``--orders`` of ``call`` and ``fire``: the receivers whose outcome depends
on the order they run in, as JSON or as text for people. The values shown
come from each run's own (redacted) JSON document."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING, Any

from ckansig.output.terminal import clean

if TYPE_CHECKING:
    from rich.console import Console

    from ckansig.firing.orders import OrdersReport
    from ckansig.values import Redactor

__all__ = ["ORDERS_SCHEMA_VERSION", "orders_json", "print_orders"]

ORDERS_SCHEMA_VERSION = 1


def _replay(argv: list[str], report: OrdersReport, order: int, redactor: Redactor) -> str:
    """The command that replays run ``order``, with the secrets its arguments
    were given hidden (``redactor``: the call's)."""
    from ckansig.firing.orders import EVERY_UP_TO, replay_argv

    sampled = report.receivers_permuted > EVERY_UP_TO
    return redactor.text(shlex.join(["ckansig", *replay_argv(argv, order, report.seed,
                                                             sampled)]))


def _breaches(report: OrdersReport) -> list[tuple[int, str]]:
    found = []
    for number, document in enumerate(report.documents, start=1):
        for breach in (document.get("database") or {}).get("breaches") or []:
            found.append((number, str(breach.get("message"))))
    return found


def orders_json(report: OrdersReport, argv: list[str], redactor: Redactor) -> dict[str, Any]:
    """The documented ``--orders --format json`` document."""
    return {
        "version": ORDERS_SCHEMA_VERSION,
        "seed": report.seed,
        "runs": [{"order": number, "orders": plan.orders()}
                 for number, plan in enumerate(report.plans, start=1)],
        "dependent": [{
            "path": found.path,
            "fields": {field: {str(found.first): first, str(found.second): second}
                       for field, (first, second) in found.fields.items()},
            "orders": [found.first, found.second],
            "replay": [_replay(argv, report, found.first, redactor),
                       _replay(argv, report, found.second, redactor)],
        } for found in report.dependent],
        "not_compared": [{"path": path, "field": field} for path, field in report.unsteady],
        "not_rolled_back": [{"order": number, "message": message}
                            for number, message in _breaches(report)],
    }


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                            sort_keys=True)
    return text if len(text) <= 160 else text[:159] + "…"


def print_orders(out: Console, report: OrdersReport, argv: list[str],
                 redactor: Redactor) -> None:
    """One block per receiver whose outcome depends on the order (what
    differs, in which orders), then the orders that differ, each with the
    command that replays it."""
    from rich.text import Text

    most = report.receivers_permuted
    head = Text(f"{len(report.plans)} order(s) run", style="bold")
    head.append(f" (up to {most} receivers per send; seed {report.seed}), each rolled back "
                "where there is a database" if most > 1 else
                " (no send had two or more receivers: there is no order to vary)")
    out.print(head)
    shown: list[int] = []
    for found in report.dependent:
        out.print(Text(f"✗ {clean(found.path)}: depends on the order", style="bold red"))
        for field, (first, second) in found.fields.items():
            out.print(Text(f"    {field} in order {found.first}: {clean(_value(first))}"))
            out.print(Text(f"    {field} in order {found.second}: {clean(_value(second))}"))
        shown += [n for n in (found.first, found.second) if n not in shown]
    if shown:
        out.print(Text("the orders:", style="bold"))
    for number in sorted(shown):
        for used in report.plans[number - 1].orders():
            names = ", ".join(clean(name) for name in used["receivers"])
            out.print(Text(f"  order {number}: {clean(used['signal'])}: {names}", style="cyan"))
        out.print(Text(f"    replay: {clean(_replay(argv, report, number, redactor))}",
                       style="dim"))
    for number, message in _breaches(report):
        out.print(Text(f"order {number}: {clean(message)}", style="bold red"))
    if report.unsteady:
        out.print(Text(f"not compared: {len(report.unsteady)} value(s) that differ between "
                       "two runs in the same order (order 1, run twice)", style="dim"))
    if not report.dependent:
        out.print(Text("no outcome depends on the order of the receivers", style="green"))
