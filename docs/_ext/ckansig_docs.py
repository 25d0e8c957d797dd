"""Sphinx directives that generate ckansig's reference from the code, so that
no page can drift from it:

- ``ckansig-checks``: the doctor check catalogue (``ckansig.doctor.catalogue``),
  every check with its severity, explanation and examples;
- ``ckansig-schema NAME``: a published JSON schema (``ckansig.schemas``), its
  fields as a table, and the schema itself;
- ``ckansig-run ARGS``: runs ``ckansig ARGS`` on the bundled example (the
  repository's ``plugins.toml`` and ``examples/``) while the docs are built,
  and shows the command and what it printed (``:stderr:``: what it wrote to
  stderr too, after its stdout; ``:exit: N``: the exit status it must give).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import Directive, directives

ROOT = Path(__file__).resolve().parents[2]


def _literal(text: str, language: str = "text") -> nodes.literal_block:
    block = nodes.literal_block(text, text)
    block["language"] = language
    return block


class Checks(Directive):
    """Every doctor check, by ID."""

    def run(self) -> list[nodes.Node]:
        from ckansig.doctor.catalogue import CHECKS

        found: list[nodes.Node] = []
        for check in CHECKS.values():
            section = nodes.section(ids=[check.id.lower()])
            section += nodes.title(text=f"{check.id}: {check.title}")
            section += nodes.paragraph(text=f"Severity: {check.severity}. Fix: {check.hint}.")
            section += nodes.paragraph(text=check.explanation)
            section += nodes.paragraph(text="The mistake:")
            section += _literal(check.bad, "python")
            section += nodes.paragraph(text="The fix:")
            section += _literal(check.good, "python")
            found.append(section)
        return found


def _type(spec: dict[str, Any]) -> str:
    kind = spec.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind:
        return str(kind)
    if "enum" in spec:
        return "one of " + ", ".join(json.dumps(v) for v in spec["enum"])
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    return "any"


class Schema(Directive):
    """A published JSON schema: a table of its fields, then the schema."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        from ckansig.schemas import schema

        document = schema(self.arguments[0])
        found: list[nodes.Node] = []
        for title, spec in [("the document", document),
                            *sorted((document.get("$defs") or {}).items())]:
            properties = spec.get("properties") or {}
            if not properties:
                continue
            found.append(nodes.rubric(text=f"Fields of {title}"))
            table = nodes.table()
            group = nodes.tgroup(cols=3)
            table += group
            for width in (20, 15, 65):
                group += nodes.colspec(colwidth=width)
            head = nodes.thead()
            group += head
            head += self._row(["field", "type", "meaning"])
            body = nodes.tbody()
            group += body
            required = set(spec.get("required") or ())
            for name, field in properties.items():
                mark = "" if name in required else " (optional)"
                body += self._row([name + mark, _type(field), field.get("description", "")])
            found.append(table)
        found.append(_literal(json.dumps(document, indent=2), "json"))
        return found

    @staticmethod
    def _row(cells: list[str]) -> nodes.row:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph(text=cell)
            row += entry
        return row


class Run(Directive):
    """``ckansig ARGS`` run on the bundled example, shown with its output."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = {"exit": directives.nonnegative_int,
                                             "stderr": directives.flag}

    def run(self) -> list[nodes.Node]:
        args = shlex.split(self.arguments[0])
        env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
        env.pop("CKAN_INI", None)
        done = subprocess.run([sys.executable, "-m", "ckansig", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        expected = self.options.get("exit", 0)
        if done.returncode != expected:
            raise self.error(f"ckansig {self.arguments[0]} exited {done.returncode}, "
                             f"not {expected}: {done.stderr[-500:]}")
        printed = done.stdout + (done.stderr if "stderr" in self.options else "")
        printed = printed.replace(str(ROOT) + os.sep, "")  # paths as the reader's clone has them
        shown = f"$ ckansig {self.arguments[0]}\n{printed.rstrip()}"
        language = "json" if "json" in args else "text"
        return [_literal(shown, "console" if language == "text" else "text")]


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("ckansig-checks", Checks)
    app.add_directive("ckansig-schema", Schema)
    app.add_directive("ckansig-run", Run)
    return {"parallel_read_safe": True, "version": "1"}

