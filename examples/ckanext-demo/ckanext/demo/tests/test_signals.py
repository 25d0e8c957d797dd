"""ckanext-demo's signals, tested with CKAN's pytest plugin (``--ckan-ini``,
``with_plugins``, ``clean_db``) and ckansig's ``signal_log``, on the real
database."""

from __future__ import annotations

import ckan.plugins.toolkit as tk
import pytest


def create_user(name: str) -> dict:
    return tk.get_action("user_create")(
        {"ignore_auth": True},
        {"name": name, "email": f"{name}@example.org", "password": "correct-horse-42"})


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_user_create_runs_the_demo_receiver(signal_log) -> None:
    create_user("bob")
    send = signal_log.assert_sent("action_succeeded", sender="user_create")
    outcomes = {o.receiver.__name__: o for o in send.outcomes}
    assert outcomes["count_users"].status == "ok"
    assert outcomes["count_users"].result.startswith("1 user(s)")


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_new_users_are_welcomed(signal_log) -> None:
    tk.signals.user_created.send("bob", user=create_user("bob"))
    signal_log.assert_sent("demo_user_welcomed", sender="bob", greeting="welcome")
    signal_log.assert_not_sent("failed_login")


@pytest.mark.ckan_config("ckanext.demo.greeting", "hello")
@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_the_greeting_is_configurable(signal_log) -> None:
    tk.signals.user_created.send("alice", user=create_user("alice"))
    signal_log.assert_sent("demo_user_welcomed", sender="alice", greeting="hello")
