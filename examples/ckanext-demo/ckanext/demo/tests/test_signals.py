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


# -- ckansig's assertions on real actions (issue: test signals like Rails and Laravel) -----


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_user_create_runs_activitys_receiver(signal_log) -> None:
    from ckanext.activity import subscriptions

    signal_log.assert_subscribed("action_succeeded", subscriptions.user_changed,
                                 sender="user_create")
    create_user("bob")
    send = signal_log.assert_sent_once("action_succeeded", sender="user_create",
                                       data_dict={"name": "bob"},
                                       result={"name": "bob", "state": "active"})
    ran = {o.receiver.__name__: o.status for o in send.outcomes}
    assert ran["user_changed"] == "ok" and ran["count_users"] == "ok"
    signal_log.assert_sent("user_created", sender="bob", user=lambda user: user.name == "bob")
    signal_log.assert_sent_in_order(
        ["user_created", ("action_succeeded", {"sender": "user_create"})])
    signal_log.assert_not_sent("failed_login")


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_organization_create(signal_log) -> None:
    user = create_user("owner")
    # organization_create returns organization_show's result, which counts the datasets
    # through Solr; the tests run without Solr, so the action returns the id only. The
    # activity plugin's receiver needs the whole organization: it is muted meanwhile.
    with signal_log.mute(plugin="activity"):
        org_id = tk.get_action("organization_create")(
            {"ignore_auth": True, "user": user["name"], "return_id_only": True},
            {"name": "demo-org", "title": "Demo"})
    send = signal_log.assert_sent_once("action_succeeded", sender="organization_create",
                                       data_dict={"name": "demo-org", "title": "Demo"},
                                       result=org_id)
    assert send.outcomes == []  # activity's receiver was muted, the demo has none here


@pytest.mark.ckan_config("WTF_CSRF_ENABLED", False)
@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_a_failed_login_through_the_web(app, signal_log) -> None:
    create_user("carol")
    app.post(tk.url_for("user.login"), data={"login": "carol", "password": "wrong-password"})
    signal_log.assert_sent_once("failed_login", sender="carol")
    signal_log.assert_not_sent("logged_in")


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_only_the_demo_runs(signal_log) -> None:
    with signal_log.only(plugin="demo"):
        create_user("dave")
    send = signal_log.assert_sent_once("action_succeeded", sender="user_create")
    assert [o.receiver.__name__ for o in send.outcomes] == ["count_users"]
    with signal_log.mute(plugin="demo"):
        create_user("erin")
    send = signal_log.assert_sent_once("action_succeeded", sender="user_create",
                                       data_dict={"name": "erin"})
    assert [o.receiver.__name__ for o in send.outcomes] == ["user_changed"]


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_a_plugin_used_for_one_block_leaves_nothing_connected(signal_log) -> None:
    import ckan.plugins as p
    from ckanext.demo.plugin import count_failures

    with p.use_plugin("demo_inherited"):
        signal_log.assert_subscribed("failed_login", count_failures)
    signal_log.assert_not_subscribed("failed_login", count_failures)
