"""The doctor checks of signals (SIG009-SIG012, SIG022): one function per
catalogue ID, as in :mod:`ckansig.doctor.checks`."""

from __future__ import annotations

import linecache
import sys

from ckansig.catalog import CoreSignal
from ckansig.doctor.context import SIGNAL, CheckContext, check
from ckansig.model import SignalInfo, Subscription


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
