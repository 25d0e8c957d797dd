"""The ``ckansig`` command: parse arguments, call the core, render, exit.

One module per command (``list_command``, ``fire_command``, ``doctor_command``,
``trace_command``, ``diff_command``, ``graph_command``, ``call_command``),
imported only when that command runs (or ``--help`` lists them); their
argument types are in :mod:`ckansig.cli.params`, what they share (config
options, loading, JSON output) in :mod:`ckansig.cli.support`, and the console
script's GC trick in :mod:`ckansig.cli.gc_policy`. Only this package imports
click.

Exit codes: 0 success; 1 the checked thing is wrong (a plugin failed to load, a
receiver raised, doctor found problems); 2 usage or configuration errors.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from ckansig import __version__
from ckansig.cli.support import config_option

__all__ = ["main"]

#: command name -> the module that defines it, as ``<name>_command``
COMMANDS = {"list": "list_command", "fire": "fire_command", "doctor": "doctor_command",
            "trace": "trace_command", "diff": "diff_command", "graph": "graph_command",
            "call": "call_command", "fuzz": "fuzz_command"}


class _LazyGroup(click.Group):
    """A group that imports a command's module only when the command is used
    (click's documented pattern for lazily loaded subcommands), and that
    prints every error, click's own included, with terminal control
    characters escaped: an option name, a signal name or a config key can come
    from anyone."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("standalone_mode", True) is False:
            return super().main(*args, **kwargs)
        from ckansig.isolation import CTRL_C, release_streams, streams, watching_ctrl_c

        _degrade_unencodable_output()
        try:
            with watching_ctrl_c():
                code = super().main(*args, **{**kwargs, "standalone_mode": False})
        except click.ClickException as exc:
            from ckansig.output.terminal import clean

            exc.message = clean(exc.message)  # type: ignore[misc, unused-ignore]  # Final in 8.2+
            exc.show(file=streams().err)
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt) as exc:
            if CTRL_C.hit or isinstance(exc.__cause__ or exc, KeyboardInterrupt):
                said = str(exc.__cause__ or exc)
                said = said if said.startswith("interrupted") else "interrupted"
                click.echo(f"ckansig: {said}", file=streams().err)
                sys.exit(130)
            click.echo("Aborted!", file=streams().err)
            sys.exit(1)
        finally:
            release_streams()
        sys.exit(code if isinstance(code, int) else 0)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # the whole command line, for the commands that print one to replay a run
        ctx.meta["ckansig.argv"] = list(args)
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: click.Command = getattr(importlib.import_module(f"ckansig.cli.{module}"),
                                         module)
        if command.callback is not None and not getattr(command, "_ckansig_mapped", False):
            from ckansig.cli.errors import mapped

            command.callback = mapped(command.callback)  # domain errors, mapped once
            command._ckansig_mapped = True  # type: ignore[attr-defined]
        return command


def _degrade_unencodable_output() -> None:
    """On a stdout or stderr that cannot encode everything (``PYTHONIOENCODING=ascii``,
    a latin-1 terminal), print replacement characters instead of crashing."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        reconfigure = getattr(stream, "reconfigure", None)
        if encoding not in ("utf8", "utf16", "utf32") and reconfigure is not None:
            reconfigure(errors="replace")


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ckansig")
@config_option
def main(config: str | None, ckan_ini: str | None) -> None:
    """See, fire and check CKAN signals and their receivers.

    ckansig loads the plugins named in plugins.toml (or [tool.ckansig] in
    pyproject.toml), connects their ISignal subscriptions as CKAN does, and
    shows, sends or checks them.
    """

