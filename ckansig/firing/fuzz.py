"""``ckansig fuzz ACTION``: call a CKAN action with data_dicts drawn from its
own schema, each call rolled back, and find the receivers that raise on a call
the action accepted (the class of ckan#8760 and ckan#9067).

The schema is the one the action validates with: the dataset or group
plugin's create schema for ``package_create``, ``group_create`` and
``organization_create``, CKAN's user schema for ``user_create``, and the
``schema_func`` of any action decorated with CKAN's ``@validate``. Each field
becomes a hypothesis strategy chosen by its validators' names
(:func:`field_strategy`): required fields are always there, optional ones may
be missing, and text may be empty, unicode or long. Nested lists (resources,
tags, extras) are drawn from their own schemas.

A receiver that raised is a finding: the send that called it came from an
action that had passed its validation. Hypothesis shrinks each finding to a
small ``data_dict``; the smallest one seen is kept (so a deadline that stops
the shrinking early still leaves an example that crashed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from ckansig.errors import UsageProblem

__all__ = ["Crash", "FuzzReport", "action_schema", "data_dicts", "field_strategy", "fuzz"]

#: validators that say a field must be given
_REQUIRED = {"not_empty", "not_missing", "user_password_not_empty"}
#: validators that make a field ckansig leaves alone: CKAN ignores or empties
#: it, or it names something that must already exist (give it with --data)
_LEFT_ALONE = {"ignore", "empty", "ignore_not_sysadmin", "empty_if_not_sysadmin",
               "ignore_not_package_admin", "uuid_validator", "owner_org_validator",
               "ignore_not_group_admin"}
#: nested lists of things that must already exist (give them with --data)
_REFERENCES = {"groups", "packages", "users", "organizations", "relationships_as_object",
               "relationships_as_subject"}
_NAMES = {"name_validator", "package_name_validator", "user_name_validator",
          "group_name_validator"}


def _names(validators: Any) -> set[str]:
    return {getattr(v, "__name__", "") for v in validators if callable(v)}


def action_schema(action: str, data_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The schema ``action`` validates ``data_dict`` with (inside CKAN's app).
    Raises :class:`UsageProblem` for an action ckansig knows no schema of."""
    import inspect

    from ckan.lib import plugins as lib_plugins

    if action == "package_create":
        plugin = lib_plugins.lookup_package_plugin(data_dict.get("type"))
        return dict(plugin.create_package_schema())
    if action in ("group_create", "organization_create"):
        is_org = action == "organization_create"
        plugin = lib_plugins.lookup_group_plugin(
            data_dict.get("type", "organization" if is_org else "group"))
        if hasattr(plugin, "create_group_schema"):  # CKAN 2.11+
            return dict(plugin.create_group_schema())
        try:
            return dict(plugin.form_to_db_schema_options(
                {"type": "create", "api": True, "context": {}}))
        except AttributeError:
            return dict(plugin.form_to_db_schema())
    if action == "user_create":
        from ckan.logic import schema

        return dict(schema.default_user_schema())
    from ckansig.firing.app import find_action

    function = find_action(action)
    while function is not None:  # @validate keeps its schema function in a closure
        try:
            schema_func = inspect.getclosurevars(function).nonlocals.get("schema_func")
        except (TypeError, ValueError):
            schema_func = None
        if callable(schema_func):
            return dict(schema_func())
        function = getattr(function, "__wrapped__", None)
    raise UsageProblem(f"ckansig knows no schema for {action!r}: fuzz works on "
                       "package_create, group_create, organization_create, user_create "
                       "and actions decorated with CKAN's @validate", "ACTION")


def field_strategy(validators: Any) -> Any:
    """A hypothesis strategy for one field's values, by its validators' names;
    None for a field to leave alone."""
    from hypothesis import strategies as st

    names = _names(validators)
    if names & _LEFT_ALONE or any(n.endswith(("_exists", "_does_not_exist")) for n in names):
        return None
    if names & _NAMES:
        return st.from_regex(r"\A[a-z0-9][a-z0-9_-]{1,24}\Z")
    if "tag_name_validator" in names:
        return st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9 _.-]{1,20}\Z")
    if "tag_string_convert" in names:
        return st.lists(st.from_regex(r"\A[a-z0-9][a-z0-9_-]{1,12}\Z"), max_size=3).map(
            ",".join)
    if "email_validator" in names:
        return st.from_regex(r"\A[a-z0-9]{1,10}@[a-z]{1,10}\.org\Z")
    if "user_password_validator" in names:
        return st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                       min_size=8, max_size=24)
    if names & {"int_validator", "natural_number_validator", "is_positive_integer"}:
        return st.integers(min_value=0, max_value=10**6)
    if "boolean_validator" in names:
        return st.booleans()
    if "isodate" in names:
        return st.datetimes().map(lambda d: d.isoformat())
    if "json_object" in names:
        return st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2)
    return _text(st)


def _text(st: Any) -> Any:
    """Text as people and programs send it: empty, short, unicode, long."""
    return st.one_of(
        st.just(""),
        st.text(max_size=30),
        st.sampled_from(["ünïcödé", "数据集", "🦆 data", "a\u0301", "\u202eevil", "  padded  "]),
        st.tuples(st.characters(), st.integers(min_value=1_000, max_value=5_000)).map(
            lambda pair: pair[0] * pair[1]),
    )


def data_dicts(schema: Mapping[str, Any], fixed: Mapping[str, Any]) -> Any:
    """A strategy for data_dicts valid against ``schema`` in shape: required
    fields always, optional ones sometimes, nested lists from their own
    schemas; ``fixed`` items are always there as given."""
    from hypothesis import strategies as st

    required: dict[str, Any] = {}
    optional: dict[str, Any] = {}
    for key, validators in schema.items():
        if key.startswith("__") or key in fixed:
            continue
        if isinstance(validators, Mapping):
            if key in _REFERENCES:
                continue
            strategy = st.lists(data_dicts(validators, {}), max_size=2)
            optional[key] = strategy
            continue
        strategy = field_strategy(validators)
        if strategy is None:
            continue
        (required if _names(validators) & _REQUIRED else optional)[key] = strategy
    return st.fixed_dictionaries(required, optional=optional).map(
        lambda drawn: {**drawn, **fixed})


class Crash(NamedTuple):
    """A receiver that raised on a call the action accepted: the smallest
    data_dict seen to do it, and the error."""

    receiver: str
    signal: str
    error_type: str
    message: str
    data_dict: dict[str, Any]


class FuzzReport(NamedTuple):
    """What ``fuzz`` did: examples called, the action's own verdicts (calls
    accepted without a crash, calls rejected by error type and the fields it
    named), the crashes found, and whether the deadline cut it short."""

    action: str
    examples: int
    accepted: int
    rejected: dict[str, int]
    crashes: list[Crash]
    seconds: float
    out_of_time: bool

    @property
    def crashed(self) -> int:
        """The calls on which a receiver raised."""
        return self.examples - self.accepted - sum(self.rejected.values())


def _receiver_errors(roots: list[Any]) -> Iterator[tuple[str, str, BaseException]]:
    """Each receiver that raised, in every send of a call: its name, the
    signal's key and the error."""
    from ckansig.ordering import receiver_name
    from ckansig.watching.records import walk

    for rec in walk(roots):
        for outcome in rec.raised:
            if outcome.error is not None:
                yield receiver_name(outcome.receiver), rec.key, outcome.error


def _size(data: Mapping[str, Any]) -> int:
    return len(json.dumps(data, default=repr, ensure_ascii=False))


class _Found(Exception):
    """Raised inside a hypothesis example: a crash not found before."""


def fuzz(call: Callable[[dict[str, Any]], Any], schema: Mapping[str, Any],
         fixed: Mapping[str, Any], *, action: str, max_examples: int, deadline: float | None,
         seed: int) -> FuzzReport:
    """Draw data_dicts from ``schema`` and ``call`` the action with each
    (``call`` gives an :class:`~ckansig.firing.app.ActionCall`, rolled back),
    until ``max_examples`` calls or ``deadline`` seconds. Each new crash is
    shrunk by hypothesis; the search goes on for others."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hypothesis_seed

    from ckansig.errors import first_line

    start = time.monotonic()
    crashes: dict[tuple[str, str], Crash] = {}
    rejected: dict[str, int] = {}
    counts = {"examples": 0, "accepted": 0}
    known: set[tuple[str, str]] = set()  # the crashes found in earlier rounds

    def spent() -> bool:
        return counts["examples"] >= max_examples or (
            deadline is not None and time.monotonic() - start > deadline)

    def example(data: dict[str, Any]) -> None:
        if spent():
            return  # the examples left (and shrinking) are skipped
        counts["examples"] += 1
        result = call(data)
        errors = list(_receiver_errors(result.roots))
        for receiver, signal, error in errors:
            key = (receiver, type(error).__name__)
            seen = crashes.get(key)
            if seen is None or _size(data) < _size(seen.data_dict):
                crashes[key] = Crash(receiver, signal, key[1], first_line(error), data)
        if not errors:
            if result.error is None:
                counts["accepted"] += 1
            else:
                name = type(result.error).__name__
                fields = getattr(result.error, "error_dict", None)
                if isinstance(fields, Mapping) and fields:  # ValidationError: which fields
                    name += f" ({', '.join(sorted(map(str, fields)))})"
                rejected[name] = rejected.get(name, 0) + 1
        if any((receiver, type(error).__name__) not in known for receiver, _, error in errors):
            raise _Found  # hypothesis shrinks the data_dict while this is raised

    strategy = data_dicts(schema, fixed)
    while not spent():  # each round finds, and shrinks, one crash not found before
        @settings(max_examples=max_examples - counts["examples"], deadline=None,
                  database=None, verbosity=Verbosity.quiet, report_multiple_bugs=False,
                  phases=[Phase.generate, Phase.shrink],
                  suppress_health_check=list(HealthCheck))
        @hypothesis_seed(seed + len(known))
        @given(strategy)
        def search(data: dict[str, Any]) -> None:
            example(data)

        try:
            search()
        except _Found:
            pass
        except Exception as exc:
            # Flaky: the minimal example passed when replayed, because the
            # budget ran out during shrinking; the smallest crash seen stands
            if "Flaky" not in type(exc).__name__:
                raise
        if set(crashes) <= known:
            break  # a whole round without a new crash
        known |= set(crashes)
    return FuzzReport(action, counts["examples"], counts["accepted"], rejected,
                      sorted(crashes.values()), time.monotonic() - start,
                      deadline is not None and time.monotonic() - start > deadline)
