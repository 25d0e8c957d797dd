"""``ckansig graph``."""

from __future__ import annotations

import click

from ckansig.cli.gc_policy import POLICY
from ckansig.cli.support import config_option, load_registry
from ckansig.isolation import streams


@click.command("graph")
@click.argument("pattern", required=False)
@click.option("-n", "--namespace", help="Only signals in this namespace (ckan, ckanext).")
@click.option("-p", "--plugin", help="Only receivers from this plugin (as named in the config).")
@click.option("-s", "--subscribed", is_flag=True, help="Only signals that have receivers.")
@click.option("--no-sends", is_flag=True, help="Leave out the send sites.")
@click.option("-f", "--format", "fmt", type=click.Choice(["mermaid", "dot", "html", "svg"]),
              default="mermaid", show_default=True,
              help="mermaid or dot for docs and pull requests; html, a self-contained page "
              "(search, hover, collapsing plugins); svg, the picture alone.")
@click.option("--layout", type=click.Choice(["auto", "dot", "builtin"]), default="auto",
              show_default=True,
              help="Who lays out html and svg: Graphviz's dot (auto: when installed), or "
              "ckansig's own layered layout.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of stdout.")
@config_option
@click.pass_context
def graph_command(
    ctx: click.Context, pattern: str | None, namespace: str | None, plugin: str | None,
    subscribed: bool, no_sends: bool, fmt: str, layout: str, output: str | None,
    config: str | None, ckan_ini: str | None,
) -> None:
    """Draw the wiring map: plugins -> signals -> receivers, with the send sites
    that send each signal (read from source, as list --sends shows them).

    Takes the same filters as list. html and svg are laid out by Graphviz's
    dot when it is installed, else by ckansig's own layout; either way no two
    boxes or labels overlap. Exits 1 when a plugin failed to load, after
    drawing everything else.
    """
    from ckansig import output as rendering

    registry = load_registry(ctx, text=False)
    signals = registry.select(pattern, namespace, plugin, subscribed)
    with POLICY.building_output(last=True):
        sends = None
        if not no_sends:
            from ckansig.sends import send_index

            sends = send_index(registry, ctx.meta["ckansig.config"])
        graph = rendering.build_graph(signals, sends)
        if fmt == "html":
            text = rendering.graph_html(graph, engine=layout)
        elif fmt == "svg":
            text = rendering.graph_svg(graph, layout) + "\n"
        else:
            text = {"mermaid": rendering.graph_mermaid, "dot": rendering.graph_dot}[fmt](graph)
    if output is not None:
        try:
            with open(output, "w", encoding="utf-8") as stream:
                stream.write(text)
        except OSError as exc:  # a missing folder, say: where it was told to write
            raise click.BadParameter(f"cannot write {output}: {exc.strerror or exc}",
                                     param_hint="'-o' / '--output'") from None
    else:
        click.echo(text, file=streams().out, nl=False)
    if registry.errors:
        rendering.print_errors(rendering.console(stderr=True), registry.errors)
        ctx.exit(1)
