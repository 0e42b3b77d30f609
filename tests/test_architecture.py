"""The dependency direction of docs/design.md, enforced."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import cohortsafe

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(cohortsafe.__file__).parent
OUTER = {"app", "cli"}


def _core_units() -> set[str]:
    return {m.name for m in pkgutil.iter_modules([str(PACKAGE)]) if m.name not in OUTER}


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["importlinter"]["contracts"])


def test_every_core_unit_is_bound_by_the_forbidden_contract() -> None:
    forbidden = next(c for c in _contracts() if c["type"] == "forbidden")
    listed = {str(m).removeprefix("cohortsafe.") for m in forbidden["source_modules"]}  # type: ignore[union-attr]
    assert _core_units() == listed


def test_every_core_unit_has_its_place_in_the_layers() -> None:
    layers = next(c for c in _contracts() if c["type"] == "layers")
    placed = {
        name.strip().removeprefix("cohortsafe.")
        for layer in layers["layers"]  # type: ignore[union-attr]
        for name in str(layer).split("|")
    }
    assert _core_units() | OUTER == placed


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_core_module_imports_django_the_console_or_prints() -> None:
    offenders = []
    for unit in sorted(_core_units()):
        files = [PACKAGE / f"{unit}.py"] if (PACKAGE / f"{unit}.py").exists() else []
        files += sorted((PACKAGE / unit).rglob("*.py")) if (PACKAGE / unit).is_dir() else []
        for path in files:
            for name in _imports(path):
                top = name.split(".")[0]
                if top in {"django", "argparse", "click"} or name.startswith(
                    ("cohortsafe.app", "cohortsafe.cli")
                ):
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "print"
                ):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} prints")
    assert offenders == []


def test_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
