"""The argument types of the commands: each validates at the boundary and
fails with a one-line usage error (exit 2) naming the culprit."""

from __future__ import annotations

import sys
from typing import Any

import click

from ckansig.errors import UsageProblem

__all__ = ["FORMATS", "CheckIds", "JsonObject", "JsonOrString", "KeyValue", "ParamType",
           "Release"]

FORMATS = click.Choice(["text", "json"])


class ParamType(click.ParamType):  # type: ignore[type-arg, unused-ignore]  # generic in click 8.4+
    """The base of ckansig's argument types (click's, whatever its version)."""


class KeyValue(ParamType):
    """``KEY=VALUE``: VALUE is JSON when it parses as JSON, else a string."""

    name = "KEY=VALUE"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, Any]:
        if isinstance(value, tuple):
            return value
        from ckansig.firing.arguments import parse_kw

        try:
            return parse_kw(value)
        except UsageProblem as exc:
            self.fail(exc.message, param, ctx)


class JsonOrString(ParamType):
    """A value that is JSON when it parses as JSON, else a string."""

    name = "VALUE"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        from ckansig.firing.arguments import parse_value

        if not isinstance(value, str):
            return value
        try:
            return parse_value(value, "--sender")
        except UsageProblem as exc:
            self.fail(exc.message, param, ctx)


#: How much a JSON option reads from a file or stdin unless --max-input-size says.
DEFAULT_MAX_INPUT_MB = 100
_MAX_INPUT = "ckansig.max_input_mb"


def max_input_option(func: Any) -> Any:
    """The ``--max-input-size MB`` option, taken before the JSON options it bounds."""

    def remember(ctx: click.Context, param: click.Parameter, value: int) -> int:
        ctx.meta[_MAX_INPUT] = value
        return value

    return click.option(
        "--max-input-size", type=click.IntRange(min=1), default=DEFAULT_MAX_INPUT_MB,
        show_default=True, metavar="MB", is_eager=True, expose_value=False, callback=remember,
        help="The most a JSON option (@FILE or -) reads, in megabytes; more is a usage error.",
    )(func)


class JsonObject(ParamType):
    """A JSON object given inline, as ``@FILE``, or as ``-`` for standard input
    (at most ``--max-input-size`` megabytes from either)."""

    name = "JSON|@FILE|-"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        from ckansig.firing.arguments import parse_json_object

        # the option this came from names it in errors: --kwargs (fire), --data (call)
        option = max((o for o in getattr(param, "opts", ()) if o.startswith("--")),
                     key=len, default="--kwargs")
        megabytes = (ctx.meta.get(_MAX_INPUT) if ctx is not None else None) or \
            DEFAULT_MAX_INPUT_MB
        limit = megabytes * 1_000_000
        source, text = option, str(value)
        if value == "-":
            source, text = f"{option} from stdin", sys.stdin.read(limit + 1)
        elif value.startswith("@"):
            source = value[1:]
            try:
                with open(source, encoding="utf-8") as stream:
                    text = stream.read(limit + 1)
            except (OSError, UnicodeDecodeError) as exc:
                reason = getattr(exc, "strerror", None) or str(exc)
                self.fail(f"cannot read {source}: {reason}", param, ctx)
        if len(text) > limit:
            self.fail(f"{source}: more than {megabytes} MB (the limit; --max-input-size MB "
                      "raises it)", param, ctx)
        try:
            return parse_json_object(text, source)
        except UsageProblem as exc:
            self.fail(exc.message, param, ctx)


class CheckIds(ParamType):
    """Comma-separated check IDs (SIG007,SIG014)."""

    name = "IDS"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        from ckansig.doctor.catalogue import CHECKS

        ids = tuple(part.strip().upper() for part in str(value).split(",") if part.strip())
        unknown = [i for i in ids if i not in CHECKS]
        if unknown:
            self.fail(f"unknown check ID(s) {', '.join(unknown)} (known: SIG001-SIG"
                      f"{len(CHECKS):03d})", param, ctx)
        return ids


class Release(ParamType):
    """A CKAN release as MAJOR.MINOR."""

    name = "X.Y"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        from ckansig.config.settings import parse_version

        parsed = parse_version(str(value))
        if parsed is None:
            self.fail(f"{value!r} is not a release like 2.11", param, ctx)
        return parsed
