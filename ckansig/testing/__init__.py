"""What the pytest plugin (:mod:`ckansig.pytest_plugin`) is made of: the
``signal_log`` fixture's :class:`~ckansig.testing.log.SignalLog`, signal specs
and subset matching (``matching``), the receivers connected and isolated
(``wiring``), and the session's leak guard and signal coverage (``session``).
"""
