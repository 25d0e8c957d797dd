"""Signals provided by ckanext-custom, created at import time in the ckanext
namespace and prefixed with the extension's name, as CKAN's guide asks."""

import ckansig.plugins.toolkit as tk

custom_something_happened = tk.signals.ckanext.signal(
    "custom_something_happened",
    "Sent by ckanext-custom when something worth telling other extensions happens.",
)
