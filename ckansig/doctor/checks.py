"""The doctor checks of load errors, receivers and duplicates: one function
per catalogue ID (see :mod:`ckansig.doctor.catalogue` for what each finds and
why, and :mod:`ckansig.doctor.context` for how they run). The checks of
signals are in :mod:`ckansig.doctor.signal_checks`, those of plugins as CKAN
sees them in :mod:`ckansig.doctor.plugin_checks`."""

from __future__ import annotations

import contextlib
from typing import Any

from ckansig.doctor import source
from ckansig.doctor.catalogue import CHECKS
from ckansig.doctor.comments import parse_comment
from ckansig.doctor.context import (
    CONNECTION,
    DROPPED,
    DUPLICATE,
    LOAD_ERROR,
    RECEIVER,
    CheckContext,
    check,
)
from ckansig.doctor.names import NameIndex
from ckansig.loading.describing import call_shape
from ckansig.model import (
    Duplicate,
    LoadError,
    LoadErrorKind,
    SignalInfo,
    Subscription,
)

# -- load errors ------------------------------------------------------------------


def _load_error(ctx: CheckContext, error: LoadError, kinds: frozenset[LoadErrorKind]) -> None:
    if error.kind not in kinds:
        return
    file, line = error.file, error.line
    if file is None:
        file, line = ctx.shared.spec_sites.get(error.plugin, (None, None))
    ctx.report(error.message, plugin=error.plugin, signal=error.signal,
               namespace=error.namespace, receiver=error.receiver, file=file, line=line)


_CANNOT_LOAD: frozenset[LoadErrorKind] = frozenset({
    "module_not_found", "import_error", "attribute_missing", "not_a_plugin",
    "plugin_init_failed", "plugin_not_found", "duplicate_plugin", "plugin_raised"})


@check("SIG001", LOAD_ERROR)
def plugin_cannot_load(ctx: CheckContext, error: LoadError) -> None:
    _load_error(ctx, error, _CANNOT_LOAD)


@check("SIG002", LOAD_ERROR)
def bad_subscriptions(ctx: CheckContext, error: LoadError) -> None:
    _load_error(ctx, error, frozenset({"subscriptions_raised", "subscriptions_malformed"}))


@check("SIG003", LOAD_ERROR)
def key_not_a_signal(ctx: CheckContext, error: LoadError) -> None:
    _load_error(ctx, error, frozenset({"bad_signal_key"}))


@check("SIG004", LOAD_ERROR)
def malformed_entry(ctx: CheckContext, error: LoadError) -> None:
    _load_error(ctx, error, frozenset({"entry_malformed", "connect_failed"}))


@check("SIG005", LOAD_ERROR)
def receiver_not_callable(ctx: CheckContext, error: LoadError) -> None:
    _load_error(ctx, error, frozenset({"not_callable"}))


# -- receivers ----------------------------------------------------------------------


@check("SIG007", DROPPED)
def garbage_collected(ctx: CheckContext, info: SignalInfo, sub: Subscription) -> None:
    if sub.weak:
        ctx.report(f"{sub.receiver.name} ({sub.receiver.kind}) was connected weakly to "
                   f"{info.name!r} and has been garbage-collected: it never runs", sub=sub)


# Senders blinker compares by identity although equal values look "the same".
_VALUE_LIKE = frozenset({"float", "complex", "list", "dict", "tuple", "set", "frozenset",
                         "bytes", "bytearray", "Decimal"})


@check("SIG015", CONNECTION)
def sender_never_matches(ctx: CheckContext, info: SignalInfo, sub: Subscription,
                         receiver: Any) -> None:
    sender = sub.sender
    if sender.kind == "object" and sender.type in _VALUE_LIKE:
        ctx.report(f"{sub.receiver.name} filters {info.name!r} by the {sender.type} "
                   f"{sender.repr}: blinker compares it by identity, and a value sent later is "
                   "a different object", sub=sub)
    elif info.core is not None and info.core.sender_kind == "app" and sender.kind == "value":
        ctx.report(f"{sub.receiver.name} filters {info.name!r} by {sender.repr}, but CKAN "
                   f"sends {info.name} from the Flask app, never a {sender.type}", sub=sub)


#: The senders CKAN sends register_blueprint with, in every release (ckan/lib/plugins.py).
BLUEPRINT_TYPES = frozenset({"dataset", "resource", "group", "organization"})


@check("SIG021", CONNECTION)
def sender_never_sent(ctx: CheckContext, info: SignalInfo, sub: Subscription,
                      receiver: Any) -> None:
    sender = sub.sender
    if info.core is None or sender.kind != "value" or not isinstance(sender.value, str):
        return
    known: frozenset[str] | None
    if info.core.name == "register_blueprint":
        known, what = BLUEPRINT_TYPES, "blueprint type"
    elif info.core.name == "action_succeed":
        known, what = _ckan_actions(ctx), "action"
    else:
        return
    if known is None or sender.value in known:
        return
    typo = NameIndex(known).one_edit_from(sender.value) if known else None
    hint = f"; did you mean {typo!r}?" if typo else ""
    ctx.report(f"{sub.receiver.name} filters {info.name!r} by {sender.repr}, but CKAN sends it "
               f"with no {what} of that name, so it never runs{hint}", sub=sub)


def _ckan_actions(ctx: CheckContext) -> frozenset[str] | None:
    """The action names CKAN's registry holds (core and IActions plugins), in
    CKAN mode; None elsewhere, where they cannot be known."""
    cache = ctx.shared.cache
    if "ckan_actions" not in cache:
        config = ctx.shared.config
        names: frozenset[str] | None = None
        if config is not None and config.ckan_config is not None:
            from ckan import logic

            with contextlib.suppress(KeyError):  # fills the registry, then misses
                logic.get_action("ckansig: the registry, please")
            names = frozenset(logic._actions)
        cache["ckan_actions"] = names
    found: frozenset[str] | None = cache["ckan_actions"]
    return found


@check("SIG014", RECEIVER)
def connected_at_import(ctx: CheckContext, info: SignalInfo, sub: Subscription,
                        receiver: Any) -> None:
    if sub.via == "import":
        ctx.report(f"{sub.receiver.name} is connected to {info.name!r} when {sub.plugin} is "
                   "imported, not through ISignal", sub=sub)


@check("SIG008", RECEIVER)
def coroutine_receiver(ctx: CheckContext, info: SignalInfo, sub: Subscription,
                       receiver: Any) -> None:
    if sub.receiver.is_async:
        ctx.report(f"{sub.receiver.name} is a coroutine function: Signal.send() raises "
                   f"RuntimeError when it reaches it on {info.name!r}", sub=sub)


@check("SIG006", RECEIVER)
def cannot_take_arguments(ctx: CheckContext, info: SignalInfo, sub: Subscription,
                          receiver: Any) -> None:
    shape = call_shape(receiver)
    if shape is None:
        return
    name = sub.receiver.name
    if not shape.positional and not shape.varargs:
        ctx.report(f"{name} has no positional parameter for the sender: {info.name!r} calls "
                   "it as receiver(sender, **kwargs)", sub=sub)
        return
    if shape.varkw and len(shape.required) <= 1 and not shape.required_keywords:
        return  # takes whatever is sent: the common case, settled without the send sites
    sent = ctx.shared.sent(info)
    always = sent.always if sent is not None else frozenset()
    ever = sent.ever if sent is not None else frozenset()
    problems = []
    for required, what in ((shape.required[1:], "besides the sender"),
                           (shape.required_keywords, "as keyword argument(s)")):
        missing = [p for p in required if p not in always]
        if missing:
            how = "does not always send" if all(p in ever for p in missing) else "does not send"
            problems.append(f"requires {', '.join(missing)} {what}, which {info.name!r} {how}")
    if not shape.varkw:
        accepted = set(shape.positional[1:]) | set(shape.keywords)
        refused = [k for k in _in_order(info, ever) if k not in accepted]
        if refused:
            problems.append(f"has no **kwargs and cannot take {', '.join(refused)}, which "
                            f"{info.name!r} sends")
        elif not problems and info.core is not None:
            # CKAN's guide: receivers MUST take **kwargs, as CKAN may add arguments
            ctx.report(f"{name} has no **kwargs on {info.name!r}, which may send more in a "
                       "later release: receivers must accept arbitrary keyword arguments",
                       sub=sub, severity="warning")
        elif not problems and sent is None:
            ctx.report(f"{name} has no **kwargs on {info.name!r}, and no send site of it was "
                       "found to say what it sends", sub=sub, severity="pedantic")
    for problem in problems:
        ctx.report(f"{name} {problem}", sub=sub)


def _in_order(info: SignalInfo, names: frozenset[str]) -> list[str]:
    """``names`` in the catalogue's order for a core signal, else sorted."""
    documented = [k for k in (info.core.kwargs if info.core else ()) if k in names]
    return documented + sorted(names.difference(documented))


@check("SIG016", RECEIVER)
def modifies_arguments(ctx: CheckContext, info: SignalInfo, sub: Subscription,
                       receiver: Any) -> None:
    for finding in source.analyse(receiver, sub.receiver.file, sub.receiver.line):
        name = sub.receiver.name
        if finding.kind == "mutates":
            ctx.report(f"{name} {finding.what}: it modifies its arguments",
                       sub=sub, line=finding.line)
            continue
        sent = ctx.shared.sent(info)
        if sent is None:
            ctx.report(f"{name} {finding.what}, and no send site of {info.name!r} was found "
                       "to say it is passed", sub=sub, line=finding.line, severity="pedantic")
        elif finding.key not in sent.always:
            how = ("not every send site of it passes" if finding.key in sent.ever else
                   "no send site of it passes" if sent.sites else "CKAN does not send")
            ctx.report(f"{name} {finding.what}, but {how} {finding.key!r} on {info.name!r}: "
                       "KeyError", sub=sub, line=finding.line)


# -- duplicates ----------------------------------------------------------------------


@check("SIG013", DUPLICATE)
def subscribed_twice(ctx: CheckContext, dup: Duplicate) -> None:
    ctx.report(f"{dup.receiver.name} is subscribed to {dup.signal!r} (sender {dup.sender.repr}) "
               f"again by {dup.plugin}, after {dup.first_plugin or 'an earlier connection'}: "
               "blinker keeps one", plugin=dup.plugin, signal=dup.signal,
               namespace=dup.namespace, receiver=dup.receiver.name, file=dup.declared_file,
               line=dup.declared_line)


@check("SIG017", RECEIVER)
def comment_silences_nothing(ctx: CheckContext, info: SignalInfo, sub: Subscription,
                             receiver: Any) -> None:
    file, first = sub.receiver.file, sub.receiver.line
    if not file or not first:
        return
    found = source.comment_lines(file)
    if not found:
        return  # the common case: the file mentions no ckansig
    # the receiver's own lines (parsed only in a file with such comments: rare)
    node = source.function_at(file, first)
    last = getattr(node, "end_lineno", None) or first
    for line, text in found:
        if first <= line <= last:
            comment = parse_comment(text, CHECKS)
            if comment is not None and comment.problem is not None:
                ctx.report(f"{sub.receiver.name}: {comment.problem}", sub=sub, line=line)


@check("SIG018", RECEIVER)
def source_unavailable(ctx: CheckContext, info: SignalInfo, sub: Subscription,
                       receiver: Any) -> None:
    problem = source.source_problem(receiver, sub.receiver.file, sub.receiver.line)
    if problem is not None:
        ctx.report(f"SIG016 cannot check {sub.receiver.name}: {problem}", sub=sub)
