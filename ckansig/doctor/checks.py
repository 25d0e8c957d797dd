"""The doctor checks: one function per catalogue ID (see :mod:`ckansig.doctor.catalogue`
for what each finds and why, and :mod:`ckansig.doctor.context` for how they run)."""

from __future__ import annotations

import contextlib
import linecache
import sys
from typing import Any

from ckansig.catalog import CoreSignal
from ckansig.doctor import source
from ckansig.doctor.catalogue import CHECKS
from ckansig.doctor.comments import parse_comment
from ckansig.doctor.context import (
    CONNECTION,
    DROPPED,
    DUPLICATE,
    LOAD_ERROR,
    RECEIVER,
    SIGNAL,
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


# -- signals ----------------------------------------------------------------------


def _first_subscription(info: SignalInfo) -> Subscription | None:
    """The first live subscription, else the first at all."""
    return next((s for s in info.subscriptions if s.alive),
                info.subscriptions[0] if info.subscriptions else None)


@check("SIG009", SIGNAL)
def unknown_signal_name(ctx: CheckContext, info: SignalInfo) -> None:
    typo = ctx.close_name(info)
    if info.namespace == "ckan" and info.core is None:
        first = _first_subscription(info)
        hint = f"; did you mean {typo}?" if typo else ""
        ctx.report(f"{info.name!r} is not a core signal, but it is in the ckan namespace, where "
                   f"only core signals live{hint} Custom signals belong in ckanext.",
                   sub=first, info=info, receiver=None,
                   plugin=first.plugin if first else info.defined_by)
    elif typo:
        ctx.report(f"{info.key!r} is one edit away from {typo!r}: did you mean {typo}?",
                   sub=_first_subscription(info), info=info, receiver=None)


@check("SIG010", SIGNAL)
def never_sent(ctx: CheckContext, info: SignalInfo) -> None:
    if info.core is None or info.core.sent_in(ctx.release):
        return
    subscribed = [s for s in info.subscriptions if s.alive]
    if subscribed:
        ctx.report(_never_sent(info.core, ctx.release), sub=subscribed[0], info=info,
                   receiver=None)


def _never_sent(core: CoreSignal, release: tuple[int, int]) -> str:
    if core.since is None:
        return (f"{core.attribute} is in CKAN's guide but no CKAN release sends it; "
                f"use {core.replacement} (CKAN 2.11+)")
    return (f"CKAN {release[0]}.{release[1]} does not send {core.attribute} (sent from CKAN "
            f"{core.since[0]}.{core.since[1]} on)")


@check("SIG011", SIGNAL)
def orphan_signal(ctx: CheckContext, info: SignalInfo) -> None:
    if info.namespace != "ckanext" or info.core is not None or info.defined_by is not None:
        return
    subscribed = [s for s in info.subscriptions if s.alive]
    if subscribed and not ctx.close_name(info) and _orphan(ctx, info):
        plugins = ", ".join(sorted({s.plugin or "?" for s in subscribed}))
        prefix = _provider_prefix(info.name)
        if prefix is not None and not _provider_loaded(prefix):
            # an optional integration: the extension the name is prefixed with
            # sends it, and it is not installed here
            ctx.report(f"{info.name!r} runs only with the extension that provides "
                       f"{prefix!r}, which is not installed here: {plugins} subscribe to it "
                       "as an optional integration", severity="info",
                       sub=subscribed[0], info=info, receiver=None)
            return
        ctx.report(f"{info.name!r} is only looked up by subscribers ({plugins}); no loaded "
                   "module defines it, so unless its provider is installed it is never sent",
                   sub=subscribed[0], info=info, receiver=None)


def _provider_prefix(name: str) -> str | None:
    """The extension a ckanext signal name is prefixed with: "tables" of
    "ckanext.tables.register_tables", "ap_main" of "ap_main:collect_config_sections"."""
    if name.startswith("ckanext."):
        name = name[len("ckanext."):]
    for separator in (":", "."):
        prefix, found, rest = name.partition(separator)
        if found and prefix and rest:
            return prefix
    return None


def _provider_loaded(prefix: str) -> bool:
    """Whether the extension ``prefix`` names is here: a loaded ``ckanext``
    module of that name, or an installed ``ckanext.<prefix>`` package."""
    import importlib.util

    wanted = prefix.replace("-", "_").lower().removeprefix("ckanext_")
    if any(part.lower() == wanted for module in list(sys.modules)
           if module.startswith("ckanext.") for part in module.split(".")[1:2]):
        return True
    if not wanted.isidentifier():
        return False
    try:
        return importlib.util.find_spec(f"ckanext.{wanted}") is not None
    except (ImportError, ValueError):
        return False


def _orphan(ctx: CheckContext, info: SignalInfo) -> bool:
    """Whether nothing sends ``info`` either, and no sent name is one edit
    away (SIG022 reports that one, with its did-you-mean)."""
    unsent, typo = ctx.shared.unsent(info)
    return unsent and typo is None


@check("SIG022", SIGNAL)
def nothing_sends(ctx: CheckContext, info: SignalInfo) -> None:
    if info.core is not None or info.namespace == "ckan" or ctx.close_name(info):
        return  # SIG010 knows which releases send a core signal; SIG009 the rest of ckan's
    subscribed = [s for s in info.subscriptions if s.alive]
    if not subscribed:
        return
    unsent, typo = ctx.shared.unsent(info)
    if not unsent:
        return
    if typo is None and info.defined_by is None and info.namespace == "ckanext":
        return  # nothing defines it either: SIG011's
    hint = f"; did you mean {typo!r}, which is sent?" if typo else ""
    files = ctx.shared.sends().files
    ctx.report(f"nothing sends {info.name!r}: no send site in the {files} source files of CKAN "
               f"and the extensions read, so its receivers never run{hint}",
               sub=subscribed[0], info=info, receiver=None)


@check("SIG012", SIGNAL)
def unprefixed_signal(ctx: CheckContext, info: SignalInfo) -> None:
    if not (info.namespace == "ckanext" and info.core is None and info.defined_module
            and info.defined_by not in (None, "preloaded", "core")):
        return
    module = info.defined_module
    parts = module.split(".")
    extension = parts[1] if parts[0] == "ckanext" and len(parts) > 1 else parts[0]
    if info.name.startswith(extension):
        return
    file, line = _binding_site(module, info.name)
    ctx.report(f"{info.name!r} is defined by {module} but does not start with its extension's "
               f"name {extension!r}", info=info, plugin=info.defined_by, file=file, line=line)


def _binding_site(module: str, name: str) -> tuple[str | None, int | None]:
    """The file of ``module`` and the first line that mentions ``name`` quoted."""
    file = getattr(sys.modules.get(module), "__file__", None)
    if not file:
        return None, None
    for number, text in enumerate(linecache.getlines(file), 1):
        if f'"{name}"' in text or f"'{name}'" in text:
            return file, number
    return file, None


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
