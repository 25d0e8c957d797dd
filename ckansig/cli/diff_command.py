"""``ckansig diff``."""

from __future__ import annotations

import click

from ckansig.cli.support import echo_json
from ckansig.isolation import streams


@click.command("diff")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              default="text", show_default=True,
              help="Output format (markdown: a summary for a pull-request comment).")
@click.option("--fail-on-change", is_flag=True,
              help="Exit 1 when anything differs (for CI).")
def diff_command(a: str, b: str, fmt: str, fail_on_change: bool) -> None:
    """Compare the signal wiring of two sides: receivers added and removed,
    sender filters changed, signals appearing or disappearing, findings new
    or fixed.

    A side is a saved "ckansig list --format json --findings" document, a
    ckan.ini or a plugins.toml (each loaded in a ckansig process of its own).
    Exits 0, or 1 with --fail-on-change when anything differs; 2 when a side
    cannot be read.
    """
    from ckansig import output
    from ckansig.diffing import compare, read_side

    sides = read_side(a), read_side(b)
    diff = compare(*sides)
    if fmt == "json":
        echo_json(output.diff_json(diff))
    elif fmt == "markdown":
        click.echo(output.diff_markdown(diff), file=streams().out, nl=False)
    else:
        output.print_diff(output.console(), diff)
    if fail_on_change and diff.changed:
        raise SystemExit(1)
