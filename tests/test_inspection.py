"""Describing receivers: names, kinds, files and lines, sync or async."""

from __future__ import annotations

import functools
import inspect

import pytest

from ckansig.loading.describing import describe


def plain(sender, **kwargs):
    return sender


async def coroutine(sender, **kwargs):
    return sender


def make_closure():
    def inner(sender, **kwargs):
        return sender

    return inner, (lambda sender, **kwargs: sender)


def decorated(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


class Handler:
    def method(self, sender, **kwargs):
        return sender

    def __call__(self, sender, **kwargs):
        return sender


def test_kinds_names_and_sites() -> None:
    inner, inner_lambda = make_closure()
    top_lambda = lambda sender, **kwargs: sender  # noqa: E731
    cases = {
        "function": plain,
        "closure": inner,
        "lambda": top_lambda,
        "method": Handler().method,
        "callable": Handler(),
        "partial": functools.partial(plain),
    }
    for kind, receiver in cases.items():
        info = describe(receiver)
        assert info.kind == kind, receiver
        assert info.file == __file__ and info.line, receiver
        assert not info.is_async
    assert describe(inner_lambda).kind == "lambda"  # a lambda inside a function
    assert describe(plain).name == f"{__name__}.plain"
    assert describe(inner).qualname == "make_closure.<locals>.inner"


def test_async_and_wrapped_receivers() -> None:
    assert describe(coroutine).is_async
    wrapped = decorated(plain)
    info = describe(wrapped)
    # the site of the wrapped function, not of the decorator's wrapper
    assert info.line == plain.__code__.co_firstlineno
    assert info.name == f"{__name__}.plain"


@pytest.mark.skipif(not hasattr(inspect, "markcoroutinefunction"), reason="Python < 3.12")
def test_functions_marked_as_coroutine_functions_are_async() -> None:
    def marked(sender, **kwargs):
        return sender

    assert not describe(marked).is_async
    assert describe(inspect.markcoroutinefunction(marked)).is_async  # type: ignore[attr-defined]
