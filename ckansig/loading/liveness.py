"""Whether a weakly connected receiver is surely alive without asking the
garbage collector.

blinker holds receivers (and object senders) weakly. One that only a
reference cycle keeps alive is garbage: blinker drops it whenever the
collector next runs. So :func:`ckansig.loading.load` must collect before it
reports which receivers are alive, and a collection walks every object the
plugins created (about 14 ms for 10,000 receivers). Most receivers are
module-level functions or methods of plugins that ckansig keeps alive, which
no collection can drop: when every weak receiver is one of those, and no
connection filters by an object sender, the collection cannot change a
result and is skipped.

The test is conservative: anything it cannot prove reachable (a closure, a
partial, a method of some other object, a name that does not lead back to the
object) counts as doubtful, and then the loader collects.
"""

from __future__ import annotations

import sys
from collections.abc import Container
from types import FunctionType, MethodType, ModuleType
from typing import Any

__all__ = ["surely_alive"]


_MODULES = sys.modules


def surely_alive(receiver: Any, kept: Container[int]) -> bool:
    """Whether ``receiver`` is reachable from ``sys.modules`` by its name, or
    is a method of an object whose id is in ``kept`` (or of a named class)."""
    kind = type(receiver)
    if kind is FunctionType:
        qualname = receiver.__qualname__
        if "." not in qualname:  # the common case, kept cheap: a module-level function
            module = _MODULES.get(receiver.__module__)
            return type(module) is ModuleType and module.__dict__.get(qualname) is receiver
        return _named(receiver)
    if kind is MethodType:
        owner = receiver.__self__
        return _named(receiver.__func__) and (
            id(owner) in kept or (issubclass(type(owner), type) and _named(owner)))
    return False


def _named(obj: Any) -> bool:
    """Whether ``module.Qual.Name`` leads back to ``obj``, read from the
    namespaces' own dicts (no attribute hook of plugin code runs)."""
    qualname = getattr(obj, "__qualname__", None)
    module = getattr(obj, "__module__", None)
    if not isinstance(qualname, str) or not isinstance(module, str) or "<" in qualname:
        return False
    target: Any = _MODULES.get(module)
    for part in qualname.split("."):
        try:
            target = vars(target).get(part)
        except TypeError:  # no __dict__
            return False
        if isinstance(target, (staticmethod, classmethod)):
            target = target.__func__
    return target is obj
