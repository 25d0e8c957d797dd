"""The redaction policy: what every output hides, decided once.

- A value under a secret-looking key (:func:`~ckansig.values.is_secret_key`)
  is a secret. Secrets are learned when a send is recorded, into the
  :class:`SecretBook` of its scope (a test, a request, a traced command, a
  ``fire`` or ``call``), so that they are hidden in everything recorded in that
  scope, beneath the send and after it: results, the arguments of nested
  sends, captured output, exception messages. The views of a send ask its
  book for the :class:`~ckansig.values.Redactor` to use.
- Database model objects (CKAN's ``User``) and any object whose repr shows a
  secret-named field are summarized: type, id and name
  (:func:`~ckansig.shown.model_summary`).
- A command line keeps its words but hides the values of secret-named
  options and ``key=value`` pairs (:func:`redact_argv`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ckansig.values import REDACTED, Redactor, collect_secrets, is_secret_key

__all__ = ["SecretBook", "redact_argv"]

#: One lock for every book: a book is made per request, and rarely written to.
_LOCK = threading.Lock()


class SecretBook:
    """The secrets learned in one scope; :meth:`redactor` hides them all."""

    __slots__ = ("_redactor", "exact")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.exact: set[str] = set(secrets)
        self._redactor: Redactor | None = None

    def learn(self, *sources: object, objects: bool = True) -> None:
        """Note the secrets in ``sources`` (keyword arguments, a sender, a
        data_dict); with ``objects``, also the text of objects under secret
        keys (see :func:`~ckansig.values.collect_secrets`)."""
        found: set[str] = set()
        for source in sources:
            collect_secrets(source, found, objects)
        if found:
            self.add(found)

    def add(self, secrets: Iterable[str]) -> None:
        """Note ``secrets``, values known to be secret."""
        new = set(secrets) - self.exact
        if new:
            with _LOCK:
                self.exact |= new
                self._redactor = None

    def redactor(self, enabled: bool = True) -> Redactor:
        """A redactor hiding every secret learned so far (none when not ``enabled``)."""
        if not enabled:
            return Redactor(enabled=False)
        redactor = self._redactor
        if redactor is None:
            with _LOCK:
                redactor = self._redactor = Redactor.of(set(self.exact))
        return redactor


def redact_argv(argv: Iterable[str]) -> tuple[list[str], set[str]]:
    """``argv`` with the values of secret-named options and ``key=value``
    words hidden (``--password X``, ``--password=X``, ``password=X``,
    ``api_key=X``, ``--token X``), and the values hidden."""
    shown: list[str] = []
    secrets: set[str] = set()
    hide_next = False
    for word in argv:
        if hide_next:
            hide_next = False
            if word:
                secrets.add(word)
                shown.append(REDACTED)
                continue
        name, equals, value = word.lstrip("-").partition("=")
        if is_secret_key(name):
            if equals:
                if value:
                    secrets.add(value)
                shown.append(word[: len(word) - len(value)] + (REDACTED if value else ""))
                continue
            if word.startswith("-"):
                hide_next = True
        shown.append(word)
    return shown, secrets
