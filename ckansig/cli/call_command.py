"""``ckansig call``."""

from __future__ import annotations

from typing import Any

import click

from ckansig.cli.gc_policy import POLICY
from ckansig.cli.orders_options import in_order, order_options, report_orders
from ckansig.cli.params import FORMATS, JsonObject, KeyValue, max_input_option
from ckansig.cli.support import config_option, echo_json, start_app


@click.command("call")
@click.argument("action")
@click.option("--kw", "kw", type=KeyValue(), multiple=True,
              help="One data_dict item, KEY=VALUE; VALUE is JSON, or a plain string. "
              "Repeatable.")
@click.option("--data", "data_json", type=JsonObject(), default=None,
              help="The whole data_dict as a JSON object (--kw items are added to it).")
@click.option("--user", default=None, help="Run the action as this CKAN user (default: "
              "anonymous).")
@click.option("--commit", is_flag=True, help="Keep the database changes (default: roll back).")
@click.option("--timeout", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="At the end, wait this long for threads the code started (still "
              "running: reported as not rolled back).")
@click.option("--no-redact", is_flag=True, help="Show secret-looking values as they are.")
@click.option("-f", "--format", "fmt", type=FORMATS, default="text", show_default=True,
              help="Output format.")
@order_options
@max_input_option
@config_option
@click.pass_context
def call_command(ctx: click.Context, action: str, kw: tuple[tuple[str, Any], ...],
                 data_json: dict[str, Any] | None,
                 user: str | None, commit: bool, timeout: float, no_redact: bool, fmt: str,
                 orders: int | None, order: int | None, seed: int,
                 config: str | None, ckan_ini: str | None) -> None:
    """Run the CKAN action ACTION in the real app (CKAN mode: a ckan.ini) and
    show every signal it caused, as a tree: each send, its receivers with
    their results and database changes, and the sends they made in turn.

    The database is rolled back afterwards unless --commit; what could not be
    rolled back is said loudly ("NOT rolled back: ...") and exits 1. Exits 1
    too when the action failed (the sends it caused are still shown).

    With --orders, the action runs once per order of the receivers of every
    send it causes (each run rolled back), and the receivers whose outcome
    depends on the order are reported, with a command that replays each
    order (--order K); exits 1 when there is any.

    \b
    ckansig call organization_create --kw name=demo --user admin
    ckansig call user_create --data @user.json --orders
    """
    from ckansig import output
    from ckansig.firing.arguments import build_call

    _, data = build_call(None, kwargs=data_json, kw=kw)
    from ckansig.firing.app import RunInterrupted

    if orders is not None and commit:
        raise click.UsageError("--orders rolls every run back: not with --commit")
    ckan_app = start_app(ctx, text=fmt == "text", commit=commit)
    if orders is not None:
        def once() -> dict[str, Any]:
            run = ckan_app.call(action, data, user=user, wait=timeout)
            with POLICY.building_output():
                return output.call_json(run, run.secrets.redactor(not no_redact))

        report_orders(ctx, once, fmt=fmt, sample=orders, seed=seed, order=order, given=(data,),
                      redact=not no_redact)
        return
    try:
        with in_order(order, seed):
            call = ckan_app.call(action, data, user=user, commit=commit, wait=timeout)
    except RunInterrupted as stopped:  # said here: click turns a KeyboardInterrupt into Abort
        click.echo(f"ckansig: {stopped}", err=True)
        ctx.exit(130)
    with POLICY.building_output(last=True):
        redactor = call.secrets.redactor(not no_redact)  # the call's scope's secrets
        if fmt == "json":
            echo_json(output.call_json(call, redactor))
        else:
            output.print_call(output.console(), call, redactor)
    if ckan_app.registry.errors:
        output.print_errors(output.console(stderr=True), ckan_app.registry.errors)
    if call.error is not None or ckan_app.registry.errors or call.database.breaches:
        ctx.exit(1)

