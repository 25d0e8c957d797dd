"""The source analysis behind SIG016, and its bytecode prefilter: a speed trick
that must never change a finding."""

from __future__ import annotations

import importlib
import inspect
import opcode
from types import FunctionType

import pytest

from ckansig.doctor import source

from .conftest import FIXTURES


def _receivers() -> list[FunctionType]:
    """Every function the SIG016 and silencing fixtures define, methods included."""
    import fx_doc  # on sys.path through the fixtures folder

    found = []
    for value in vars(fx_doc).values():
        if isinstance(value, FunctionType):
            found.append(value)
        elif isinstance(value, type):
            found += [v for v in vars(value).values() if isinstance(v, FunctionType)]
    # (not the receiver made by exec, whose source is nowhere: SIG018's fixture)
    return [f for f in found if f.__module__ == fx_doc.__name__
            and f.__code__.co_filename == fx_doc.__file__]


@pytest.fixture
def fixtures_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(FIXTURES))


def _findings(func: FunctionType) -> list[source.Finding]:
    code = func.__code__
    return source.analyse(func, code.co_filename, code.co_firstlineno)


def test_prefilter_says_yes_for_every_receiver_with_a_finding(fixtures_on_path) -> None:
    receivers = _receivers()
    with_findings = []
    for func in receivers:
        parsed = source._function_at(func.__code__.co_filename, func.__code__.co_firstlineno,
                                     None)
        assert parsed is not None, func
        if source._Analyser(parsed).run():  # the analysis alone, no prefilter
            with_findings.append(func.__name__)
            assert source.may_find(func.__code__), func.__name__
    # the fixtures that fire SIG016 are among them, and the prefilter spares some work
    assert {"mutates", "mutates_named", "reads_without_default",
            "silenced_reader"} <= set(with_findings)
    assert any(not source.may_find(f.__code__) for f in receivers)


def test_prefilter_parses_when_unsure(fixtures_on_path) -> None:
    import fx_doc

    plain = fx_doc.careful.__code__  # any code object: unsure means yes
    assert source.may_find(plain, usable=False)


def test_a_python_without_an_expected_opcode_parses_everything(monkeypatch,
                                                               fixtures_on_path) -> None:
    """As on CPython 3.14, where subscripts are read with BINARY_OP."""
    import fx_doc

    opmap = {name: code for name, code in opcode.opmap.items() if name != "BINARY_SUBSCR"}
    monkeypatch.setattr(opcode, "opmap", opmap)
    try:
        reloaded = importlib.reload(source)
        assert reloaded.PREFILTER_USABLE is False
        code = fx_doc.reads_without_default.__code__
        assert reloaded.may_find(code)
        assert [f.kind for f in _findings(fx_doc.reads_without_default)] == ["reads"]
    finally:
        monkeypatch.undo()
        importlib.reload(source)
    assert source.PREFILTER_USABLE is True


def test_analysis_reports_mutations_and_reads(fixtures_on_path) -> None:
    import fx_doc

    assert [f.kind for f in _findings(fx_doc.mutates)] == ["mutates"]
    assert [f.kind for f in _findings(fx_doc.reads_without_default)] == ["reads"]
    assert _findings(fx_doc.careful) == []
    assert inspect.getsource(fx_doc.careful)  # the near-miss is read from source too
