"""What the commands share: the config options, loading the registry, finding
the signal a command names, turning domain errors into click's, and printing JSON."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ckansig.cli.gc_policy import POLICY
from ckansig.config.settings import Config
from ckansig.model import Registry

if TYPE_CHECKING:
    from ckansig.firing.app import CkanApp

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    """The ``-c/--config`` and ``--ckan-ini`` options (also taken before the command)."""
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


def read_settings(ctx: click.Context) -> Config:
    """The config a command works with: ``-c`` (before or after the command),
    ``$CKANSIG_CONFIG`` or the default files, plus the plugins of the CKAN
    config file (``--ckan-ini``, ``$CKAN_INI`` or ``ckan_ini`` in the config).
    Raises :class:`~ckansig.errors.ConfigError`."""
    from ckansig.config import CKAN_INI_ENV, find_config, load_config

    root = ctx.find_root().params
    config = ctx.params.get("config") or root.get("config")
    ckan_ini = ctx.params.get("ckan_ini") or root.get("ckan_ini") or os.environ.get(
        CKAN_INI_ENV) or None
    return load_config(find_config(config)).with_ckan_ini(ckan_ini)


def load_registry(ctx: click.Context, *, text: bool = False) -> Registry:
    """Read the config (:func:`read_settings`), then load its plugins (see
    :func:`_loading`); ``text`` when the output will be rich text. The config
    is kept in ``ctx.meta["ckansig.config"]``."""
    from ckansig.loading import load

    settings = _settings(ctx)
    with _loading(ctx, text):
        return load(settings)


def start_app(ctx: click.Context, *, text: bool = False, commit: bool = False) -> CkanApp:
    """Read the config, load its plugins and start CKAN's app (``fire --app``,
    ``call``), its database guarded from start-up on (kept with ``commit``)."""
    from ckansig.firing.app import CkanApp

    settings = _settings(ctx)
    with _loading(ctx, text):
        return CkanApp(settings, commit=commit)


def done_with_plugins(ctx: click.Context) -> None:
    """Plugin code has finished: put back what it changed of the interpreter
    that ckansig's output needs (see :class:`~ckansig.isolation.Interpreter`)."""
    interpreter = ctx.meta.get("ckansig.interpreter")
    if interpreter is not None:
        interpreter.restore()


def _settings(ctx: click.Context) -> Config:
    settings = read_settings(ctx)
    if settings.path is None and settings.ckan_ini is None:
        click.echo("ckansig: no config found (-c, $CKANSIG_CONFIG, ./plugins.toml, "
                   "[tool.ckansig] in ./pyproject.toml); showing core signals only", err=True)
    ctx.meta["ckansig.config"] = settings
    return settings


@contextlib.contextmanager
def _loading(ctx: click.Context, text: bool) -> Iterator[None]:
    """Around loading the plugins. Before their code runs: stdout becomes
    ckansig's alone (whatever plugin code writes there goes to stderr), the
    state of the interpreter ckansig needs is noted, and what the output will
    import is imported. Afterwards that state is put back (:func:`done_with_plugins`)."""
    from ckansig.isolation import Interpreter, flush_quietly, own_streams

    if text:
        import rich.console
        import rich.table
        import rich.text  # noqa: F401
    own_streams()
    ctx.meta["ckansig.interpreter"] = Interpreter()
    with POLICY.loading():
        try:
            yield
        finally:
            flush_quietly(sys.stdout, sys.stderr)  # what plugins printed comes first
            done_with_plugins(ctx)


def complete_signal(ctx: click.Context, param: click.Parameter,
                    incomplete: str) -> list[str]:
    """Shell completion for SIGNAL: the names of every signal the command would load."""
    from ckansig.loading import load

    try:
        settings = read_settings(ctx)
        with contextlib.redirect_stdout(None), contextlib.redirect_stderr(None):
            names = load(settings).names()
    except Exception:
        from ckansig.catalog import CORE_SIGNALS

        names = sorted(s.name for s in CORE_SIGNALS)
    return [name for name in names if name.startswith(incomplete)]


def echo_json(document: Any) -> None:
    """Print ``document`` as JSON (see :func:`echo_json_text`)."""
    echo_json_text(json.dumps(document, ensure_ascii=False, default=repr,
                              separators=(",", ":"), check_circular=False))


def echo_json_text(text: str) -> None:
    """Print JSON ``text``: indented on a terminal, compact (and faster) in a pipe,
    where it is written as UTF-8 bytes (JSON's own encoding) whatever the locale."""
    # Not click.echo: it scans the whole text for ANSI codes when not on a terminal.
    from ckansig.isolation import streams

    out = streams().out
    buffer = getattr(out, "buffer", None)
    if out.isatty() or buffer is None:
        if out.isatty():
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        # a lone surrogate (possible in plugin text) is written as its JSON escape
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        out.write(text + "\n")
        out.flush()
    else:
        out.flush()
        # a lone surrogate (possible in plugin text) becomes its JSON escape, \udcxx
        buffer.write(text.encode("utf-8", "backslashreplace"))
        buffer.write(b"\n")
        buffer.flush()
