"""The examples in the core's docstrings run as tests."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import cohortsafe


def _core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(cohortsafe.__path__, prefix="cohortsafe."):
        if info.name.startswith(("cohortsafe.app", "cohortsafe.cli")):
            continue
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _core_modules())
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
