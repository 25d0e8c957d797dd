"""The part of ``ckan.plugins.toolkit`` that concerns signals."""

from __future__ import annotations

from ckansig import signals

__all__ = ["signals"]
