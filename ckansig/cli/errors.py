"""The one place ckansig's domain errors become click's: every command's
callback runs inside :func:`mapped`, so no command converts them itself.

- a :class:`~ckansig.errors.CkansigError` with a ``param`` (a
  :class:`~ckansig.errors.UsageProblem`, an unknown SIGNAL) is a usage error
  of that parameter, shown with the command's usage line;
- any other is one line, ``Error: <message>``;
- either exits with the error's own ``exit_code`` (2 unless it says otherwise).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ckansig.errors import CkansigError, UsageProblem

__all__ = ["mapped", "to_click"]

F = TypeVar("F", bound=Callable[..., Any])


@functools.cache
def _with_code(base: type[click.ClickException], code: int) -> Any:
    """``base`` with the exit code ``code`` (click's exceptions carry theirs as
    a class attribute)."""
    return type(base.__name__, (base,), {"exit_code": code})


def to_click(exc: CkansigError) -> click.ClickException:
    """The click exception that shows ``exc`` and exits with its code."""
    error: click.ClickException
    if isinstance(exc, UsageProblem) or exc.param is not None:
        message = exc.message if isinstance(exc, UsageProblem) else str(exc)
        error = _with_code(click.BadParameter, exc.exit_code)(message, param_hint=exc.param)
    else:
        error = _with_code(click.ClickException, exc.exit_code)(str(exc))
    return error


def mapped(callback: F) -> F:
    """``callback`` with its domain errors turned into click's (see :func:`to_click`)."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except CkansigError as exc:
            raise to_click(exc) from None

    return run  # type: ignore[return-value]
