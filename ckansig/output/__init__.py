"""Output: every command's results as JSON-able data or as text for people.

One renderer per command (``list_view``, ``fire_view``, ``doctor_view``,
``trace_view``) and what they share for the terminal (``terminal``); values
are made safe to show (secrets hidden) by :mod:`ckansig.values`. Names are
imported from their module on first use, so that a command loads only its
own renderer; rich is imported only inside the text functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ckansig._lazy import exports

_EXPORTS = {
    "clean": "terminal", "console": "terminal", "where": "terminal",
    "LIST_SCHEMA_VERSION": "list_view", "error_json": "list_view", "list_json": "list_view",
    "print_errors": "list_view", "print_list": "list_view", "signal_json": "list_view",
    "subscription_json": "list_view",
    "FIRE_SCHEMA_VERSION": "fire_view", "RECEIVER_FIELDS": "fire_view",
    "print_trace": "fire_view", "trace_json": "fire_view", "trace_summary": "fire_view",
    "DOCTOR_SCHEMA_VERSION": "doctor_view", "SEPARATOR": "doctor_view",
    "explain": "doctor_view", "github_annotations": "doctor_view",
    "print_report": "doctor_view", "problem_json": "doctor_view",
    "report_json": "doctor_view", "summary_line": "doctor_view",
    "print_trace_summary": "trace_view",
    "DIFF_SCHEMA_VERSION": "diff_view", "diff_json": "diff_view", "diff_markdown": "diff_view",
    "print_diff": "diff_view",
    "call_json": "call_view", "print_call": "call_view",
    "FUZZ_SCHEMA_VERSION": "fuzz_view", "fuzz_json": "fuzz_view", "print_fuzz": "fuzz_view",
    "ORDERS_SCHEMA_VERSION": "orders_view", "orders_json": "orders_view",
    "print_orders": "orders_view",
    "build_graph": "graph_view", "graph_dot": "graph_view", "graph_html": "graph_view",
    "graph_mermaid": "graph_view", "graph_svg": "graph_view",
}

__all__ = [
    "DIFF_SCHEMA_VERSION",
    "DOCTOR_SCHEMA_VERSION",
    "FIRE_SCHEMA_VERSION",
    "FUZZ_SCHEMA_VERSION",
    "LIST_SCHEMA_VERSION",
    "ORDERS_SCHEMA_VERSION",
    "RECEIVER_FIELDS",
    "SEPARATOR",
    "build_graph",
    "call_json",
    "clean",
    "console",
    "diff_json",
    "diff_markdown",
    "error_json",
    "explain",
    "fuzz_json",
    "github_annotations",
    "graph_dot",
    "graph_html",
    "graph_mermaid",
    "graph_svg",
    "list_json",
    "orders_json",
    "print_call",
    "print_diff",
    "print_errors",
    "print_fuzz",
    "print_list",
    "print_orders",
    "print_report",
    "print_trace",
    "print_trace_summary",
    "problem_json",
    "report_json",
    "signal_json",
    "subscription_json",
    "summary_line",
    "trace_json",
    "trace_summary",
    "where",
]

if TYPE_CHECKING:
    from ckansig.output.call_view import call_json, print_call
    from ckansig.output.diff_view import DIFF_SCHEMA_VERSION, diff_json, diff_markdown, print_diff
    from ckansig.output.doctor_view import (
        DOCTOR_SCHEMA_VERSION,
        SEPARATOR,
        explain,
        github_annotations,
        print_report,
        problem_json,
        report_json,
        summary_line,
    )
    from ckansig.output.fire_view import (
        FIRE_SCHEMA_VERSION,
        RECEIVER_FIELDS,
        print_trace,
        trace_json,
        trace_summary,
    )
    from ckansig.output.fuzz_view import FUZZ_SCHEMA_VERSION, fuzz_json, print_fuzz
    from ckansig.output.graph_view import (
        build_graph,
        graph_dot,
        graph_html,
        graph_mermaid,
        graph_svg,
    )
    from ckansig.output.list_view import (
        LIST_SCHEMA_VERSION,
        error_json,
        list_json,
        print_errors,
        print_list,
        signal_json,
        subscription_json,
    )
    from ckansig.output.orders_view import ORDERS_SCHEMA_VERSION, orders_json, print_orders
    from ckansig.output.terminal import clean, console, where
    from ckansig.output.trace_view import print_trace_summary


__getattr__ = exports("ckansig.output", _EXPORTS, globals())
