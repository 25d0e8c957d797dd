"""The ``ckansig`` command: parse arguments, call the core, render, exit.

The commands are here; their argument types are in :mod:`ckansig.cli.params`
and what they share (config options, loading, JSON output) in
:mod:`ckansig.cli.support`. Only this package imports click.

Exit codes: 0 success; 1 the checked thing is wrong (a plugin failed to load, a
receiver raised, doctor found problems); 2 usage or configuration errors.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from ckansig import __version__
from ckansig.cli.params import FORMATS, CheckIds, JsonObject, JsonOrString, KeyValue, Release
from ckansig.cli.support import (
    complete_signal,
    config_option,
    echo_json,
    echo_json_text,
    find_signal,
    gc_paused,
    load_registry,
)
from ckansig.errors import UsageProblem


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ckansig")
@config_option
def main(config: str | None, ckan_ini: str | None) -> None:
    """See, fire and check CKAN signals and their receivers.

    ckansig loads the plugins named in plugins.toml (or [tool.ckansig] in
    pyproject.toml), connects their ISignal subscriptions as CKAN does, and
    shows, sends or checks them.
    """


@main.command("list")
@click.argument("pattern", required=False)
@click.option("-n", "--namespace", help="Only signals in this namespace (ckan, ckanext).")
@click.option("-p", "--plugin", help="Only receivers from this plugin (as named in the config).")
@click.option("-s", "--subscribed", is_flag=True, help="Only signals that have receivers.")
@click.option("-f", "--format", "fmt", type=FORMATS, default="text", show_default=True,
              help="Output format.")
@config_option
@click.pass_context
def list_command(
    ctx: click.Context, pattern: str | None, namespace: str | None, plugin: str | None,
    subscribed: bool, fmt: str, config: str | None, ckan_ini: str | None,
) -> None:
    """List every signal and its receivers, with where each came from.

    PATTERN selects signals by name: a glob (user_*) or a substring (login).
    Exits 1 when a plugin failed to load, after showing everything else.
    """
    from ckansig import render

    registry = load_registry(ctx, config)
    signals = registry.select(pattern, namespace, plugin, subscribed)
    with gc_paused():
        if fmt == "json":
            echo_json(render.list_json(registry, signals))
        else:
            render.print_list(render.console(), registry, signals)
    if registry.errors:
        if fmt != "json":
            render.print_errors(render.console(stderr=True), registry.errors)
        ctx.exit(1)


@main.command("fire")
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
@click.option("-f", "--format", "fmt", type=FORMATS, default="text", show_default=True,
              help="Output format.")
@config_option
@click.pass_context
def fire_command(
    ctx: click.Context, signal_name: str, namespace: str | None, sender: Any,
    kw: tuple[tuple[str, Any], ...], kwargs_json: dict[str, Any] | None, objects: bool,
    stop_on_error: bool, dry_run: bool, no_redact: bool, strict: bool, fmt: str,
    config: str | None, ckan_ini: str | None,
) -> None:
    """Send SIGNAL with JSON keyword arguments and trace every receiver.

    Shows which receivers ran, in the order Signal.send calls them, what each
    returned or raised, how long it took, and whether it modified its
    arguments. Every receiver runs even if an earlier one raised, unless
    --stop-on-error. Exits 1 when a receiver raised (or, with --strict,
    mutated its arguments) or a plugin failed to load.

    \b
    ckansig fire user_created --kw username=bob --kw user='{"name": "bob"}'
    """
    from ckansig import render
    from ckansig.tracing import fire
    from ckansig.values import Redactor, build_call, to_objects

    registry = load_registry(ctx, config)
    info = find_signal(registry, signal_name, namespace)
    try:
        sender_value, kwargs = build_call(
            info.core, sender=sender, sender_given=sender is not None,
            kwargs=kwargs_json, kw=kw)
    except UsageProblem as exc:
        raise click.BadParameter(exc.message, param_hint=exc.param) from None
    if objects:
        sender_value, kwargs = to_objects(sender_value), to_objects(kwargs)
    redactor = Redactor(kwargs, enabled=not no_redact)
    trace = fire(info, sender_value, kwargs, registry=registry, stop_on_error=stop_on_error,
                 dry_run=dry_run, capture_output=True)
    with gc_paused():
        if fmt == "json":
            echo_json_text(render.trace_json(trace, redactor))
        else:
            render.print_trace(render.console(), trace, redactor)
    if registry.errors:
        render.print_errors(render.console(stderr=True), registry.errors)
    if registry.errors or not trace.ok or (strict and trace.mutated):
        ctx.exit(1)


@main.command("doctor")
@click.option("--fail-level", type=click.Choice(["error", "warning", "info"]), default=None,
              help="Exit 1 when a problem at or above this level remains (default: error, "
              "or fail_level in [ckansig.doctor]).")
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
    explain_id: str | None, config: str | None, ckan_ini: str | None,
) -> None:
    """Check every plugin's subscriptions against CKAN's rules and blinker's behaviour.

    Findings have stable IDs (SIG001-SIG016) and severities; silence them with
    --ignore, with [ckansig.doctor] in the config, or with a
    "# ckansig: ignore[SIGnnn]" comment on the receiver. Exits 1 when a
    problem at or above --fail-level remains.
    """
    from ckansig import render
    from ckansig.checks import CHECKS
    from ckansig.doctor import diagnose

    if explain_id is not None:
        check = CHECKS.get(explain_id.strip().upper())
        if check is None:
            raise click.BadParameter(f"unknown check ID {explain_id!r}",
                                     param_hint="--explain")
        click.echo(render.explain(check), nl=False)
        return
    registry = load_registry(ctx, config)
    settings = ctx.meta["ckansig.config"]
    level = fail_level or settings.doctor.fail_level or "error"
    report = diagnose(registry, settings, ckan_version=ckan_version,
                      select=[i for ids in select for i in ids],
                      ignore=[i for ids in ignore for i in ids])
    with gc_paused():
        if fmt == "json":
            echo_json(render.report_json(report, level))
        elif fmt == "github":
            for line in render.github_annotations(report):
                click.echo(line)
            click.echo(render.summary_line(report))
        else:
            render.print_report(render.console(), report)
    if report.fails(level):
        ctx.exit(1)


@main.command("trace", context_settings={"ignore_unknown_options": True,
                                         "allow_interspersed_args": False})
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write one JSON line per send to this file (default: a temporary file, "
              "removed after the summary).")
@click.option("--signal", "pattern", metavar="PATTERN", default=None,
              help="Record only signals whose name matches (a glob or a substring).")
@click.option("--no-redact", is_flag=True, help="Show secret-looking values as they are.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def trace_command(ctx: click.Context, output: str | None, pattern: str | None,
                  no_redact: bool, command: tuple[str, ...]) -> None:
    """Run a Python COMMAND and record every signal it sends.

    Recording is switched on in the child process before the program imports
    anything, so signals forwarded from Flask to CKAN are seen too. Writes a
    JSON line per send (signal, sender, kwargs, receivers and their outcomes,
    secrets redacted) and prints a summary when COMMAND exits. The exit status
    is COMMAND's.

    \b
    ckansig trace -o sends.jsonl -- pytest tests/
    ckansig trace --signal 'user_*' -- python -m myapp
    """
    import subprocess
    import tempfile

    from ckansig import render
    from ckansig._tracehook import resolve

    try:
        resolve(list(command))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="COMMAND") from None
    keep = output is not None
    if output is None:
        handle, output = tempfile.mkstemp(prefix="ckansig-trace-", suffix=".jsonl")
        os.close(handle)
    else:
        try:
            open(output, "w").close()  # start afresh, and fail early if unwritable
        except OSError as exc:
            raise click.BadParameter(f"cannot write {output}: {exc.strerror}",
                                     param_hint="--output") from None
    try:
        done = subprocess.run([sys.executable, "-m", "ckansig._tracehook", output,
                               pattern or "", "0" if no_redact else "1", "--", *command])
        with gc_paused():
            render.print_trace_summary(render.console(stderr=True), output,
                                       kept=output if keep else None)
    finally:
        if not keep:
            os.unlink(output)
    code = done.returncode
    ctx.exit(code if code >= 0 else 128 - code)
