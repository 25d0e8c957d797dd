"""The ``ckansig`` command: parse arguments, call the core, render, exit.

Exit codes: 0 success; 1 the checked thing is wrong (a plugin failed to load, a
receiver raised, doctor found problems); 2 usage or configuration errors.
"""

from __future__ import annotations

import contextlib
import gc
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ckansig import __version__
from ckansig.errors import ConfigError
from ckansig.registry import Registry

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = click.Choice(["text", "json"])


class ConfigProblem(click.ClickException):
    """A configuration error: printed as one line, exit code 2."""

    exit_code = 2


def _config_option(func: F) -> F:
    return click.option(
        "-c", "--config", "config", metavar="PATH", default=None,
        help="Config file (default: $CKANSIG_CONFIG, ./plugins.toml, or [tool.ckansig] in "
        "./pyproject.toml).",
    )(func)


def load_registry(ctx: click.Context, config: str | None) -> Registry:
    """Find and read the config, then load its plugins (their prints go to stderr)."""
    from ckansig.config import find_config, load_config
    from ckansig.loader import load

    config = config or (ctx.find_root().params.get("config"))
    try:
        path = find_config(config)
        settings = load_config(path)
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from None
    if path is None:
        click.echo("ckansig: no config found (-c, $CKANSIG_CONFIG, ./plugins.toml, "
                   "[tool.ckansig] in ./pyproject.toml); showing core signals only", err=True)
    ctx.meta["ckansig.config"] = settings
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return load(settings)
    finally:
        if isinstance(ctx.obj, dict) and ctx.obj.pop("gc_paused", False):
            gc.enable()  # paused by __main__.run for start-up only


def quick_exit(ctx: click.Context) -> None:
    """Tell ``__main__.run`` that no plugin code runs from here on."""
    if isinstance(ctx.obj, dict) and "quick_exit" in ctx.obj:
        ctx.obj["quick_exit"] = True


def echo_json(document: Any) -> None:
    """Print ``document``: indented on a terminal, compact (and faster) in a pipe."""
    indent = 2 if sys.stdout.isatty() else None
    click.echo(json.dumps(document, indent=indent, ensure_ascii=False, default=repr))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ckansig")
@_config_option
def main(config: str | None) -> None:
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
@_config_option
@click.pass_context
def list_command(
    ctx: click.Context, pattern: str | None, namespace: str | None, plugin: str | None,
    subscribed: bool, fmt: str, config: str | None,
) -> None:
    """List every signal and its receivers, with where each came from.

    PATTERN selects signals by name: a glob (user_*) or a substring (login).
    Exits 1 when a plugin failed to load, after showing everything else.
    """
    from ckansig import render

    registry = load_registry(ctx, config)
    quick_exit(ctx)
    signals = registry.select(pattern, namespace, plugin, subscribed)
    if fmt == "json":
        echo_json(render.list_json(registry, signals))
    else:
        render.print_list(render.console(), registry, signals)
    if registry.errors:
        if fmt != "json":
            render.print_errors(render.console(stderr=True), registry.errors)
        ctx.exit(1)
