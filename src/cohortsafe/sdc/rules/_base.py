"""What every rule shares: parameters declared once with their help text, and findings.

A rule is a frozen dataclass whose fields are its parameters. Each field is declared
with :func:`parameter`, which records the help text the documentation test checks and
the bounds the policy loader enforces. Cell rules return :class:`Finding` objects: a
reason (rule and parameter, never a cell's value) and the cells it applies to.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Example:
...     limit: int = parameter(3, "how many", minimum=1)
>>> parameter_help(Example)
{'limit': 'how many'}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cohortsafe.sdc._cellstats import BoolArray

__all__ = [
    "ACTIONS",
    "Action",
    "Finding",
    "parameter",
    "parameter_help",
    "parameter_spec",
]

Action = Literal["suppress", "review"]
ACTIONS: tuple[Action, ...] = ("suppress", "review")


@dataclass(frozen=True)
class Finding:
    """Cells a rule flags, and the reason shown for each of them."""

    rule: str
    reason: str
    cells: BoolArray
    action: Action = "suppress"


@dataclass(frozen=True)
class ParameterSpec:
    """How a policy file may set one parameter."""

    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    convert: Callable[[Any], Any] | None = None


def parameter(
    default: Any,
    help: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] | None = None,
    convert: Callable[[Any], Any] | None = None,
) -> Any:
    """A rule parameter: its default, its documentation and its admissible values."""
    spec = ParameterSpec(help, minimum, maximum, choices, convert)
    return dataclasses.field(default=default, metadata={"sdc": spec})


def parameter_spec(rule: type[Any] | Any, name: str) -> ParameterSpec:
    for item in dataclasses.fields(rule):
        if item.name == name:
            spec = item.metadata.get("sdc")
            if isinstance(spec, ParameterSpec):
                return spec
    raise KeyError(name)


def parameter_help(rule: type[Any] | Any) -> dict[str, str]:
    """Each parameter of a rule with its help text (empty when undocumented)."""
    helps: dict[str, str] = {}
    for item in dataclasses.fields(rule):
        spec: Mapping[str, Any] = item.metadata
        found = spec.get("sdc")
        helps[item.name] = found.help if isinstance(found, ParameterSpec) else ""
    return helps
