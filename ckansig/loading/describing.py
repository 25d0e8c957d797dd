"""Describe callables without calling them: name, module, source file and
line, kind, sync or async (:func:`describe`), and how they can be called
(:func:`call_shape`)."""


import contextlib
import functools
import inspect
from types import FunctionType
from typing import Any, NamedTuple

from ckansig.isolation import plugin_code
from ckansig.model import CallableInfo, ReceiverKind

__all__ = ["CallShape", "call_shape", "describe"]



def _target(obj: Any) -> tuple[Any, ReceiverKind]:
    """The function whose code describes ``obj``, and the kind of ``obj``."""
    if isinstance(obj, functools.partial):
        return _target(obj.func)[0], "partial"
    if inspect.ismethod(obj):
        return obj.__func__, "classmethod" if isinstance(obj.__self__, type) else "method"
    if inspect.isfunction(obj):
        if obj.__name__ == "<lambda>":
            return obj, "lambda"
        if "<locals>" in obj.__qualname__:
            return obj, "closure"
        return obj, "function"
    if inspect.isbuiltin(obj):
        return obj, "builtin"
    if callable(obj) and not isinstance(obj, type):
        return type(obj).__call__, "callable"
    return obj, "callable"


_CO_COROUTINE = inspect.CO_COROUTINE
_make_info = CallableInfo._make


def describe(obj: Any) -> CallableInfo:
    """Describe ``obj`` without importing or calling anything. Never raises:
    an object whose attributes raise is described as such."""
    if type(obj) is FunctionType and not hasattr(obj, "__wrapped__"):
        # The common case, kept cheap: loading 10,000 receivers describes each.
        # (hasattr, not obj.__dict__: that would give every function a dict.)
        fcode = obj.__code__
        fqualname: str = obj.__qualname__
        fmodule: str | None = obj.__module__
        fkind: ReceiverKind = ("function" if "<" not in fqualname  # neither <lambda> nor <locals>
                 else "lambda" if obj.__name__ == "<lambda>"
                 else "closure" if "<locals>" in fqualname else "function")
        is_async = bool(fcode.co_flags & _CO_COROUTINE) or (
            hasattr(obj, "_is_coroutine_marker") and inspect.iscoroutinefunction(obj))
        return _make_info((f"{fmodule}.{fqualname}" if fmodule else fqualname, fqualname,
                           fmodule, fcode.co_filename, fcode.co_firstlineno, fkind, is_async))
    with plugin_code() as guard:
        return _describe(obj)
    kind = type(obj).__name__
    return CallableInfo(f"<{kind} object: describing it raised {type(guard.error).__name__}>",
                        kind, None, None, None, "callable", False)


def _describe(obj: Any) -> CallableInfo:
    func, kind = _target(obj)
    with contextlib.suppress(ValueError):  # a __wrapped__ cycle
        func = inspect.unwrap(func)
    code = getattr(func, "__code__", None)
    qualname = getattr(func, "__qualname__", None) or type(obj).__qualname__
    module = getattr(func, "__module__", None)
    if kind == "callable" and not inspect.isfunction(func):
        qualname = type(obj).__qualname__
        module = type(obj).__module__
    name = f"{module}.{qualname}" if module else qualname
    if kind == "partial":
        name = f"partial({name})"
    return CallableInfo(
        name=name,
        qualname=qualname,
        module=module,
        file=code.co_filename if code is not None else None,
        line=code.co_firstlineno if code is not None else None,
        kind=kind,
        is_async=inspect.iscoroutinefunction(obj),
    )


_CO_VARARGS = inspect.CO_VARARGS
_CO_VARKEYWORDS = inspect.CO_VARKEYWORDS

class CallShape(NamedTuple):
    """How a callable can be called (``self`` of a bound method left out)."""

    positional: list[str]
    required: list[str]  # positional parameters without a default
    keywords: list[str]  # keyword-only parameters
    required_keywords: list[str]  # keyword-only parameters without a default
    varargs: bool  # has *args
    varkw: bool  # has **kwargs


def call_shape(receiver: Any) -> CallShape | None:
    """How ``receiver`` can be called, read from its code where possible (fast)."""
    func, skip = receiver, 0
    if inspect.ismethod(receiver):
        func, skip = receiver.__func__, 1
    code = getattr(func, "__code__", None)
    if inspect.isfunction(func) and code is not None and not hasattr(func, "__wrapped__"):
        names = list(code.co_varnames[:code.co_argcount])
        defaults = len(func.__defaults__ or ())
        required = names[:len(names) - defaults]
        keywords = list(code.co_varnames[code.co_argcount:
                                         code.co_argcount + code.co_kwonlyargcount])
        kwdefaults = func.__kwdefaults__ or {}
        return CallShape(names[skip:], required[skip:], keywords,
                         [k for k in keywords if k not in kwdefaults],
                         bool(code.co_flags & _CO_VARARGS), bool(code.co_flags & _CO_VARKEYWORDS))
    try:
        signature = inspect.signature(receiver)
    except (TypeError, ValueError):
        return None  # a builtin or something else without a signature: nothing to say
    P = inspect.Parameter
    params = list(signature.parameters.values())
    positional = [p.name for p in params if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    required = [p.name for p in params if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)
                and p.default is P.empty]
    keywords = [p.name for p in params if p.kind is P.KEYWORD_ONLY]
    required_kw = [p.name for p in params if p.kind is P.KEYWORD_ONLY and p.default is P.empty]
    return CallShape(positional, required, keywords, required_kw,
                     any(p.kind is P.VAR_POSITIONAL for p in params),
                     any(p.kind is P.VAR_KEYWORD for p in params))
