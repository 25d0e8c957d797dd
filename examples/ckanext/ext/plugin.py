"""ckanext-ext's plugin: subscribes through ISignal, as CKAN's guide recommends.

It looks ckanext-custom's signal up in the ckanext namespace instead of
importing it, so it works (and simply never fires) without ckanext-custom.
"""

from ckanext.ext import listeners

import ckansig.plugins as p


class ExtPlugin(p.SingletonPlugin):
    p.implements(p.ISignal)

    def get_signal_subscriptions(self):
        custom_something_happened = p.toolkit.signals.ckanext.signal(
            "custom_something_happened"
        )
        return {
            custom_something_happened: [listeners.custom_listener],
            p.toolkit.signals.action_succeeded: [
                # only when the sender (the action name) is package_create
                {"receiver": listeners.dataset_created, "sender": "package_create"},
            ],
            p.toolkit.signals.failed_login: [listeners.count_failed_login],
        }
