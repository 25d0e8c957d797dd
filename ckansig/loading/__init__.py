"""Loading: from a config to a :class:`~ckansig.model.Registry`.

- :mod:`~ckansig.loading.importing` resolves config entries to plugin objects,
  as CKAN creates them;
- :mod:`~ckansig.loading.loader` connects their subscriptions as CKAN does and
  records the provenance of every receiver, guarding everything plugin code does;
- :mod:`~ckansig.loading.building` turns those records and blinker's state into the registry;
- :mod:`~ckansig.loading.tracking` notices the modules and signals plugin code creates;
- :mod:`~ckansig.loading.blinker_state` is the one fence around blinker's private state;
- :mod:`~ckansig.loading.describing` describes callables without calling them.
"""

from __future__ import annotations

from ckansig.loading.loader import load

__all__ = ["load"]
