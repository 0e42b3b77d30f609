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


def _imported_top_levels() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_every_library_the_code_imports_is_a_declared_dependency() -> None:
    """A fresh `make demo` installs only what pyproject.toml lists: an import of anything
    else works on a developer's machine and fails on a new one."""
    import importlib.metadata as metadata
    import re

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = {
        re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        for requirement in config["project"]["dependencies"]
        + config["project"]["optional-dependencies"]["postgres"]
    }
    distributions = metadata.packages_distributions()
    missing = []
    for name in sorted(_imported_top_levels()):
        if name in sys.stdlib_module_names or name in ("cohortsafe", "__future__"):
            continue
        owners = {d.lower().replace("_", "-") for d in distributions.get(name, [name])}
        if not owners & declared:
            missing.append(f"{name} ({', '.join(sorted(owners))})")
    assert not missing, f"imported but not in pyproject's dependencies: {missing}"
