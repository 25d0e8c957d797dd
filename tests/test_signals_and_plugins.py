"""The CKAN-compatible API: namespaces, core aliases, Plugin, implements, toolkit."""

from __future__ import annotations

import pytest
from blinker import Namespace

import ckansig.plugins as p
import ckansig.plugins.toolkit as tk
from ckansig import signals
from ckansig.catalog import CORE_SIGNALS, core_signal


def test_namespaces_are_blinker_namespaces() -> None:
    assert isinstance(signals.ckan, Namespace)
    assert isinstance(signals.ckanext, Namespace)
    assert signals.ckan is not signals.ckanext


@pytest.mark.parametrize("entry", CORE_SIGNALS, ids=lambda e: e.attribute)
def test_each_core_alias_is_the_namespace_signal(entry: object) -> None:
    from ckansig.catalog import CoreSignal

    assert isinstance(entry, CoreSignal)
    namespace = signals.NAMESPACES[entry.namespace]
    assert getattr(signals, entry.attribute) is namespace.signal(entry.name)


def test_guide_examples_hold() -> None:
    assert signals.register_blueprint is signals.ckan.signal("register_blueprint")
    assert signals.action_succeeded is signals.ckan.signal("action_succeed")
    assert signals.user_logged_in is signals.ckan.signal("logged_in")
    assert signals.datastore_upsert is signals.ckanext.signal("datastore_upsert")


def test_catalogue_knows_releases_and_arguments() -> None:
    user_created = core_signal("ckan", "user_created")
    assert user_created is not None
    assert user_created.args == ("username", "user")
    assert user_created.sender == "username" and user_created.kwargs == ("user",)
    assert user_created.sent_in((2, 10))
    successful_login = core_signal("ckan", "successful_login")
    assert successful_login is not None
    assert not successful_login.sent_in((2, 12))
    assert successful_login.replacement == "user_logged_in"
    logged_in = core_signal("ckan", "logged_in")
    assert logged_in is not None
    assert not logged_in.sent_in((2, 10)) and logged_in.sent_in((2, 11))
    assert core_signal("ckan", "action_succeeded") is None  # registered as action_succeed
    assert {s.attribute for s in CORE_SIGNALS} == {
        "request_started", "request_finished", "register_blueprint", "resource_download",
        "successful_login", "user_logged_in", "user_logged_out", "failed_login",
        "user_created", "request_password_reset", "perform_password_reset",
        "action_succeeded", "datastore_upsert", "datastore_delete",
    }


def test_toolkit_signals_is_ckansig_signals() -> None:
    assert tk.signals is signals
    assert p.toolkit.signals is signals


def test_singleton_plugin_has_one_instance_per_class() -> None:
    class One(p.SingletonPlugin):
        pass

    class Two(p.SingletonPlugin):
        pass

    assert One() is One()
    assert One() is not Two()


def test_plugin_has_many_instances_and_a_name() -> None:
    class Many(p.Plugin):
        pass

    assert Many() is not Many()
    assert Many(name="many").name == "many"


def test_implements_records_the_interface() -> None:
    class WithSignal(p.SingletonPlugin):
        p.implements(p.ISignal)

    class Without(p.SingletonPlugin):
        pass

    class Child(WithSignal):
        pass

    assert p.ISignal.implemented_by(WithSignal)
    assert p.ISignal.provided_by(WithSignal())
    assert p.ISignal.implemented_by(Child)
    assert not p.ISignal.implemented_by(Without)


def test_implements_inherit_gives_the_default_methods() -> None:
    class Inheriting(p.SingletonPlugin):
        p.implements(p.ISignal, inherit=True)

    assert issubclass(Inheriting, p.ISignal)
    assert Inheriting().get_signal_subscriptions() == {}


def test_implements_rejects_a_non_interface() -> None:
    with pytest.raises(p.PluginException, match="Interface subclass"):

        class Bad(p.SingletonPlugin):
            p.implements(dict)  # type: ignore[arg-type]


def test_public_api_resolves_every_name() -> None:
    import ckansig

    for name in ckansig.__all__:
        assert getattr(ckansig, name) is not None, name
    with pytest.raises(AttributeError):
        _ = ckansig.no_such_thing  # type: ignore[attr-defined]
