"""ckanext-demo: signals used the way real CKAN extensions use them.

- ``demo`` welcomes new users: its receiver reads a config option the plugin
  declares, asks whether the plugin is loaded, and sends the extension's own
  signal, ``demo_user_welcomed``; another receiver counts users through an
  action (so it needs the database) after every ``user_create``. With
  ``ckanext.demo.audit_failed_logins = true`` it also subscribes to
  ``failed_login``: wiring that depends on config (``ckansig diff`` of two
  ini files shows it).
- ``demo_inherited`` subclasses a plugin that implements ``ISignal`` without
  ``inherit=True`` and declares an interface of its own: CKAN 2.10 then never
  connects its subscriptions, 2.11 and later do (ckanext-charts is a real
  case).
"""

from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk

#: Sent by ckanext-demo after it welcomed a new user (sender: the user name).
demo_user_welcomed = tk.signals.ckanext.signal("demo_user_welcomed")


class DemoPlugin(p.SingletonPlugin):
    p.implements(p.ISignal)
    p.implements(p.IConfigDeclaration)

    def declare_config_options(self, declaration: Any, key: Any) -> None:
        declaration.declare(key.ckanext.demo.greeting, "welcome")
        declaration.declare_bool(key.ckanext.demo.audit_failed_logins, False)

    def get_signal_subscriptions(self) -> Any:
        subscriptions: dict[Any, list[Any]] = {
            tk.signals.user_created: [self.welcome],
            tk.signals.action_succeeded: [
                {"sender": "user_create", "receiver": self.count_users},
            ],
        }
        if tk.asbool(tk.config.get("ckanext.demo.audit_failed_logins")):
            subscriptions[tk.signals.failed_login] = [self.audit_failed_login]
        return subscriptions

    def audit_failed_login(self, sender: str, **kwargs: Any) -> str:
        return f"failed login by {sender} audited"

    def welcome(self, sender: str, **kwargs: Any) -> str:
        """Greet a new user with the configured greeting (a declared option:
        CKAN's config has no such key until its declarations are loaded)."""
        greeting = tk.config["ckanext.demo.greeting"]
        demo_user_welcomed.send(sender, greeting=greeting)
        return f"{greeting}, {sender} (demo loaded: {p.plugin_loaded('demo')})"

    def count_users(self, sender: str, **kwargs: Any) -> str:
        """How many users there are now (an action, so the database), and who
        acted: the action's context says (``g`` exists only inside a request,
        and ``ckan user add`` or a test calls actions outside one)."""
        users = tk.get_action("user_list")({"ignore_auth": True}, {})
        context = kwargs.get("context") or {}
        return f"{len(users)} user(s), asked by {context.get('user') or 'anonymous'}"


def count_failures(sender: str, **kwargs: Any) -> str:
    return f"failed login by {sender}"


class _SignalsBase(p.SingletonPlugin):
    p.implements(p.ISignal)  # without inherit=True

    def get_signal_subscriptions(self) -> Any:
        return {tk.signals.failed_login: [count_failures]}


class InheritedPlugin(_SignalsBase):
    """Implements ISignal only through its base class's ``implements()``. On
    CKAN 2.10 its own ``implements()`` gives it an interface list of its own,
    without ISignal."""

    p.implements(p.ITemplateHelpers)

    def get_helpers(self) -> dict[str, Any]:
        return {}
