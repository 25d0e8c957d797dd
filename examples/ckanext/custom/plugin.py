"""ckanext-custom's plugin: turns new users into its own custom signal."""

from ckanext.custom.signals import custom_something_happened

import ckansig.plugins as p


class CustomPlugin(p.SingletonPlugin):
    p.implements(p.ISignal)

    def get_signal_subscriptions(self):
        return {p.toolkit.signals.user_created: [self.announce_new_user]}

    def announce_new_user(self, sender, **kwargs):
        """Tell subscribers of custom_something_happened about the new user."""
        results = custom_something_happened.send(sender, what="user_created")
        return f"told {len(results)} subscriber(s) about {sender}"
