"""``--orders``: run the same ``call`` (or ``fire``) once per order of the
receivers of every send it causes, and find the receivers whose outcome
depends on the order.

A run is planned by a :class:`Plan`: the receivers of each send, put in
:func:`~ckansig.ordering.canonical` order, are called in the plan's
permutation of them. Run ``k`` gives a send of ``n`` receivers (``n`` at most
:data:`EVERY_UP_TO`) the ``k % n!``-th permutation in lexicographic order, so
``n!`` runs call every such send in every order; a send of more receivers gets
a seeded random order (run 1: the canonical one), and there are as many runs
as the sample size asks. Runs go on until every send seen so far has had all
its orders (a run can cause sends the first did not).

The outcomes compared are read from each run's documented JSON (already
redacted): per receiver, its status, result, error, database changes and the
sends it made; for ``call``, the action's result and error too. Ids, times
and memory addresses are put aside first, and what still differs between two
runs in the *same* order (run 1, done twice) is not compared: it varies
anyway, so it says nothing about the order.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from blinker.base import Signal

from ckansig.ordering import DEFAULT_SAMPLE, EVERY_UP_TO, arrange_receivers, receiver_name

__all__ = [
    "DEFAULT_SAMPLE",
    "EVERY_UP_TO",
    "Dependence",
    "OrdersReport",
    "Plan",
    "outcomes",
    "run_orders",
]

#: What a receiver's outcome is in a run where it was not called.
NOT_RUN = "(not called)"
#: The result of a receiver that returned before a later one raised (blinker
#: loses it): compared with nothing.
LOST = "(lost: a later receiver raised)"

_Key = tuple[str, tuple[str, ...]]  # a signal's name, its receivers' canonical names


def nth_permutation(n: int, k: int) -> tuple[int, ...]:
    """The ``k``-th permutation of ``range(n)`` in lexicographic order (``k < n!``)."""
    left, chosen = list(range(n)), []
    for size in range(n, 0, -1):
        index, k = divmod(k, math.factorial(size - 1))
        chosen.append(left.pop(index))
    return tuple(chosen)


def orders_of(n: int, sample: int) -> int:
    """How many runs a send of ``n`` receivers asks for."""
    return math.factorial(n) if n <= EVERY_UP_TO else max(1, sample)


class Plan:
    """The orders of run ``number`` (0-based): :meth:`arrange` is the
    :data:`~ckansig.ordering.Arrange` to install while the run goes on. It
    keeps the order it gave each set of receivers (``used``)."""

    def __init__(self, number: int, seed: int, sample: int = DEFAULT_SAMPLE) -> None:
        self.number, self.seed, self.sample = number, seed, sample
        self.used: dict[_Key, tuple[str, ...]] = {}

    def permutation(self, key: _Key) -> tuple[int, ...]:
        n = len(key[1])
        if n <= EVERY_UP_TO:
            return nth_permutation(n, self.number % math.factorial(n))
        order = list(range(n))
        if self.number:  # run 1 (number 0): the canonical order
            random.Random(f"{self.seed}:{key}:{self.number}").shuffle(order)
        return tuple(order)

    def arrange(self, signal: Signal, receivers: list[Any]) -> list[Any]:
        names = tuple(receiver_name(r) for r in receivers)
        key = (str(getattr(signal, "name", None) or "(anonymous signal)"), names)
        permutation = self.permutation(key)
        self.used[key] = tuple(names[i] for i in permutation)
        return [receivers[i] for i in permutation]

    def runs_wanted(self) -> int:
        """Runs needed for every send this run saw to have had all its orders."""
        return max((orders_of(len(names), self.sample) for _, names in self.used), default=1)

    def orders(self) -> list[dict[str, Any]]:
        """The orders this run used, for sends of two or more receivers (JSON)."""
        return [{"signal": signal, "receivers": list(order)}
                for (signal, _), order in sorted(self.used.items())]


# ---------------------------------------------------------------------------
# outcomes: what each receiver did in one run, read from the run's JSON

_NOISE = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I), "<id>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:?\d\d|Z)?"), "<time>"),
    (re.compile(r"\b0x[0-9a-f]{4,}\b", re.I), "0x…"),
]


def _steady(value: Any) -> Any:
    """``value`` with ids, times and memory addresses put aside."""
    if isinstance(value, str):
        for pattern, stand_in in _NOISE:
            value = pattern.sub(stand_in, value)
        return value
    if isinstance(value, list):
        return [_steady(item) for item in value]
    if isinstance(value, dict):
        return {key: _steady(item) for key, item in value.items()}
    return value


def _send_label(send: Mapping[str, Any]) -> str:
    sender = send.get("sender")
    return f"{send.get('signal')} (sender {_steady(sender)!r})"


def _walk(sends: list[Mapping[str, Any]], within: str,
          found: dict[tuple[str, str], Any]) -> None:
    seen: dict[str, int] = {}
    for send in sends:
        label = _send_label(send)
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label += f" #{seen[label]}"
        _walk_receivers(send, f"{within}{label}", found)


def _walk_receivers(send: Mapping[str, Any], path: str,
                    found: dict[tuple[str, str], Any]) -> None:
    for receiver in send.get("receivers") or []:
        where = f"{path} → {receiver.get('receiver')}"
        children = receiver.get("children") or []
        for field in ("status", "result", "error", "db_changes"):
            found[where, field] = _steady(receiver.get(field))
        if receiver.get("status") == "ok" and receiver.get("result") is None:
            found[where, "result"] = LOST  # (a result of None is "None", its repr)
        found[where, "sends"] = [_send_label(child) for child in children]
        _walk(children, f"{where} → ", found)


def outcomes(document: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    """Each receiver's outcome in a run, by (receiver path, field), from the
    run's ``call`` or ``fire`` JSON document. A receiver path names the sends
    and receivers that led to it: ``action_succeed (sender 'package_create')
    → ckanext.x.plugin.on_create``."""
    found: dict[tuple[str, str], Any] = {}
    if "action" in document:  # call
        found["the action", "result"] = _steady(document.get("result"))
        found["the action", "error"] = _steady(document.get("error"))
        found["the action", "db_changes"] = document.get("db_changes")
        _walk(document.get("sends") or [], "", found)
    else:  # fire: the document is the send
        _walk_receivers(document, _send_label(document), found)
    return found


# ---------------------------------------------------------------------------
# runs and their comparison


class Dependence(NamedTuple):
    """A receiver (or the action: path ``"the action"``) whose outcome differs
    between two orders: ``fields`` maps each differing field to its value in
    run ``first`` and in run ``second`` (1-based order numbers)."""

    path: str
    first: int
    second: int
    fields: dict[str, tuple[Any, Any]]


class OrdersReport(NamedTuple):
    """The runs (each one's plan and JSON document), the outcomes that depend
    on the order, and what was not compared because it differed between two
    runs in the same order."""

    seed: int
    plans: list[Plan]
    documents: list[Mapping[str, Any]]
    dependent: list[Dependence]
    unsteady: list[tuple[str, str]]

    @property
    def receivers_permuted(self) -> int:
        return max((len(names) for plan in self.plans for _, names in plan.used), default=0)


def _compare(runs: list[dict[tuple[str, str], Any]],
             unsteady: set[tuple[str, str]]) -> list[Dependence]:
    paths: dict[str, list[str]] = {}
    for run in runs:
        for path, field in run:
            fields = paths.setdefault(path, [])
            if field not in fields:
                fields.append(field)
    found = []
    for path, fields in paths.items():
        compared = [field for field in fields if (path, field) not in unsteady]
        values = [{field: run.get((path, field), NOT_RUN) for field in compared}
                  for run in runs]
        for number, value in enumerate(values[1:], start=2):
            differing = {field: (values[0][field], value[field]) for field in compared
                         if values[0][field] != value[field]
                         and LOST not in (values[0][field], value[field])}
            if differing:
                found.append(Dependence(path, 1, number, differing))
                break
    # the receivers that raised first, the action (what the caller sees) last
    found.sort(key=lambda d: (d.path == "the action",
                              "error" not in d.fields.get("status", ())))
    return found


def run_orders(run: Callable[[], Mapping[str, Any]], *, seed: int,
               sample: int = DEFAULT_SAMPLE,
               each: Callable[[Plan, Mapping[str, Any]], None] | None = None) -> OrdersReport:
    """Run ``run`` (one ``call`` or ``fire``, giving its JSON document) once
    per order, and once more in the first order to see what varies anyway;
    ``each`` is told of every run as it ends."""
    plans: list[Plan] = []
    documents: list[Mapping[str, Any]] = []

    def one(number: int) -> Mapping[str, Any]:
        plan = Plan(number, seed, sample)
        with arrange_receivers(plan.arrange):
            document = run()
        if each is not None:
            each(plan, document)
        plans.append(plan)
        return document

    documents.append(one(0))
    again = one(0)
    plans.pop()
    unsteady = {key for key, value in outcomes(again).items()
                if outcomes(documents[0]).get(key, NOT_RUN) != value}
    number, wanted = 1, plans[0].runs_wanted()
    while number < wanted:
        documents.append(one(number))
        wanted = max(wanted, plans[-1].runs_wanted())
        number += 1
    found = _compare([outcomes(document) for document in documents], unsteady)
    return OrdersReport(seed, plans, documents, found, sorted(unsteady))


def replay_argv(argv: list[str], order: int, seed: int, sampled: bool) -> list[str]:
    """The command line that replays run ``order`` alone: ``argv`` without
    ``--orders`` (and its count) or ``--format``, with ``--order``."""
    kept: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        index += 1
        if arg in ("-f", "--format", "--seed"):
            index += 1  # and its value
        elif arg == "--orders":
            if index < len(argv) and argv[index].isdigit():
                index += 1  # its count
        elif not arg.startswith(("--format=", "--orders=", "--seed=")):
            kept.append(arg)
    kept += ["--order", str(order)]
    if sampled:
        kept += ["--seed", str(seed)]
    return kept
