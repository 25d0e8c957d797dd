"""Turn registries, traces, problems and recorded sends into JSON-able dicts
or rich text: one module per command, sharing :mod:`ckansig.render.common`.

Names are imported from their module on first use, so that a command loads
only its own renderer; rich is imported only inside the text functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ckansig._lazy import exports

_EXPORTS = {
    "clean": "common", "console": "common", "jsonable": "common", "safe_repr": "common",
    "short": "common", "where": "common",
    "LIST_SCHEMA_VERSION": "listing", "error_json": "listing", "list_json": "listing",
    "print_errors": "listing", "print_list": "listing", "signal_json": "listing",
    "subscription_json": "listing",
    "DOCTOR_SCHEMA_VERSION": "report", "SEPARATOR": "report", "explain": "report",
    "github_annotations": "report", "print_report": "report", "problem_json": "report",
    "report_json": "report", "summary_line": "report",
    "print_trace_summary": "sends", "read_jsonl": "sends", "record_json": "sends",
    "FIRE_SCHEMA_VERSION": "trace", "print_trace": "trace", "trace_json": "trace",
    "trace_summary": "trace",
}

__all__ = [
    "DOCTOR_SCHEMA_VERSION",
    "FIRE_SCHEMA_VERSION",
    "LIST_SCHEMA_VERSION",
    "SEPARATOR",
    "clean",
    "console",
    "error_json",
    "explain",
    "github_annotations",
    "jsonable",
    "list_json",
    "print_errors",
    "print_list",
    "print_report",
    "print_trace",
    "print_trace_summary",
    "problem_json",
    "read_jsonl",
    "record_json",
    "report_json",
    "safe_repr",
    "short",
    "signal_json",
    "subscription_json",
    "summary_line",
    "trace_json",
    "trace_summary",
    "where",
]

if TYPE_CHECKING:
    from ckansig.render.common import clean, console, jsonable, safe_repr, short, where
    from ckansig.render.listing import (
        LIST_SCHEMA_VERSION,
        error_json,
        list_json,
        print_errors,
        print_list,
        signal_json,
        subscription_json,
    )
    from ckansig.render.report import (
        DOCTOR_SCHEMA_VERSION,
        SEPARATOR,
        explain,
        github_annotations,
        print_report,
        problem_json,
        report_json,
        summary_line,
    )
    from ckansig.render.sends import print_trace_summary, read_jsonl, record_json
    from ckansig.render.trace import (
        FIRE_SCHEMA_VERSION,
        print_trace,
        trace_json,
        trace_summary,
    )


__getattr__ = exports('ckansig.render', _EXPORTS, globals())
