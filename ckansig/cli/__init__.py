"""The ``ckansig`` command: parse arguments, call the core, render, exit.

One module per command (``list_command``, ``fire_command``, ``doctor_command``,
``trace_command``), imported only when that command runs (or ``--help`` lists
them); their argument types are in :mod:`ckansig.cli.params`,
what they share (config options, loading, JSON output) in
:mod:`ckansig.cli.support`, and the console script's GC trick in
:mod:`ckansig.cli.gc_policy`. Only this package imports click.

Exit codes: 0 success; 1 the checked thing is wrong (a plugin failed to load, a
receiver raised, doctor found problems); 2 usage or configuration errors.
"""

from __future__ import annotations

import importlib

import click

from ckansig import __version__
from ckansig.cli.support import config_option

__all__ = ["main"]

#: command name -> the module that defines it, as ``<name>_command``
COMMANDS = {"list": "list_command", "fire": "fire_command", "doctor": "doctor_command",
            "trace": "trace_command"}


class _LazyGroup(click.Group):
    """A group that imports a command's module only when the command is used
    (click's documented pattern for lazily loaded subcommands)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: click.Command = getattr(importlib.import_module(f"ckansig.cli.{module}"),
                                         module)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ckansig")
@config_option
def main(config: str | None, ckan_ini: str | None) -> None:
    """See, fire and check CKAN signals and their receivers.

    ckansig loads the plugins named in plugins.toml (or [tool.ckansig] in
    pyproject.toml), connects their ISignal subscriptions as CKAN does, and
    shows, sends or checks them.
    """

