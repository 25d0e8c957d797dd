"""The ``ckansig`` command: parse arguments, call the core, render, exit.

One module per command (``list_command``, ``fire_command``, ``doctor_command``,
``trace_command``); their argument types are in :mod:`ckansig.cli.params`,
what they share (config options, loading, JSON output) in
:mod:`ckansig.cli.support`, and the console script's GC trick in
:mod:`ckansig.cli.gc_policy`. Only this package imports click.

Exit codes: 0 success; 1 the checked thing is wrong (a plugin failed to load, a
receiver raised, doctor found problems); 2 usage or configuration errors.
"""

from __future__ import annotations

import click

from ckansig import __version__
from ckansig.cli.doctor_command import doctor_command
from ckansig.cli.fire_command import fire_command
from ckansig.cli.list_command import list_command
from ckansig.cli.support import config_option
from ckansig.cli.trace_command import trace_command

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ckansig")
@config_option
def main(config: str | None, ckan_ini: str | None) -> None:
    """See, fire and check CKAN signals and their receivers.

    ckansig loads the plugins named in plugins.toml (or [tool.ckansig] in
    pyproject.toml), connects their ISignal subscriptions as CKAN does, and
    shows, sends or checks them.
    """


for _command in (list_command, fire_command, doctor_command, trace_command):
    main.add_command(_command)
