"""``ckansig list``."""

from __future__ import annotations

import click

from ckansig.cli.gc_policy import POLICY
from ckansig.cli.params import FORMATS
from ckansig.cli.support import config_option, echo_json, load_registry


@click.command("list")
@click.argument("pattern", required=False)
@click.option("-n", "--namespace", help="Only signals in this namespace (ckan, ckanext).")
@click.option("-p", "--plugin", help="Only receivers from this plugin (as named in the config).")
@click.option("-s", "--subscribed", is_flag=True, help="Only signals that have receivers.")
@click.option("--sends", is_flag=True,
              help="Also show where each signal is sent: the send sites found in the source "
              "of CKAN and the extensions (file:line, sender, keyword arguments).")
@click.option("-f", "--format", "fmt", type=FORMATS, default="text", show_default=True,
              help="Output format.")
@click.option("--findings", is_flag=True,
              help="Also run doctor's checks: JSON gets its problems (for ckansig diff), "
              "text its report.")
@config_option
@click.pass_context
def list_command(
    ctx: click.Context, pattern: str | None, namespace: str | None, plugin: str | None,
    subscribed: bool, sends: bool, findings: bool, fmt: str, config: str | None,
    ckan_ini: str | None,
) -> None:
    """List every signal and its receivers, with where each came from.

    PATTERN selects signals by name: a glob (user_*) or a substring (login).
    A PATTERN, --namespace or --plugin that matches nothing is said, with the
    closest names (exit 0). Exits 1 when a plugin failed to load, after
    showing everything else.
    """
    from ckansig import output

    registry = load_registry(ctx, text=fmt == "text")
    signals = registry.select(pattern, namespace, plugin, subscribed)
    if not signals:
        reason = registry.why_empty(pattern, namespace, plugin)
        if reason is not None:  # said on stderr: JSON on stdout stays a document
            from ckansig.output.terminal import clean

            click.echo(f"ckansig: {clean(reason)}", err=True)
    with POLICY.building_output(last=True):
        index = None
        if sends:
            from ckansig.sends import send_index

            index = send_index(registry, ctx.meta["ckansig.config"])
        report = None
        if findings:
            from ckansig.doctor import diagnose

            report = diagnose(registry, ctx.meta["ckansig.config"])
        if fmt == "json":
            document = output.list_json(registry, signals, index)
            if report is not None:
                document["problems"] = [output.problem_json(p) for p in report.problems]
                document["summary"] = report.summary()
            echo_json(document)
        else:
            output.print_list(output.console(), registry, signals, index)
            if report is not None:
                output.print_report(output.console(), report)
    if registry.errors:
        if fmt != "json":
            output.print_errors(output.console(stderr=True), registry.errors)
        ctx.exit(1)
