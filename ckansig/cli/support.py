"""What the commands share: the config options, loading the registry, finding
the signal a command names, and printing JSON."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click

from ckansig.errors import CkansigError, ConfigError
from ckansig.registry import Registry, SignalInfo

F = TypeVar("F", bound=Callable[..., Any])


class ConfigProblem(click.ClickException):
    """A configuration error: printed as one line, exit code 2."""

    exit_code = 2


def config_option(func: F) -> F:
    func = click.option(
        "--ckan-ini", "ckan_ini", metavar="PATH", default=None,
        help="A CKAN config file: load the plugins its ckan.plugins names too "
        "(default: $CKAN_INI, or ckan_ini in the config).",
    )(func)
    return click.option(
        "-c", "--config", "config", metavar="PATH", default=None,
        help="Config file (default: $CKANSIG_CONFIG, ./plugins.toml, or [tool.ckansig] in "
        "./pyproject.toml).",
    )(func)


def load_registry(ctx: click.Context, config: str | None) -> Registry:
    """Find and read the config, then load its plugins (their prints go to stderr)."""
    from ckansig.config import CKAN_INI_ENV, find_config, load_config
    from ckansig.loader import load

    root = ctx.find_root().params
    config = config or root.get("config")
    ckan_ini = ctx.params.get("ckan_ini") or root.get("ckan_ini") or os.environ.get(
        CKAN_INI_ENV) or None
    try:
        path = find_config(config)
        settings = load_config(path).with_ckan_ini(ckan_ini)
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from None
    if path is None and settings.ckan_ini is None:
        click.echo("ckansig: no config found (-c, $CKANSIG_CONFIG, ./plugins.toml, "
                   "[tool.ckansig] in ./pyproject.toml); showing core signals only", err=True)
    ctx.meta["ckansig.config"] = settings
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return load(settings)
    finally:
        sys.stderr.flush()  # what plugins printed comes before ckansig's own output
        if isinstance(ctx.obj, dict) and ctx.obj.pop("gc_paused", False):
            # Paused by __main__.run for start-up. What is loaded now lives as
            # long as the process: freeze it, so that no later collection (the
            # one at exit included) walks it again. Garbage that receivers make
            # afterwards is collected, and finalized, as usual.
            gc.freeze()
            gc.enable()


def complete_signal(ctx: click.Context, param: click.Parameter,
                    incomplete: str) -> list[str]:
    """Shell completion for SIGNAL: the names of every loaded signal."""
    from ckansig.config import find_config, load_config
    from ckansig.loader import load

    try:
        config = ctx.params.get("config") or ctx.find_root().params.get("config")
        with contextlib.redirect_stdout(None), contextlib.redirect_stderr(None):
            registry = load(load_config(find_config(config)))
    except Exception:
        from ckansig.catalog import CORE_SIGNALS

        return sorted(s.name for s in CORE_SIGNALS if s.name.startswith(incomplete))
    return [name for name in registry.names() if name.startswith(incomplete)]


def find_signal(registry: Registry, name: str, namespace: str | None) -> SignalInfo:
    """The signal a command names, or a usage error with suggestions."""
    try:
        return registry.find(name, namespace)
    except CkansigError as exc:
        raise click.BadParameter(str(exc), param_hint="SIGNAL") from None


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while ckansig's own code builds output: tens of
    thousands of short-lived records, no cycles to free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def echo_json(document: Any) -> None:
    """Print ``document`` as JSON (see :func:`echo_json_text`)."""
    echo_json_text(json.dumps(document, ensure_ascii=False, default=repr,
                              separators=(",", ":"), check_circular=False))


def echo_json_text(text: str) -> None:
    """Print JSON ``text``: indented on a terminal, compact (and faster) in a pipe,
    where it is written as UTF-8 bytes (JSON's own encoding) whatever the locale."""
    # Not click.echo: it scans the whole text for ANSI codes when not on a terminal.
    buffer = getattr(sys.stdout, "buffer", None)
    if sys.stdout.isatty() or buffer is None:
        if sys.stdout.isatty():
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    else:
        sys.stdout.flush()
        # a lone surrogate (possible in plugin text) becomes its JSON escape, \udcxx
        buffer.write(text.encode("utf-8", "backslashreplace") + b"\n")
        buffer.flush()
