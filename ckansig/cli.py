"""The ``ckansig`` command: parse arguments, call the core, render, exit.

Exit codes: 0 success; 1 the checked thing is wrong (a plugin failed to load, a
receiver raised, doctor found problems); 2 usage or configuration errors.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click

from ckansig import __version__
from ckansig.errors import CkansigError, ConfigError, UsageProblem
from ckansig.registry import Registry, SignalInfo

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = click.Choice(["text", "json"])


class KeyValue(click.ParamType):  # type: ignore[type-arg, unused-ignore]  # generic in click 8.4+
    """``KEY=VALUE``: VALUE is JSON when it parses as JSON, else a string."""

    name = "KEY=VALUE"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, Any]:
        if isinstance(value, tuple):
            return value
        from ckansig.values import parse_kw

        try:
            return parse_kw(value)
        except UsageProblem as exc:
            self.fail(exc.message, param, ctx)


class JsonOrString(click.ParamType):  # type: ignore[type-arg, unused-ignore]  # generic in click 8.4+
    """A value that is JSON when it parses as JSON, else a string."""

    name = "VALUE"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        from ckansig.values import parse_value

        return parse_value(value) if isinstance(value, str) else value


class JsonObject(click.ParamType):  # type: ignore[type-arg, unused-ignore]  # generic in click 8.4+
    """A JSON object given inline, as ``@FILE``, or as ``-`` for standard input."""

    name = "JSON|@FILE|-"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        from ckansig.values import parse_json_object

        source, text = "--kwargs", str(value)
        if value == "-":
            source, text = "--kwargs from stdin", sys.stdin.read()
        elif value.startswith("@"):
            source = value[1:]
            try:
                with open(source, encoding="utf-8") as stream:
                    text = stream.read()
            except (OSError, UnicodeDecodeError) as exc:
                reason = getattr(exc, "strerror", None) or str(exc)
                self.fail(f"cannot read {source}: {reason}", param, ctx)
        try:
            return parse_json_object(text, source)
        except UsageProblem as exc:
            self.fail(exc.message, param, ctx)


class ConfigProblem(click.ClickException):
    """A configuration error: printed as one line, exit code 2."""

    exit_code = 2


def _config_option(func: F) -> F:
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ckansig")
@_config_option
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
@_config_option
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
@_config_option
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


class CheckIds(click.ParamType):  # type: ignore[type-arg, unused-ignore]  # generic in click 8.4+
    """Comma-separated check IDs (SIG007,SIG014)."""

    name = "IDS"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        from ckansig.checks import CHECKS

        ids = tuple(part.strip().upper() for part in str(value).split(",") if part.strip())
        unknown = [i for i in ids if i not in CHECKS]
        if unknown:
            self.fail(f"unknown check ID(s) {', '.join(unknown)} (known: SIG001-SIG"
                      f"{len(CHECKS):03d})", param, ctx)
        return ids


class Release(click.ParamType):  # type: ignore[type-arg, unused-ignore]  # generic in click 8.4+
    """A CKAN release as MAJOR.MINOR."""

    name = "X.Y"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        from ckansig.config import parse_version

        parsed = parse_version(str(value))
        if parsed is None:
            self.fail(f"{value!r} is not a release like 2.11", param, ctx)
        return parsed


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
@_config_option
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
