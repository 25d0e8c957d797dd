"""Find names one edit apart ("did you mean user_created?") without comparing
every pair: a config with thousands of signals must be checked in linear time."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["NameIndex", "one_edit"]


class NameIndex:
    """Finds a known name one edit away from a given name in time linear in
    the name's length, whatever the number of known names (a config with
    thousands of signals must not check every pair)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = set(names)
        self.deletions: dict[str, list[str]] = {}
        #: (length, first character) and (length, last character) of every name
        self.ends: set[tuple[int, str]] = set()
        for name in sorted(self.names):
            for variant in _deletions(name):
                self.deletions.setdefault(variant, []).append(name)
            if name:
                self.ends.update(((len(name), name[0]), (len(name), name[-1])))

    def one_edit_from(self, name: str) -> str | None:
        if not self.names or not self._may_have_neighbour(name):
            return None
        # The variants are matched against the index by set operations (in C):
        # most names have no neighbour at all, and cost no Python loop over them.
        variants = [name[:i] + name[i + 1:] for i in range(len(name))]
        candidates = self.names.intersection(variants)  # a character deleted from `name`
        for variant in self.deletions.keys() & variants:  # a substitution
            candidates.update(self.deletions[variant])
        candidates.update(self.deletions.get(name, ()))  # a character inserted
        candidates.update(self.names.intersection(  # two neighbouring characters swapped
            [name[:i] + name[i + 1] + name[i] + name[i + 2:] for i in range(len(name) - 1)]))
        candidates.discard(name)
        if not candidates:
            return None
        # The first match in order is the answer: sort the candidates (in C)
        # and check them in turn, rather than checking them all. A name one
        # edit away from dozens of others costs one check, not dozens.
        return next((c for c in sorted(candidates) if one_edit(name, c)), None)


    def _may_have_neighbour(self, name: str) -> bool:
        """False when no known name can be one edit from ``name``: one edit
        keeps the first or the last character of a name of three or more
        (a substitution, insertion, deletion or swap at one end leaves the
        other end alone), and changes the length by at most one."""
        size = len(name)
        if size < 3:
            return True
        ends = self.ends
        first, last = name[0], name[-1]
        return any((length, first) in ends or (length, last) in ends
                   for length in (size - 1, size, size + 1))


def _deletions(name: str) -> set[str]:
    return {name[:i] + name[i + 1:] for i in range(len(name))}


def one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by exactly one insertion, deletion,
    substitution, or swap of two neighbouring characters."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))
