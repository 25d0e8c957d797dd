"""The catalogue of doctor checks: stable IDs, severities, explanations.

``CHECKS`` is the catalogue; every entry has exactly one function registered
against its ID in :mod:`ckansig.doctor.checks` (a test holds them together).

The IDs are part of ckansig's interface: they appear in output, in
``--select``/``--ignore`` and in silencing comments, and never change meaning.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

__all__ = ["CHECKS", "SEVERITIES", "SEVERITY_RANK", "Check", "Severity"]

#: How serious a finding is. "pedantic" findings are true to the letter of CKAN's
#: guide but rarely worth acting on: shown only with ``doctor --strict``.
Severity = Literal["error", "warning", "info", "pedantic"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info", "pedantic")
SEVERITY_RANK: dict[str, int] = {"pedantic": -1, "info": 0, "warning": 1, "error": 2}


class Check(NamedTuple):
    """One catalogue entry: what the check finds, why it matters, and how to
    fix it. The function that performs it is registered against its ``id``
    in :mod:`ckansig.doctor.checks`."""

    id: str
    severity: Severity  # the default; a few checks also report at a lower level
    title: str
    hint: str
    explanation: str
    bad: str
    good: str


#: Every check, by ID.
CHECKS: dict[str, Check] = {c.id: c for c in (
    Check(
        "SIG001", "error", "a plugin cannot be loaded",
        "install the missing package, fix the import error, or correct the name in the config",
        "ckansig could not import the plugin named in the config: the module does not exist, "
        "it raised while being imported (often a missing optional dependency), or it has no "
        "attribute of that name. CKAN would refuse to start with this plugin enabled.",
        'plugins = ["ckanext.mything.plugin:MyThingPlugin"]   # module not installed',
        'pip install -e ckanext-mything   # or fix the module:attribute name',
    ),
    Check(
        "SIG002", "error", "get_signal_subscriptions() raised or returned a non-mapping",
        "return a dict mapping each signal to a list of receivers",
        "CKAN calls get_signal_subscriptions() while loading plugins and iterates "
        ".items() of the result, each value being an iterable of receivers. An exception, a "
        "list instead of a dict, or a bare string as the receivers makes CKAN fail at start-up.",
        "def get_signal_subscriptions(self):\n    return [toolkit.signals.user_created]",
        "def get_signal_subscriptions(self):\n"
        "    return {toolkit.signals.user_created: [on_user_created]}",
    ),
    Check(
        "SIG003", "error", "a subscription key is not a blinker signal",
        "use the signal object: toolkit.signals.<name> or toolkit.signals.ckanext.signal(name)",
        "The keys of the mapping must be blinker Signal objects; CKAN calls key.connect(...). "
        "A string such as 'user_created' has no connect method and fails at load.",
        'return {"user_created": [on_user_created]}',
        "return {toolkit.signals.user_created: [on_user_created]}",
    ),
    Check(
        "SIG004", "error", "a malformed subscription entry",
        "give each dict a 'receiver' and only the options Signal.connect takes "
        "(receiver, sender, weak); never use 0 or False as a sender",
        "CKAN passes a dict entry straight to signal.connect(**options): a dict without "
        "'receiver', an option connect() does not take (a typo such as 'senders'), or a "
        "receiver that cannot be connected as asked raises at load. blinker cannot tell a "
        "sender of 0 or False from ANY and asserts.",
        '{"receiver": on_create, "senders": ["package_create"]}',
        '{"receiver": on_create, "sender": "package_create"}',
    ),
    Check(
        "SIG005", "error", "a receiver that is not callable",
        "list functions or methods as receivers",
        "Every receiver is called as receiver(sender, **kwargs); anything else fails when the "
        "signal is sent, or when it is connected.",
        "return {toolkit.signals.user_created: [None]}",
        "return {toolkit.signals.user_created: [on_user_created]}",
    ),
    Check(
        "SIG006", "error", "a receiver that cannot take what the signal sends",
        "define receivers as def receiver(sender, **kwargs)",
        "blinker calls every receiver as receiver(sender, **kwargs). A receiver without a "
        "positional parameter for the sender, with further required parameters, or without "
        "**kwargs while the signal sends keyword arguments raises TypeError when the signal "
        "is sent. CKAN's guide: subscribers MUST accept one mandatory argument (the sender) "
        "and an arbitrary number of keyword arguments, since CKAN may add arguments in any "
        "release; a receiver without **kwargs is a warning even where it works today.",
        "def on_user_created(username):\n    ...",
        "def on_user_created(sender, **kwargs):\n    user = kwargs.get('user')",
    ),
    Check(
        "SIG007", "error", "a receiver silently dropped by garbage collection",
        "connect a module-level function or a method of the plugin (kept alive), or pass "
        "weak=False",
        "blinker holds receivers by weak reference unless weak=False. A lambda, a closure, a "
        "functools.partial or a bound method of an object nobody else keeps is garbage-"
        "collected as soon as the plugin returns its subscriptions, and blinker disconnects "
        "it without a word: the receiver never runs.",
        "return {toolkit.signals.user_created: [lambda sender, **kw: log(sender)]}",
        "def on_user_created(sender, **kwargs):\n    log(sender)\n\n"
        "return {toolkit.signals.user_created: [on_user_created]}",
    ),
    Check(
        "SIG008", "error", "a coroutine receiver on a signal sent with send()",
        "make the receiver a plain function (start async work from it), or silence this if "
        "the signal is sent with send_async()",
        "CKAN sends its signals with Signal.send(), which raises RuntimeError ('Cannot send "
        "to a coroutine function') when it reaches an async def receiver; the receivers "
        "after it never run.",
        "async def on_user_created(sender, **kwargs):\n    ...",
        "def on_user_created(sender, **kwargs):\n    ...",
    ),
    Check(
        "SIG009", "warning", "an unknown or misspelled signal name",
        "check the name against ckansig list; put custom signals in the ckanext namespace",
        "Namespace.signal(name) creates any signal it does not know, so a misspelled name "
        "silently subscribes to a signal nothing sends. Core signals live in the ckan "
        "namespace only; custom signals belong in ckanext.",
        'toolkit.signals.ckan.signal("user_craeted")',
        "toolkit.signals.user_created",
    ),
    Check(
        "SIG010", "warning", "a signal the targeted CKAN release never sends",
        "subscribe to the replacement, or target a release that sends the signal "
        "(--ckan-version)",
        "CKAN's guide lists successful_login, but no CKAN release has ever sent it: use "
        "user_logged_in (CKAN 2.11+). user_logged_in and user_logged_out are sent from CKAN "
        "2.11 on. A receiver of a signal that is never sent never runs.",
        "toolkit.signals.successful_login: [on_login]",
        "toolkit.signals.user_logged_in: [on_login]",
    ),
    Check(
        "SIG011", "warning", "an orphan signal: only subscribers mention it",
        "install the extension that provides the signal, or remove the subscription",
        "The ckanext signal is looked up only by subscribers; no loaded module defines it at "
        "import time, and no send site in the source read sends it. Looking a signal up "
        "creates it, so unless its provider is installed it is a new signal that is never "
        "sent (CKAN's guide). A name prefixed with an extension that is not installed here "
        "(ap_main:collect_config_sections, sent by ckanext-admin-panel) is an optional "
        "integration: reported as info, not as a warning. A name one edit from one that is "
        "sent is SIG022's, with a did-you-mean.",
        'toolkit.signals.ckanext.signal("custom_something_happened")  # provider not loaded',
        'plugins = ["ckanext.custom.plugin:CustomPlugin", ...]  # load the provider too',
    ),
    Check(
        "SIG012", "warning", "a custom signal without its extension's name as prefix",
        "name the signal after your extension: <ext>_<event> or <ext>:<event>",
        "All extensions share the ckanext namespace. CKAN's guide: to avoid name collisions "
        "and unexpected behaviour, always use your plugin's name as prefix for the signal.",
        'toolkit.signals.ckanext.signal("something_happened")  # in ckanext-custom',
        'toolkit.signals.ckanext.signal("custom_something_happened")',
    ),
    Check(
        "SIG013", "warning", "the same receiver subscribed twice to one signal and sender",
        "subscribe each receiver once per signal and sender",
        "blinker keeps a single connection per receiver and sender: the second subscription "
        "is silently merged into the first, and unloading either plugin disconnects the "
        "receiver for both.",
        "return {signals.user_created: [on_user, on_user]}",
        "return {signals.user_created: [on_user]}",
    ),
    Check(
        "SIG014", "info", "a receiver connected at import time, not through ISignal",
        "return the receiver from get_signal_subscriptions() instead of @signal.connect",
        "A receiver connected with a decorator or signal.connect() when its module is "
        "imported is active whether or not the plugin is enabled. CKAN's guide recommends "
        "ISignal so that CKAN controls the subscriptions of enabled plugins.",
        "@toolkit.signals.user_created.connect\ndef on_user_created(sender, **kwargs): ...",
        "def get_signal_subscriptions(self):\n"
        "    return {toolkit.signals.user_created: [on_user_created]}",
    ),
    Check(
        "SIG015", "warning", "a sender filter that can never match",
        "filter by a str or int sender (matched by value), or by the exact object sent",
        "blinker matches str and int senders by value and every other sender by identity. "
        "A float, list, dict or other value is a new object each time it is sent, so the "
        "receiver is never called; and a filter that contradicts the signal's documented "
        "sender (request_started is sent by the Flask app, never a string) never matches.",
        '{"receiver": on_request, "sender": "dataset"}  # on request_started',
        '{"receiver": on_blueprint, "sender": "dataset"}  # on register_blueprint',
    ),
    Check(
        "SIG016", "warning", "a receiver that modifies its arguments",
        "treat arguments as read-only: copy before changing; read kwargs with .get()",
        "CKAN's guide: arguments passed to subscribers should never be modified; use "
        "subscribers only for side effects. The check reads the receiver's source for "
        "assignments, deletions and mutating method calls on kwargs[...] or a named keyword "
        "argument. It also reports, as info, kwargs['x'] read without a default: CKAN makes "
        "no guarantee about which arguments are sent, so check that an argument is there.",
        'def on_action(sender, **kwargs):\n    kwargs["data_dict"]["private"] = True',
        'def on_action(sender, **kwargs):\n    data = dict(kwargs.get("data_dict") or {})',
    ),
    Check(
        "SIG017", "error", "a ckansig comment that silences nothing",
        "write exactly '# ckansig: ignore' or '# ckansig: ignore[SIG016]' with known IDs",
        "A suppression comment is exactly '# ckansig: ignore' or '# ckansig: ignore[SIG016]' "
        "(several IDs comma-separated), at the end of the receiver's def line or of the "
        "flagged line. Anything else that starts with '# ckansig:' (a missing bracket, a "
        "typo, an ID that no check has, a note after the comment) silences nothing, so that "
        "no comment silences by accident; this check says so, as an error (doctor exits 1): "
        "a comment meant to silence that does not is a mistake to fix, not to live with.",
        "def on_user(sender, **kwargs):  # ckansig: ignore[SIG016",
        "def on_user(sender, **kwargs):  # ckansig: ignore[SIG016]",
    ),
    Check(
        "SIG018", "info", "a receiver whose source cannot be checked",
        "install the package with its .py files, or restart after editing the source",
        "SIG016 reads a receiver's source. When the bytecode says the receiver may modify or "
        "read its arguments but the source is missing (only compiled files installed), or the "
        "file has changed since it was imported (the receiver's line is no longer its def), "
        "the check cannot run: this says so, instead of passing in silence.",
        "# site-packages holds plugin.pyc only",
        "# site-packages holds plugin.py",
    ),
    Check(
        "SIG019", "error", "subscriptions CKAN never connects",
        "declare p.implements(p.ISignal) on the plugin class itself (or inherit=True on a "
        "base class, for CKAN 2.10)",
        "CKAN connects the subscriptions of a plugin only when the plugin implements ISignal "
        "under the release's rules; having a get_signal_subscriptions() method is not "
        "enough. On CKAN 2.10 a base class's implements(ISignal) without inherit=True does "
        "not make a subclass an ISignal plugin (ckanext-charts is a real case). Outside CKAN "
        "ckansig connects them anyway, to show them: CKAN never does.",
        "class MyPlugin(p.SingletonPlugin):\n    def get_signal_subscriptions(self): ...",
        "class MyPlugin(p.SingletonPlugin):\n    p.implements(p.ISignal)\n\n"
        "    def get_signal_subscriptions(self): ...",
    ),
    Check(
        "SIG020", "warning", "receivers CKAN cannot disconnect",
        "subscribe module functions or methods of the plugin, not lambdas, closures or "
        "partials made inside get_signal_subscriptions()",
        "When CKAN unloads a plugin (plugins.unload, and between tests with "
        "with_plugins) it calls get_signal_subscriptions() again and disconnects what that "
        "returns. A receiver that is a new object on each call (a lambda, a closure, a "
        "partial, a bound method of a new object) is not the one connected, so it stays "
        "connected after the plugin is gone: it keeps running in tests that unloaded it.",
        "def get_signal_subscriptions(self):\n"
        "    return {toolkit.signals.user_created: [{'receiver': lambda s, **kw: None, "
        "'weak': False}]}",
        "def get_signal_subscriptions(self):\n"
        "    return {toolkit.signals.user_created: [self.on_user_created]}",
    ),
    Check(
        "SIG021", "error", "a sender filter naming a sender CKAN never sends",
        "filter by a sender CKAN sends: a registered action name for action_succeeded, a "
        "blueprint type for register_blueprint",
        "blinker calls a sender-filtered receiver only for that exact sender. CKAN sends "
        "action_succeeded with the action's name (core actions and those of IActions "
        "plugins), and register_blueprint with 'dataset', 'resource', 'group' or "
        "'organization'. A filter naming anything else, such as a misspelled action, never "
        "fires, silently. Actions are checked in CKAN mode only (a ckan.ini), where CKAN's "
        "own registry is at hand.",
        "{'receiver': on_create, 'sender': 'pakage_create'}  # on action_succeeded",
        "{'receiver': on_create, 'sender': 'package_create'}",
    ),
    Check(
        "SIG022", "warning", "a subscription to a signal nothing sends",
        "subscribe to the name the sender uses (see ckansig list --sends), or install the "
        "extension that sends it",
        "ckansig reads the source of CKAN, of every installed ckanext package and of the "
        "configured plugins for calls that send signals (signal.send(...), send_async, "
        "wrappers that send a signal they are given, and signals forwarded with "
        "other.connect(signal.send)). A custom signal that is subscribed to but sent "
        "nowhere, often a misspelling of one that is, never runs its receivers. A name "
        "made at run time (an f-string) counts as sending every name it can make. Core "
        "signals are SIG010's.",
        'tk.signals.ckanext.signal("ap_main:collect_config_section")  # subscribed; sent: '
        '"...sections"',
        'tk.signals.ckanext.signal("ap_main:collect_config_sections")',
    ),
)}
