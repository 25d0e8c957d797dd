"""The published JSON Schemas of ckansig's output (``send.schema.json``: a
send, as every surface writes it)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["schema"]


def schema(name: str = "send") -> dict[str, Any]:
    """The JSON Schema called ``name`` (``"send"``), as data."""
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text("utf-8")
    found: dict[str, Any] = json.loads(text)
    return found
