"""``--orders``, ``--order`` and ``--seed`` of ``call`` and ``fire``: run once
per order of the receivers and report what depends on it, or replay one order."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import click

__all__ = ["in_order", "order_options", "report_orders"]

F = TypeVar("F", bound=Callable[..., Any])


def order_options(command: F) -> F:
    """The options, for ``call`` and ``fire``."""
    from ckansig.ordering import DEFAULT_SAMPLE, EVERY_UP_TO  # light: at start-up

    for option in reversed([
        click.option("--orders", "orders", type=click.IntRange(min=1), is_flag=False,
                     flag_value=DEFAULT_SAMPLE, default=None, metavar="[N]",
                     help="Run once per order of the receivers of every send caused "
                     f"(every order up to {EVERY_UP_TO} receivers, else N seeded orders, "
                     f"default {DEFAULT_SAMPLE}); report the receivers whose outcome "
                     "depends on the order (exit 1).",),
        click.option("--order", "order", type=click.IntRange(min=1), default=None,
                     metavar="K", help="Run once, with the receivers in --orders' order K "
                     "(the replay --orders prints)."),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                     help="The seed of the orders sampled for sends of many receivers."),
    ]):
        command = option(command)
    return command


@contextlib.contextmanager
def in_order(order: int | None, seed: int) -> Iterator[None]:
    """With ``--order K``: the receivers run in order K, said on stderr at the end."""
    if order is None:
        yield
        return
    from ckansig.firing.orders import Plan
    from ckansig.ordering import arrange_receivers

    plan = Plan(order - 1, seed)
    with arrange_receivers(plan.arrange):
        yield
    from ckansig.output.terminal import clean

    for used in plan.orders():
        click.echo(f"ckansig: order {order}: {clean(used['signal'])}: "
                   f"{', '.join(clean(name) for name in used['receivers'])}", err=True)


def report_orders(ctx: click.Context, run: Callable[[], Mapping[str, Any]], *, fmt: str,
                  sample: int, seed: int, order: int | None, given: tuple[Any, ...],
                  redact: bool) -> None:
    """Run ``run`` once per order, report, and exit: 1 when an outcome
    depends on the order or a run was not rolled back, 130 on Ctrl-C. The
    replay commands hide the secrets of what was ``given`` (the data_dict, or
    the sender and keyword arguments) unless not ``redact``."""
    from ckansig import output
    from ckansig.cli.gc_policy import POLICY
    from ckansig.cli.support import echo_json
    from ckansig.firing.app import RunInterrupted
    from ckansig.firing.orders import run_orders
    from ckansig.firing.run import FireInterrupted

    if order is not None:
        raise click.UsageError("--orders runs every order; --order K replays one: not both")
    text = fmt == "text"

    def each(plan: Any, document: Mapping[str, Any]) -> None:
        if text and sys.stderr.isatty():  # progress, for people waiting
            click.echo(f"ckansig: order {plan.number + 1} run", err=True)

    try:
        report = run_orders(run, seed=seed, sample=sample, each=each)
    except (RunInterrupted, FireInterrupted) as stopped:
        click.echo(f"ckansig: {stopped}", err=True)
        ctx.exit(130)
    argv = list(ctx.meta.get("ckansig.argv", sys.argv[1:]))
    from ckansig.redaction import SecretBook

    book = SecretBook()
    book.learn(*given)
    redactor = book.redactor(redact)
    with POLICY.building_output():
        if text:
            output.print_orders(output.console(), report, argv, redactor)
        else:
            echo_json(output.orders_json(report, argv, redactor))
    if report.dependent or any((doc.get("database") or {}).get("breaches")
                               for doc in report.documents):
        ctx.exit(1)
