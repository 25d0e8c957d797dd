"""``ckansig trace``."""

from __future__ import annotations

import click

from ckansig.cli.gc_policy import POLICY


@click.command("trace", context_settings={"ignore_unknown_options": True,
                                          "allow_interspersed_args": False})
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write one JSON line per send to this file (default: a temporary file, "
              "removed after the summary).")
@click.option("--signal", "pattern", metavar="PATTERN", default=None,
              help="Record only signals whose name matches (a glob or a substring).")
@click.option("--no-redact", is_flag=True, help="Show secret-looking values as they are.")
@click.option("--tree", is_flag=True,
              help="Also show the sends as trees, one per scope (test, command): each send "
              "under the receiver that caused it.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def trace_command(ctx: click.Context, output: str | None, pattern: str | None,
                  no_redact: bool, tree: bool, command: tuple[str, ...]) -> None:
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
    from ckansig import output as rendering
    from ckansig.watching.runner import traced

    with traced(list(command), output, pattern, not no_redact) as run, \
            POLICY.building_output(last=True):
        rendering.print_trace_summary(rendering.console(stderr=True), run.path,
                                      kept=run.path if run.kept else None, tree=tree,
                                      pattern=pattern)
    ctx.exit(run.exit_status)
