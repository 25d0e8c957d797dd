"""The public API: what ``ckansig`` exports, lazily, and the documented import paths."""

from __future__ import annotations

import importlib
import inspect

import pytest

import ckansig
from ckansig import output

LAZY_PACKAGES = [ckansig, output]


@pytest.mark.parametrize("package", LAZY_PACKAGES, ids=lambda p: p.__name__)
def test_all_and_the_lazy_export_table_agree(package) -> None:
    exported = set(package.__all__) - {"__version__"}
    assert exported == set(package._EXPORTS)
    assert len(package.__all__) == len(set(package.__all__))


@pytest.mark.parametrize("package", LAZY_PACKAGES, ids=lambda p: p.__name__)
def test_every_exported_name_resolves_to_its_module(package) -> None:
    for name, module in package._EXPORTS.items():
        value = getattr(package, name)
        assert value is getattr(importlib.import_module(f"{package.__name__}.{module}"), name)


def test_every_exported_name_has_a_docstring() -> None:
    for name in ckansig._EXPORTS:
        value = getattr(ckansig, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            doc = value.__doc__ or ""
            assert doc.strip() and doc != type(value).__doc__, name
            assert not doc.startswith(f"{name}("), name  # not namedtuple's generated one
        else:  # a constant: documented where it is defined (#: comment or docstring)
            module = importlib.import_module(f"ckansig.{ckansig._EXPORTS[name]}")
            assert module.__doc__, name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        ckansig.nothing  # noqa: B018


@pytest.mark.parametrize("path", ["ckansig.signals", "ckansig.plugins", "ckansig.plugins.toolkit",
                                  "ckansig.catalog", "ckansig.pytest_plugin"])
def test_documented_import_paths_keep_working(path: str) -> None:
    assert importlib.import_module(path)


def test_no_subpackage_shadows_a_public_function() -> None:
    import pkgutil

    subpackages = {m.name for m in pkgutil.iter_modules(ckansig.__path__)}
    functions = {n for n in ckansig._EXPORTS if inspect.isfunction(getattr(ckansig, n))}
    assert not subpackages & functions
