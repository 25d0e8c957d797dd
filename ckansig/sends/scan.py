"""What one source file says about sending signals, read from its AST.

:func:`file_facts` never imports or runs the file. It notes, as plain data
(so that it can be cached as JSON):

- ``defs``: names bound to a signal, ``user_created = ckan.signal("user_created")``;
- ``imports``: what each imported name stands for, ``signals -> ckan.lib.signals``;
- ``sends``: calls of ``.send(``, ``.send_async(`` or ``.send_robust(`` on an
  expression that may be a signal, and ``other.connect(sig.send)`` forwards;
- ``wrappers``: functions that send a signal given as a parameter
  (``def notify(signal, **kw): signal.send(None, **kw)``);
- ``calls``: calls that pass something signal-like as an argument, so that
  calls of wrappers can be found once every file is read.

Which expression is which signal is worked out across files by
:mod:`ckansig.sends.index`.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterator
from typing import Any

__all__ = ["SEND_METHODS", "file_facts", "may_send"]

#: The methods that send a signal: blinker's two, and the name wrappers use.
SEND_METHODS = frozenset({"send", "send_async", "send_robust"})

#: Namespace objects CKAN's signals live in, by the name they are reached as.
_NAMESPACES = {"ckan": "ckan", "ckanext": "ckanext"}

_LIMIT = 80  # characters of a sender's source text kept


def may_send(data: bytes) -> bool:
    """Whether a file can hold anything :func:`file_facts` notes (a cheap test
    that spares parsing the many files that mention no signal)."""
    return b"send" in data or b"signal(" in data


def file_facts(data: bytes, module: str) -> dict[str, Any]:
    """The facts of one file whose module is ``module`` (for relative
    imports). A file that does not parse has none: it cannot be imported
    either, so it sends nothing."""
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return _empty()
    return _Reader(module, data).read(tree)


#: Words on the lines worth reading expression by expression (see _Reader.read).
_WORDS = re.compile(rb"send|signal|Namespace")


def _lines_with(data: bytes, pattern: re.Pattern[bytes]) -> list[int]:
    """The numbers of the lines of ``data`` where ``pattern`` matches, in order."""
    lines: list[int] = []
    line, start = 1, 0
    for match in pattern.finditer(data):
        line += data.count(b"\n", start, match.start())
        start = match.start()
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _statements(node: ast.AST) -> Iterator[ast.AST]:
    """Every statement under ``node``, nested blocks included (no expressions)."""
    for field in ("body", "orelse", "finalbody", "handlers", "cases"):
        block = getattr(node, field, None)
        if isinstance(block, list):
            for child in block:
                yield child
                yield from _statements(child)


def _empty() -> dict[str, Any]:
    return {"defs": {}, "imports": {}, "sends": [], "wrappers": {}, "calls": []}


def _chain(node: ast.expr) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]``; None for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    parts.reverse()
    return parts


def _name_pattern(node: ast.expr) -> tuple[str | None, str | None]:
    """A signal name given as ``node``: the literal, else a regular expression
    for an f-string (its constant parts), else ``.*`` (any name)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, None
    if isinstance(node, ast.JoinedStr):
        parts = [re.escape(v.value) if isinstance(v, ast.Constant) and isinstance(v.value, str)
                 else ".*" for v in node.values]
        return None, "".join(parts)
    return None, ".*"


def _source(node: ast.expr) -> str:
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):  # pragma: no cover - odd ASTs only
        return "?"
    return text if len(text) <= _LIMIT else text[:_LIMIT - 3] + "..."


class _Reader:
    def __init__(self, module: str, data: bytes) -> None:
        self.module = module
        self.data = data
        self.facts = _empty()
        self.namespace_vars: dict[str, str | None] = {}
        self.conflicted: set[str] = set()
        self.lines: list[int] = []

    def read(self, tree: ast.Module) -> dict[str, Any]:
        """Bindings first (an import or definition may come after its use in a
        function), then the calls. Only the statements that span a line
        mentioning "send", "signal" or "Namespace", or a name bound to a
        signal, can hold what is noted: the others are never walked
        expression by expression."""
        self.lines = _lines_with(self.data, _WORDS)
        for node in _statements(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                self._import(node)
            elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None \
                    and self._spans_a_line(node):
                self._assign(node)
        names = [*self.facts["defs"], *(name for name, path in self.facts["imports"].items()
                                        if "signal" in path)]
        if names:  # a wrapper called with a signal bound to a name of its own
            words = rb"\b(?:" + b"|".join(re.escape(n.encode()) for n in names) + rb")\b"
            self.lines = sorted({*self.lines, *_lines_with(self.data, re.compile(words))})
        self._walk(tree, None)
        return self.facts

    def _spans_a_line(self, node: ast.AST) -> bool:
        """Whether ``node`` spans one of :attr:`lines`."""
        first = getattr(node, "lineno", None)
        if first is None:
            return True
        last = getattr(node, "end_lineno", None) or first
        index = bisect.bisect_left(self.lines, first)
        return index < len(self.lines) and self.lines[index] <= last

    # -- bindings -------------------------------------------------------------

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        imports = self.facts["imports"]
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    imports[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    imports.setdefault(top, top)
            return
        base = node.module or ""
        if node.level:
            parts = self.module.split(".")
            keep = len(parts) - node.level  # the module's package is parts[:-1]
            if keep < 0:
                return
            base = ".".join([*parts[:keep], *([base] if base else [])])
        for alias in node.names:
            if alias.name != "*":
                imports[alias.asname or alias.name] = f"{base}.{alias.name}" if base \
                    else alias.name

    def _signal_call(self, node: ast.expr) -> list[Any] | None:
        """``["call", namespace, name, pattern]`` when ``node`` makes a signal:
        ``<ckan|ckanext>.signal(name)``, or blinker's ``signal(name)``."""
        if not (isinstance(node, ast.Call) and node.args):
            return None
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "signal":
            chain = _chain(func.value)
            if chain is None:
                return None
            last = chain[-1]
            if last in _NAMESPACES and (len(chain) > 1 or last not in self.namespace_vars):
                namespace: str | None = _NAMESPACES[last]
            elif len(chain) == 1 and chain[0] in self.namespace_vars:
                namespace = self.namespace_vars[chain[0]]
            elif chain == ["blinker"]:
                namespace = None
            else:
                return None
        elif isinstance(func, ast.Name) and func.id == "signal" \
                and self.facts["imports"].get("signal") == "blinker.signal":
            namespace = None
        else:
            return None
        name, pattern = _name_pattern(node.args[0])
        return ["call", namespace, name, pattern]

    def _assign(self, node: ast.Assign | ast.AnnAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        assert value is not None
        made = self._signal_call(value)
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if made is None:
            # ``ckan = Namespace()`` in CKAN's own signals module: reached as ckan
            if isinstance(value, ast.Call) and (_chain(value.func) or [""])[-1] == "Namespace":
                for name in names:
                    self.namespace_vars[name] = _NAMESPACES.get(name)
            return
        defs = self.facts["defs"]
        for name in names:
            if name in self.conflicted:
                continue
            if name in defs and defs[name] != made:
                del defs[name]  # bound to two signals: which one a use means is unknown
                self.conflicted.add(name)
            else:
                defs[name] = made

    # -- uses -------------------------------------------------------------------

    def _ref(self, node: ast.expr, params: dict[str, int] | None) -> list[Any] | None:
        """How ``node`` names a (possible) signal, for the index to resolve."""
        made = self._signal_call(node)
        if made is not None:
            return made
        chain = _chain(node)
        if chain is None:
            return None
        if len(chain) == 1:
            if params is not None and chain[0] in params:
                return ["param", params[chain[0]]]
            return ["name", chain[0]]
        return ["attr", chain]

    def _walk(self, tree: ast.AST, params: dict[str, int] | None,
              function: ast.FunctionDef | ast.AsyncFunctionDef | None = None) -> None:
        for node in ast.iter_child_nodes(tree):
            if isinstance(node, ast.stmt) and not self._spans_a_line(node):
                continue
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = node.args
                positional = [a.arg for a in (*args.posonlyargs, *args.args)]
                named = {name: index for index, name in enumerate(positional)}
                self._walk(node, named, node)
                continue
            if isinstance(node, ast.Call):
                self._call(node, params, function)
            self._walk(node, params, function)

    def _call(self, node: ast.Call, params: dict[str, int] | None,
              function: ast.FunctionDef | ast.AsyncFunctionDef | None) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in SEND_METHODS:
            ref = self._ref(func.value, params)
            if ref is not None:
                self._send(node, ref, func.attr, function)
            return
        if isinstance(func, ast.Attribute) and func.attr == "connect":
            # other.connect(sig.send): whatever ``other`` sends, ``sig`` sends too
            for arg in node.args[:1]:
                if isinstance(arg, ast.Attribute) and arg.attr in SEND_METHODS:
                    ref = self._ref(arg.value, params)
                    if ref is not None:
                        self.facts["sends"].append(
                            [ref, "forward", node.lineno, None, None])
            return
        callee = func.attr if isinstance(func, ast.Attribute) else \
            func.id if isinstance(func, ast.Name) else None
        if callee is None or not node.args:
            return
        for index, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                break
            ref = self._ref(arg, None)
            if ref is not None and ref[0] != "param" and self._signal_like(ref):
                self.facts["calls"].append(
                    [callee, index, ref, node.lineno,
                     [None if isinstance(a, ast.Starred) else _source(a) for a in node.args],
                     _keywords(node.keywords)])

    def _signal_like(self, ref: list[Any]) -> bool:
        """Whether an argument may be a signal (worth noting in case the callee
        is a wrapper): a signal made on the spot, a name bound to one here,
        or a name whose import path or attributes say "signal"
        (``from .signals import ticket_created``, ``tk.signals.user_created``)."""
        if ref[0] == "call":
            return True
        chain = [ref[1]] if ref[0] == "name" else ref[1]
        if chain[0] in self.facts["defs"]:
            return True
        dotted = ".".join([self.facts["imports"].get(chain[0], chain[0]), *chain[1:]])
        return "signal" in dotted

    def _send(self, node: ast.Call, ref: list[Any], method: str,
              function: ast.FunctionDef | ast.AsyncFunctionDef | None) -> None:
        sender = _source(node.args[0]) if node.args and not isinstance(
            node.args[0], ast.Starred) else None
        kwargs = _keywords(node.keywords)
        if ref[0] == "param" and function is not None:
            # a wrapper: the signal comes from its caller, and so may more arguments
            args = function.args
            positional = [a.arg for a in (*args.posonlyargs, *args.args)]
            varkw = args.kwarg.arg if args.kwarg else None
            forwarded = [k.value.id for k in node.keywords if k.arg is None
                         and isinstance(k.value, ast.Name)]
            own = [k.arg for k in node.keywords if k.arg is not None]
            passes = bool(varkw) and forwarded == [varkw] and \
                len(forwarded) == sum(1 for k in node.keywords if k.arg is None)
            sender_param = None
            if node.args and isinstance(node.args[0], ast.Name) \
                    and node.args[0].id in positional:
                sender_param = positional.index(node.args[0].id)
            self.facts["wrappers"][function.name] = [
                ref[1], own if (kwargs is not None or passes) else None, passes,
                sender_param, sender, node.lineno, positional]
            return
        self.facts["sends"].append([ref, method, node.lineno, sender, kwargs])


def _keywords(keywords: list[ast.keyword]) -> list[str] | None:
    """The keyword names a call passes; None when it also passes ``**mapping``
    (which names, nobody knows without running it)."""
    if any(k.arg is None for k in keywords):
        return None
    return [k.arg for k in keywords if k.arg is not None]

