"""What a receiver's source does with its arguments: does it modify them,
does it read ``kwargs["x"]`` without a default; and ``# ckansig: ignore[...]``
comments.

Only the receiver's own block is parsed, and only when a bytecode prefilter
(:func:`may_find`) says it could hold a finding.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import linecache
import opcode
import textwrap
import tokenize
from functools import cache
from types import CodeType
from typing import Any, Literal, NamedTuple

MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "pop", "popitem", "remove", "clear", "update",
    "setdefault", "add", "discard", "sort", "reverse", "__setitem__", "__delitem__",
})

__all__ = ["MUTATING_METHODS", "PREFILTER_USABLE", "Finding", "analyse", "comment_lines",
           "function_at", "may_find", "silenced", "source_problem"]


class Finding(NamedTuple):
    """``kind`` is "mutates" or "reads"; ``what`` names the argument and how."""

    kind: Literal["mutates", "reads"]
    line: int
    what: str
    key: str | None = None  # for "reads": the keyword argument read


@cache
def _function_at(filename: str, line: int, end: int | None) -> (
    ast.FunctionDef | ast.AsyncFunctionDef | None
):
    """The function whose definition (or first decorator) starts at ``line``
    and, when known, ends at ``end``.

    Only that block is parsed, not the whole file: parsing builds an object
    per node, and a big module would cost milliseconds per receiver.
    """
    lines = linecache.getlines(filename)
    if not 0 < line <= len(lines):
        return None
    # blank lines before the block give its nodes their real line numbers (the
    # tokenizer skips them in C; shifting every node afterwards cost more)
    above = "\n" * (line - 1)
    tree = None
    if end is not None:  # the code object's own last line: no tokenizing needed
        with contextlib.suppress(SyntaxError, ValueError):
            tree = ast.parse(above + textwrap.dedent("".join(lines[line - 1:end])), filename)
    if tree is None:
        try:
            block = inspect.getblock(lines[line - 1:])
            tree = ast.parse(above + textwrap.dedent("".join(block)), filename)
        except (SyntaxError, ValueError, IndentationError, tokenize.TokenError):
            return None
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    return node


#: The opcodes behind what :class:`_Analyser` reports: subscript and attribute
#: stores and deletes, and subscript reads (``kwargs["x"]``).
PREFILTER_OPCODES = ("STORE_SUBSCR", "DELETE_SUBSCR", "STORE_ATTR", "DELETE_ATTR",
                     "BINARY_SUBSCR")
#: Slice stores and deletes, which some Pythons compile to opcodes of their own.
_SLICE_OPCODES = ("STORE_SLICE", "DELETE_SLICE")

#: Whether the running Python has every opcode the prefilter looks for. A
#: release that renames or merges one (CPython 3.14 reads subscripts with
#: BINARY_OP) would make the prefilter miss findings; then every receiver is
#: parsed instead.
PREFILTER_USABLE = all(name in opcode.opmap for name in PREFILTER_OPCODES)
_SUSPECT_OPS = frozenset(opcode.opmap[name] for name in PREFILTER_OPCODES + _SLICE_OPCODES
                         if name in opcode.opmap)


@cache  # SIG016 and SIG018 both ask, for the same code
def may_find(code: CodeType, usable: bool = PREFILTER_USABLE) -> bool:
    """Whether ``code`` could hold anything :class:`_Analyser` reports: a
    subscript or attribute store/delete, a subscript read, or a call of a
    mutating method. Most receivers have none, and skip the parse. When the
    prefilter cannot be sure (``usable`` false), the answer is yes."""
    if not usable or MUTATING_METHODS.intersection(code.co_names):
        return True
    if not _SUSPECT_OPS.isdisjoint(code.co_code[::2]):
        return True
    return any(isinstance(const, CodeType) and may_find(const) for const in code.co_consts)


def analyse(receiver: Any, filename: str | None, line: int | None) -> list[Finding]:
    """Findings for ``receiver``, defined at ``filename:line`` (none if not found)."""
    code = getattr(getattr(receiver, "__func__", receiver), "__code__", None)
    if not filename or not line or (isinstance(code, CodeType) and not may_find(code)):
        return []
    node = _function_at(filename, line, _last_line(code) if isinstance(code, CodeType) else None)
    return _Analyser(node).run() if node is not None else []


@cache  # SIG016 and SIG018 both ask, for the same code
def _last_line(code: CodeType) -> int | None:
    """The last source line of ``code`` and the code nested in it (Python 3.11+
    records where every instruction ends; earlier versions return None)."""
    positions = getattr(code, "co_positions", None)
    if positions is None:
        return None
    ends = [end for _, end, _, _ in positions() if end is not None]
    ends += [e for const in code.co_consts if isinstance(const, CodeType)
             for e in [_last_line(const)] if e is not None]
    return max(ends) if ends else None


class _Analyser:
    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.node = node
        args = node.args
        positional = [a.arg for a in (*args.posonlyargs, *args.args)]
        if positional and positional[0] in ("self", "cls"):
            positional = positional[1:]
        self.sender = positional[0] if positional else None
        self.named = set(positional[1:]) | {a.arg for a in args.kwonlyargs}
        self.kwargs = args.kwarg.arg if args.kwarg else None
        self.findings: list[Finding] = []
        self.guarded: set[str] = set()

    def run(self) -> list[Finding]:
        nodes = [n for stmt in self.node.body for n in ast.walk(stmt)]
        for node in nodes:  # keys checked with `"x" in kwargs` are read safely
            if (isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant)
                    and any(isinstance(c, ast.Name) and c.id == self.kwargs
                            for c in node.comparators)):
                self.guarded.add(str(node.left.value))
        for node in nodes:
            self.visit(node)
        return sorted(set(self.findings), key=lambda f: (f.line, f.kind, f.what))

    def argument(self, expr: ast.expr) -> str | None:
        """The argument ``expr`` is (part of), as text, or None."""
        if isinstance(expr, ast.Name) and (expr.id in self.named or expr.id == self.sender):
            return expr.id
        if isinstance(expr, ast.Subscript):
            if isinstance(expr.value, ast.Name) and expr.value.id == self.kwargs:
                return f"{self.kwargs}[{_text(expr.slice)}]"
            inner = self.argument(expr.value)
            return f"{inner}[{_text(expr.slice)}]" if inner else None
        if isinstance(expr, ast.Attribute):
            inner = self.argument(expr.value)
            return f"{inner}.{expr.attr}" if inner else None
        if (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute)
                and expr.func.attr == "get" and isinstance(expr.func.value, ast.Name)
                and expr.func.value.id == self.kwargs and expr.args):
            return f"{self.kwargs}.get({_text(expr.args[0])})"
        return None

    def written(self, target: ast.expr, line: int, verb: str) -> None:
        # Writing into kwargs itself only changes the receiver's own copy of the
        # dict (blinker unpacks **kwargs per call); writing into an argument's
        # value changes what every later receiver and the sender see.
        if isinstance(target, (ast.Subscript, ast.Attribute)):
            container = self.argument(target.value)
            if container is not None:
                self.findings.append(Finding("mutates", line, f"{verb} {_text(target)}"))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.written(element, line, verb)

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self.written(target, node.lineno, "assigns to")
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            self.written(node.target, node.lineno, "assigns to")
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                self.written(target, node.lineno, "deletes")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in MUTATING_METHODS):
            container = self.argument(node.func.value)
            if container is not None:
                self.findings.append(Finding(
                    "mutates", node.lineno, f"calls {container}.{node.func.attr}()"))
        elif (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
              and isinstance(node.value, ast.Name) and node.value.id == self.kwargs
              and isinstance(node.slice, ast.Constant)
              and str(node.slice.value) not in self.guarded):
            self.findings.append(Finding(
                "reads", node.lineno, f"reads {_text(node)} without a default",
                str(node.slice.value)))


def _text(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover - ast.unparse handles every parsed node
        return "…"


def silenced(filename: str | None, *lines: int | None) -> set[str] | None:
    """The check IDs silenced by well-formed ``# ckansig: ignore[SIGnnn]``
    comments on any of ``lines`` of ``filename`` ({"*"} for a bare
    ``# ckansig: ignore``); a malformed comment silences nothing, and neither
    does any comment of a file changed since its code was compiled."""
    if not filename:
        return None
    marked = dict(comment_lines(filename))  # read once per file; most have none
    if not marked or changed_since_import(filename):
        return None  # a comment written after the code ran silences nothing
    from ckansig.doctor.catalogue import CHECKS
    from ckansig.doctor.comments import parse_comment

    found: set[str] = set()
    for line in lines:
        if not line or line not in marked:
            continue
        comment = parse_comment(marked[line], CHECKS)
        if comment is not None and comment.problem is None:
            found |= comment.ids
    return found or None


def function_at(filename: str, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The function defined (or first decorated) at ``filename:line``, parsed."""
    return _function_at(filename, line, None)


def changed_since_import(filename: str) -> bool:
    """Whether ``filename`` changed after Python read it to compile the code
    that runs (its size or modification time differs from those noted while
    plugins loaded: :data:`~ckansig.loading.tracking.SOURCE_STATES`). A file
    not noted then (imported before ckansig loaded plugins) cannot tell: False."""
    import os

    from ckansig.loading.tracking import SOURCE_STATES

    noted = SOURCE_STATES.get(filename)
    if noted is None:
        return False
    try:
        now = os.stat(filename)
    except OSError:
        return True  # gone since: its comments are not the code's
    return (now.st_size, now.st_mtime_ns) != noted


@cache
def comment_lines(filename: str) -> tuple[tuple[int, str], ...]:
    """The lines of ``filename`` that hold a ``# ckansig:`` comment, with their
    text: read once per file, and most files mention no ckansig at all."""
    from ckansig.doctor.comments import has_mark

    lines = linecache.getlines(filename)
    if not lines or not has_mark("".join(lines)):
        return ()
    return tuple((number, text) for number, text in enumerate(lines, 1) if has_mark(text))


def source_problem(receiver: Any, filename: str | None, line: int | None) -> str | None:
    """Why the source of ``receiver`` cannot be analysed although its bytecode
    says there may be something to find, or None when it can (or need not)."""
    code = getattr(getattr(receiver, "__func__", receiver), "__code__", None)
    if not isinstance(code, CodeType) or code.co_name == "<lambda>" or not may_find(code):
        return None  # (a lambda's source is never analysed)
    if not filename or not line:
        return "it has no source file"
    lines = linecache.getlines(filename)
    if not lines:
        return f"its source {filename} cannot be read (only compiled code?)"
    if _function_at(filename, line, _last_line(code)) is None:
        return f"line {line} of {filename} is no longer its definition (changed since import?)"
    return None
