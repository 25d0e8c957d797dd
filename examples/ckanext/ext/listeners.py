"""Receivers of ckanext-ext. Each accepts the sender and any keyword arguments,
and checks that an argument is there before using it."""


def custom_listener(sender, **kwargs):
    """React to ckanext-custom's signal."""
    return f"ext saw {kwargs.get('what', 'something')} from {sender}"


def dataset_created(sender, **kwargs):
    """Only called for the package_create action (sender filter)."""
    result = kwargs.get("result") or {}
    return f"new dataset {result.get('name', '?')}"


def count_failed_login(sender, **kwargs):
    """Count failed logins per user."""
    count_failed_login.counts[sender] = count_failed_login.counts.get(sender, 0) + 1
    return count_failed_login.counts[sender]


count_failed_login.counts = {}
