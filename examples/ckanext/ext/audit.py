"""An audit log connected at import time with a decorator: the style CKAN's
guide allows but does not recommend (doctor reports it as SIG014, info)."""

import ckansig.plugins.toolkit as tk

AUDIT_LOG = []


@tk.signals.resource_download.connect
def log_download(sender, **kwargs):
    """Record every resource download."""
    AUDIT_LOG.append(("resource_download", sender))
    return len(AUDIT_LOG)
