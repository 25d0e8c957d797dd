"""``ckansig doctor``."""

from __future__ import annotations

import click

from ckansig.cli.gc_policy import POLICY
from ckansig.cli.params import CheckIds, Release
from ckansig.cli.support import config_option, echo_json, load_registry
from ckansig.errors import ConfigError
from ckansig.isolation import streams


@click.command("doctor")
@click.option("--fail-level", type=click.Choice(["error", "warning", "info", "pedantic"]),
              default=None,
              help="Exit 1 when a problem at or above this level remains (default: error, "
              "or fail_level in [ckansig.doctor]).")
@click.option("--strict", is_flag=True, default=None,
              help="Also report pedantic findings: true to the letter of CKAN's guide, "
              "rarely worth acting on (or strict = true in [ckansig.doctor]).")
@click.option("--select", "select", type=CheckIds(), multiple=True,
              help="Only these checks (comma-separated IDs). Repeatable.")
@click.option("--ignore", "ignore", type=CheckIds(), multiple=True,
              help="Silence these checks (comma-separated IDs). Repeatable.")
@click.option("--ckan-version", type=Release(), default=None,
              help="The CKAN release to check against (default: the installed CKAN, else "
              "the newest known).")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json", "github"]),
              default="text", show_default=True, help="Output format.")
@click.option("--explain", "explain_id", metavar="ID", default=None,
              help="Explain a check (SIG007), with an example of the mistake and the fix.")
@config_option
@click.pass_context
def doctor_command(
    ctx: click.Context, fail_level: str | None, select: tuple[tuple[str, ...], ...],
    ignore: tuple[tuple[str, ...], ...], ckan_version: tuple[int, int] | None, fmt: str,
    explain_id: str | None, config: str | None, ckan_ini: str | None, strict: bool | None,
) -> None:
    """Check every plugin's subscriptions against CKAN's rules and blinker's behaviour.

    Findings have stable IDs (SIG001-SIG022) and severities; silence them with
    --ignore, with [ckansig.doctor] in the config, or with a
    "# ckansig: ignore[SIGnnn]" comment on the receiver. Exits 1 when a
    problem at or above --fail-level remains.
    """
    from ckansig import output
    from ckansig.doctor import CHECKS, diagnose

    if explain_id is not None:
        check = CHECKS.get(explain_id.strip().upper())
        if check is None:
            raise click.BadParameter(f"unknown check ID {explain_id!r}", param_hint="--explain")
        click.echo(output.explain(check), nl=False)  # before any plugin code: stdout is ours
        return
    registry = load_registry(ctx, text=fmt == "text")
    settings = ctx.meta["ckansig.config"]
    if not settings.plugins:  # a CI job that checks nothing must not pass
        raise ConfigError("nothing to check: no config names a plugin (-c, "
                          "$CKANSIG_CONFIG, ./plugins.toml, [tool.ckansig] in "
                          "./pyproject.toml, or a ckan.ini with ckan.plugins)")
    level = fail_level or settings.doctor.fail_level or "error"
    # the loader settled which receivers are alive (collecting when a cycle
    # could matter); diagnose builds only ckansig's own records: the
    # collector can rest meanwhile
    with POLICY.building_output():
        report = diagnose(registry, settings, ckan_version=ckan_version,
                          select=[i for ids in select for i in ids],
                          ignore=[i for ids in ignore for i in ids],
                          strict=True if strict or level == "pedantic" else None)
    with POLICY.building_output(last=True):
        if fmt == "json":
            echo_json(output.report_json(report, level))
        elif fmt == "github":
            out = streams().out
            for line in output.github_annotations(report):
                click.echo(line, file=out)
            click.echo(output.summary_line(report), file=out)
        else:
            output.print_report(output.console(), report)
    if report.fails(level):
        ctx.exit(1)
