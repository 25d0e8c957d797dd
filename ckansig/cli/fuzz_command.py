"""``ckansig fuzz``."""

from __future__ import annotations

import sys
from typing import Any

import click

from ckansig.cli.gc_policy import POLICY
from ckansig.cli.params import FORMATS, JsonObject, KeyValue, max_input_option
from ckansig.cli.support import config_option, echo_json, start_app


@click.command("fuzz")
@click.argument("action")
@click.option("--kw", "kw", type=KeyValue(), multiple=True,
              help="A data_dict item every call has, KEY=VALUE (VALUE is JSON, or a plain "
              "string): owner_org=my-org. Repeatable.")
@click.option("--data", "data_json", type=JsonObject(), default=None,
              help="Items every call has, as a JSON object (--kw items are added to it).")
@click.option("--user", default=None, help="Call the action as this CKAN user (default: "
              "anonymous).")
@click.option("--max-examples", type=click.IntRange(min=1), default=100, show_default=True,
              help="Call the action at most this many times (shrinking included).")
@click.option("--deadline", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Stop calling the action after this long (default: no limit).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="The seed of the data_dicts drawn.")
@click.option("--no-redact", is_flag=True, help="Show secret-looking values as they are.")
@click.option("-f", "--format", "fmt", type=FORMATS, default="text", show_default=True,
              help="Output format.")
@max_input_option
@config_option
@click.pass_context
def fuzz_command(ctx: click.Context, action: str, kw: tuple[tuple[str, Any], ...],
                 data_json: dict[str, Any] | None, user: str | None, max_examples: int,
                 deadline: float | None, seed: int, no_redact: bool, fmt: str,
                 config: str | None, ckan_ini: str | None) -> None:
    """Call the CKAN action ACTION (CKAN mode) with data_dicts drawn from its
    own schema, each call rolled back, and report every receiver that raised
    on a call the action accepted, with the smallest data_dict found
    (hypothesis shrinks it) and the ckansig call that replays it.

    Required fields are always given, optional ones sometimes; text may be
    empty, unicode or long; nested lists (resources, tags, extras) come from
    their own schemas. Fields that must name something that exists
    (owner_org) are given with --kw or --data. Exits 1 when a receiver raised.
    Needs hypothesis (ckansig's fuzz extra, or pip install hypothesis).

    \b
    ckansig fuzz package_create --kw owner_org=my-org --user admin --max-examples 200
    """
    from ckansig import output
    from ckansig.firing.app import RunInterrupted
    from ckansig.firing.arguments import build_call
    from ckansig.firing.fuzz import action_schema, fuzz

    try:
        import hypothesis  # noqa: F401
    except ImportError:
        raise click.UsageError("fuzz needs hypothesis: pip install hypothesis (or ckansig's "
                               "fuzz extra)") from None
    _, fixed = build_call(None, kwargs=data_json, kw=kw)
    ckan_app = start_app(ctx, text=fmt == "text")
    with ckan_app.flask_app.test_request_context("/"):
        schema = action_schema(action, fixed)

    def call(data: dict[str, Any]) -> Any:
        return ckan_app.call(action, data, user=user, wait=5.0)

    try:
        report = fuzz(call, schema, fixed, action=action, max_examples=max_examples,
                      deadline=deadline, seed=seed)
    except RunInterrupted as stopped:
        click.echo(f"ckansig: {stopped}", err=True)
        ctx.exit(130)
    argv = list(ctx.meta.get("ckansig.argv", sys.argv[1:]))
    with POLICY.building_output():  # each crash redacted with its own data_dict's secrets
        if fmt == "json":
            echo_json(output.fuzz_json(report, argv, user, not no_redact))
        else:
            output.print_fuzz(output.console(), report, argv, user, not no_redact)
    if ckan_app.registry.errors:
        output.print_errors(output.console(stderr=True), ckan_app.registry.errors)
    if report.crashes or ckan_app.registry.errors:
        ctx.exit(1)
