"""``ckansig fire``."""

from __future__ import annotations

import copy
from typing import Any

import click

from ckansig.cli.gc_policy import POLICY
from ckansig.cli.orders_options import in_order, order_options, report_orders
from ckansig.cli.params import FORMATS, JsonObject, JsonOrString, KeyValue, max_input_option
from ckansig.cli.support import (
    complete_signal,
    config_option,
    done_with_plugins,
    echo_json_text,
    load_registry,
    start_app,
)


@click.command("fire")
@click.argument("signal_name", metavar="SIGNAL", shell_complete=complete_signal)
@click.option("-n", "--namespace", help="The namespace of SIGNAL, when its name is in several.")
@click.option("--sender", type=JsonOrString(), default=None,
              help="The sender (JSON, else a string). Default: None, or the documented first "
              "argument given with --kw (user_created: --kw username=bob).")
@click.option("--kw", "kw", type=KeyValue(), multiple=True,
              help="A keyword argument; VALUE is JSON when valid JSON, else a string. Repeatable.")
@click.option("--kwargs", "kwargs_json", type=JsonObject(), default=None,
              help="Keyword arguments as one JSON object: inline, @FILE or - (stdin). "
              "--kw entries override it.")
@click.option("--objects", is_flag=True,
              help="Turn JSON objects into values with attributes too (user.name).")
@click.option("--stop-on-error", is_flag=True,
              help="Stop at the first exception, as Signal.send does.")
@click.option("--dry-run", is_flag=True, help="Show who would receive; call nothing.")
@click.option("--no-redact", is_flag=True, help="Show secret-looking values as they are.")
@click.option("--strict", is_flag=True, help="Exit 1 when a receiver mutated its arguments.")
@click.option("--timeout", type=click.FloatRange(min=0), default=30.0, show_default=True,
              metavar="SECONDS",
              help="Stop a receiver that runs longer (status timeout; a coroutine is "
              "cancelled) and go on with the rest. 0: no limit.")
@click.option("--app", is_flag=True,
              help="Send inside a real CKAN app (needs a ckan.ini and its database). Database "
              "changes are rolled back unless --commit; mail, files, Redis and jobs are not.")
@click.option("--user", metavar="NAME", default=None,
              help="With --app: send as this CKAN user (default: anonymous).")
@click.option("--commit", is_flag=True,
              help="With --app: keep the database changes the receivers made.")
@click.option("-f", "--format", "fmt", type=FORMATS, default="text", show_default=True,
              help="Output format.")
@order_options
@max_input_option
@config_option
@click.pass_context
def fire_command(
    ctx: click.Context, signal_name: str, namespace: str | None, sender: Any,
    kw: tuple[tuple[str, Any], ...], kwargs_json: dict[str, Any] | None, objects: bool,
    stop_on_error: bool, dry_run: bool, no_redact: bool, strict: bool, timeout: float, app: bool,
    user: str | None, commit: bool, fmt: str, orders: int | None, order: int | None, seed: int,
    config: str | None, ckan_ini: str | None,
) -> None:
    """Send SIGNAL with JSON keyword arguments and trace every receiver.

    Shows which receivers ran, in the order Signal.send calls them, what each
    returned or raised, how long it took, and whether it modified its
    arguments. Every receiver runs even if an earlier one raised, unless
    --stop-on-error. Exits 1 when a receiver raised or timed out (or, with
    --strict, mutated its arguments) or a plugin failed to load. Ctrl-C stops
    the fire: what happened so far is shown, and the exit code is 130.

    With --app, the receivers run inside CKAN's real app, in a request as
    --user (or anonymous), and can use its config, its actions and its
    database; every database change is rolled back unless --commit, and the
    trace shows what each receiver wrote. Nothing else is undone: mail sent,
    files written, Redis keys and enqueued jobs stay.

    \b
    ckansig fire user_created --kw username=bob --kw user='{"name": "bob"}'
    ckansig fire action_succeeded --app --sender user_create --kw result='{"id": "…"}'

    With --orders, the send is made once per order of its receivers (and of
    the sends they make), each run rolled back with --app, and the receivers
    whose outcome depends on the order are reported; --order K replays one.
    """
    from ckansig import output
    from ckansig.firing import FireInterrupted, fire
    from ckansig.firing.arguments import build_call

    if (user is not None or commit) and not app:
        raise click.UsageError("--user and --commit go with --app")
    if orders is not None and (commit or dry_run):
        raise click.UsageError("--orders compares runs that are rolled back: not with "
                               "--commit or --dry-run")
    ckan_app = start_app(ctx, text=fmt == "text", commit=commit) if app else None
    registry = ckan_app.registry if ckan_app is not None else load_registry(
        ctx, text=fmt == "text")
    info = registry.find(signal_name, namespace)
    with POLICY.building_output():  # ckansig's own data: no garbage cycles
        sender, kwargs = build_call(info.core, sender=sender, sender_given=sender is not None,
                                    kwargs=kwargs_json, kw=kw, objects=objects)
    options: dict[str, Any] = {"stop_on_error": stop_on_error, "dry_run": dry_run,
                               "capture_output": True, "timeout": timeout}
    def once() -> Any:
        # each run of --orders has arguments of its own: receivers may change them
        given, arguments = (sender, kwargs) if orders is None else copy.deepcopy((sender, kwargs))
        if ckan_app is not None:
            return ckan_app.fire(info, given, arguments, user=user, commit=commit, **options)
        return fire(info, given, arguments, registry=registry, **options)

    if orders is not None:
        def document() -> Any:
            import json

            run = once()
            with POLICY.building_output():
                return json.loads(output.trace_json(run, run.secrets.redactor(not no_redact)))

        report_orders(ctx, document, fmt=fmt, sample=orders, seed=seed, order=order,
                      given=(sender, kwargs), redact=not no_redact)
        return
    try:
        with in_order(order, seed):
            trace = once()
    except FireInterrupted as stopped:
        trace = stopped.trace
    done_with_plugins(ctx)
    with POLICY.building_output(last=True):
        # the secrets of the arguments and of every send the receivers made
        redactor = trace.secrets.redactor(not no_redact)
        if fmt == "json":
            echo_json_text(output.trace_json(trace, redactor))
        else:
            output.print_trace(output.console(), trace, redactor)
    if registry.errors:
        output.print_errors(output.console(stderr=True), registry.errors)
    if trace.interrupted:
        ctx.exit(130)
    breached = trace.database is not None and bool(trace.database.breaches)
    if registry.errors or not trace.ok or (strict and trace.mutated) or breached:
        ctx.exit(1)
