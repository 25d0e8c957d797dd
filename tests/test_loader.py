"""Loading plugins as CKAN does: provenance, import-time receivers, failures."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import pytest

from ckansig import signals
from ckansig.config import load_config
from ckansig.loading import load
from ckansig.model import Registry, Subscription


def load_plugins(write_config: Callable[..., Path], *plugins: str) -> Registry:
    return load(load_config(write_config(*plugins)))


def subs(registry: Registry, name: str) -> list[Subscription]:
    return registry.find(name).subscriptions


def test_isignal_subscriptions_are_connected_with_provenance(write_config) -> None:
    registry = load_plugins(write_config, "fx_good:GoodPlugin")
    assert registry.errors == []
    by_name = {s.receiver.qualname: s for s in subs(registry, "user_created")}
    assert set(by_name) == {"on_user_created", "GoodPlugin.only_bob"}
    plain = by_name["on_user_created"]
    assert plain.plugin == "fx_good:GoodPlugin"
    assert plain.via == "isignal"
    assert plain.sender.kind == "any"
    assert plain.weak and plain.alive
    assert plain.receiver.module == "fx_good"
    assert plain.receiver.file is not None and plain.receiver.file.endswith("fx_good.py")
    assert plain.receiver.line == 7
    method = by_name["GoodPlugin.only_bob"]
    assert method.sender.to_json() == "bob"
    assert method.receiver.kind == "method"
    strong = subs(registry, "failed_login")[0]
    assert strong.weak is False
    # connected for real, as CKAN would
    results = dict(signals.user_created.send("bob"))
    assert sorted(results.values()) == ["bob!", "hello bob"]


def test_bound_method_receivers_survive_garbage_collection(write_config) -> None:
    load_plugins(write_config, "fx_good:GoodPlugin")
    gc.collect()
    assert len(list(signals.user_created.receivers_for("bob"))) == 2


def test_import_time_receivers_and_module_entries(write_config) -> None:
    registry = load_plugins(write_config, "fx_import_time")
    assert registry.errors == []
    decorated = subs(registry, "user_created")[0]
    assert decorated.via == "import" and decorated.plugin == "fx_import_time"
    assert decorated.receiver.name == "fx_import_time.decorated"
    mallory = subs(registry, "failed_login")[0]
    assert mallory.via == "import" and mallory.sender.to_json() == "mallory"
    assert mallory.weak is False  # connect_via connects strongly
    # the module-level get_signal_subscriptions() function counts as a plugin
    download = subs(registry, "resource_download")[0]
    assert download.via == "isignal"
    assert download.plugin == "fx_import_time:get_signal_subscriptions"


@pytest.mark.parametrize(
    ("plugin", "kind", "fragment"),
    [
        # no such module
        ("fx_nowhere.plugin:Plugin", "module_not_found", "module 'fx_nowhere.plugin' not found"),
        # the module imports something that is not installed: name it
        ("fx_missing_dep", "import_error", "needs module 'fx_not_installed_dependency'"),
        # the module raises while importing
        ("fx_raises_on_import:Plugin", "import_error", "RuntimeError: boom at import"),
        ("fx_syntax_error", "import_error", "SyntaxError"),
        # the attribute is not there
        ("fx_good:Missing", "attribute_missing", "has no attribute 'Missing'"),
        # the attribute is not a plugin
        ("fx_good:__doc__", "not_a_plugin", "not a plugin class"),
        # the constructor raises
        ("fx_subs:InitFails", "plugin_init_failed", "OSError: no config here"),
        # get_signal_subscriptions() raises or returns nonsense
        ("fx_subs:Raises", "subscriptions_raised", "ValueError: cannot subscribe today"),
        ("fx_subs:ReturnsList", "subscriptions_malformed", "returned a list"),
        ("fx_subs:StringReceivers", "subscriptions_malformed", "must be a list, not a str"),
        ("fx_subs:StringKey", "bad_signal_key", "'user_created' is not a blinker signal"),
        # malformed entries
        ("fx_subs:NoReceiverKey", "entry_malformed", "without 'receiver'"),
        ("fx_subs:UnknownOption", "entry_malformed", "senders"),
        ("fx_subs:ZeroSender", "entry_malformed", "sender 0"),
        ("fx_subs:NotCallable", "not_callable", "receiver 42"),
        # a bare name that is neither an entry point nor a module
        ("fx-no-such-plugin", "module_not_found", "no plugin named 'fx-no-such-plugin'"),
    ],
)
def test_one_bad_plugin_never_stops_the_others(
    write_config, plugin: str, kind: str, fragment: str
) -> None:
    registry = load_plugins(write_config, plugin, "fx_subs:StillFine")
    assert [(e.plugin, e.kind) for e in registry.errors] == [(plugin, kind)]
    assert fragment in registry.errors[0].message
    assert "\n" not in registry.errors[0].message
    fine = [s for s in subs(registry, "user_created") if s.plugin == "fx_subs:StillFine"]
    assert len(fine) == 1


def test_failures_point_at_a_file_and_line(write_config) -> None:
    registry = load_plugins(write_config, "fx_raises_on_import", "fx_subs:Raises")
    raised, subscriptions = registry.errors
    assert raised.file is not None and raised.file.endswith("fx_raises_on_import.py")
    assert raised.line == 3
    assert subscriptions.file is not None and subscriptions.file.endswith("fx_subs.py")
    assert subscriptions.line == 17  # the raise statement


def test_missing_dependency_names_the_module(write_config) -> None:
    registry = load_plugins(write_config, "fx_missing_dep")
    assert registry.errors[0].missing_module == "fx_not_installed_dependency"


def test_dropped_weak_receivers_are_reported_not_hidden(write_config) -> None:
    registry = load_plugins(write_config, "fx_subs:Dropped")
    gc.collect()
    dropped = subs(registry, "user_created")
    assert {s.receiver.kind for s in dropped} == {"lambda", "partial"}
    assert not any(s.alive for s in dropped)
    assert list(signals.user_created.receivers_for("x")) == []


def test_signal_provenance_provider_and_subscriber(write_config) -> None:
    # The subscriber loads first and creates the signal by looking it up; the
    # provider still counts as defining it, since its module binds it.
    registry = load_plugins(write_config, "fx_subscriber:SubscriberPlugin", "fx_provider")
    info = registry.find("fx_provider_ready")
    assert info.namespace == "ckanext"
    assert info.defined_by == "fx_provider"
    assert info.defined_module == "fx_provider"
    assert info.mentioned_by == ["fx_subscriber:SubscriberPlugin"]
    assert [s.plugin for s in info.subscriptions] == ["fx_subscriber:SubscriberPlugin"]


def test_an_orphan_signal_is_only_mentioned(write_config) -> None:
    registry = load_plugins(write_config, "fx_subscriber:SubscriberPlugin")
    info = registry.find("fx_provider_ready")
    assert info.defined_by is None
    assert info.mentioned_by == ["fx_subscriber:SubscriberPlugin"]


def test_entry_point_names_resolve_like_ckan(
    write_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .conftest import fake_distribution

    fake_distribution(tmp_path / "site", "fx_dist",
                      "[ckan.test_plugins]\nfx_test_plugin = fx_good:GoodPlugin\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    registry = load_plugins(write_config, "fx_test_plugin")
    assert registry.errors == []
    assert {s.plugin for s in subs(registry, "user_created")} == {"fx_test_plugin"}
    # CKAN instantiates with name=<entry point name>
    assert registry.plugins[0].obj.name == "fx_test_plugin"


def test_select_filters(write_config) -> None:
    registry = load_plugins(write_config, "fx_good:GoodPlugin", "fx_import_time")
    # globs match registered names and the attribute names of core signals
    assert [i.name for i in registry.select("user_*")] == [
        "logged_in", "logged_out", "user_created"]
    assert [i.name for i in registry.select("user_c*")] == ["user_created"]
    assert [i.name for i in registry.select("login")] == ["successful_login", "failed_login"]
    assert [i.name for i in registry.select("user_logged_in")] == ["logged_in"]
    assert {i.name for i in registry.select(subscribed=True)} == {
        "user_created", "failed_login", "resource_download"}
    only_import = registry.select(plugin="fx_import_time")
    assert {i.name for i in only_import} == {"user_created", "failed_login", "resource_download"}
    assert all(s.plugin.startswith("fx_import_time") for i in only_import for s in i.subscriptions)
    assert {i.namespace for i in registry.select(namespace="ckanext")} == {"ckanext"}


def test_find_suggests_close_names(write_config) -> None:
    from ckansig.errors import SignalNotFound

    registry = load_plugins(write_config)
    with pytest.raises(SignalNotFound, match="did you mean user_created"):
        registry.find("user_craeted")
    assert registry.find("action_succeeded").name == "action_succeed"


def test_plugins_without_isignal_load_quietly(write_config) -> None:
    # Most plugins a ckan.ini names implement other interfaces only.
    registry = load_plugins(write_config, "fx_good:NotASignalPlugin")
    assert registry.errors == []
    assert [p.name for p in registry.plugins] == ["fx_good:NotASignalPlugin"]


def test_every_plugin_object_is_kept_with_its_config_entry(write_config) -> None:
    registry = load_plugins(write_config, "fx_good:GoodPlugin", "fx_import_time",
                            "fx_good:ready_made")
    assert registry.errors == []
    assert [(p.name, p.spec) for p in registry.plugins] == [
        ("fx_good:GoodPlugin", "fx_good:GoodPlugin"),
        ("fx_import_time:get_signal_subscriptions", "fx_import_time"),
        ("fx_good:ready_made", "fx_good:ready_made"),
    ]


def test_an_int_sender_filter_is_shown_by_value_on_every_blinker(write_config) -> None:
    """blinker < 1.8 files an int sender under id(10); the filter is still 10, via ISignal."""
    from ckansig.firing import fire

    registry = load(load_config(write_config("fx_int_sender:IntSenderPlugin")))
    info = registry.find("fx_int_sender_number")
    filters = {(s.receiver.qualname, s.sender.to_json(), s.sender.type, s.via)
               for s in info.subscriptions}
    assert filters == {("times_two", None, "ANY", "isignal"), ("times_ten", 10, "int", "isignal")}
    assert sorted(r.result for r in fire(info, 10, registry=registry).receivers) == [20, 100]
    assert [r.result for r in fire(info, 5, registry=registry).receivers] == [10]


def test_entry_points_are_scanned_once_per_run(write_config, monkeypatch) -> None:
    """A config of many bare names must not scan every distribution once per name."""
    import importlib.metadata

    calls = []
    real = importlib.metadata.entry_points

    def counting(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", counting)
    names = [f"fx_no_such_plugin_{i}" for i in range(200)]
    registry = load(load_config(write_config(*names)))
    assert len(registry.errors) == 200
    assert len(calls) == 2  # ckan.plugins and ckan.test_plugins, once each



REFUSING_PLUGIN = """
import ckansig.plugins as p
from blinker import ANY, NamedSignal


class Refusing(NamedSignal):
    # a plugin's own signal class, whose connect raises for one receiver
    def connect(self, receiver, sender=ANY, weak=True):
        if getattr(receiver, "__name__", "") == "refused":
            raise RuntimeError("no room for refused")
        return super().connect(receiver, sender=sender, weak=weak)


special = Refusing("fx_refusing_special")


def refused(sender, **kwargs):
    return "never"


def welcome(sender, **kwargs):
    return "ok"


class RefusingPlugin(p.SingletonPlugin):
    p.implements(p.ISignal)

    def get_signal_subscriptions(self):
        return {special: [refused, {"receiver": refused, "sender": "bob"}, welcome]}
"""


def test_a_connect_that_raises_is_the_plugins_load_error(tmp_path: Path) -> None:
    # a bare function (the loader's fast path) and a dict entry (the general
    # path) give the same error, with the receiver's name, file and line; the
    # other receivers are connected
    (tmp_path / "fx_refusing.py").write_text(REFUSING_PLUGIN)
    config = tmp_path / "plugins.toml"
    config.write_text('[ckansig]\npaths = ["."]\nplugins = ["fx_refusing:RefusingPlugin"]\n')
    registry = load(load_config(config))
    line = REFUSING_PLUGIN.splitlines().index("def refused(sender, **kwargs):") + 1
    assert [e.kind for e in registry.errors] == ["connect_failed", "connect_failed"]
    for error in registry.errors:
        assert error.plugin == "fx_refusing:RefusingPlugin"
        assert error.receiver == "fx_refusing.refused"
        assert error.signal == "fx_refusing_special"
        assert "RuntimeError: no room for refused" in error.message
        assert error.file is not None and error.file.endswith("fx_refusing.py")
        assert error.line == line
    info = registry.find("fx_refusing_special")
    assert [s.receiver.name for s in info.subscriptions] == ["fx_refusing.welcome"]
