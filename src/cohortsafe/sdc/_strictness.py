"""Which way each policy parameter tightens: so an environment can forbid loosening.

For every parameter of every rule, a comparison ``at_least_as_strict(new, base)``.
A rule switched off where the base has it on loosens; a parameter the engine cannot
rank counts as loosening whenever it changes (a floor may refuse more, never less).
Parameters that steer how a pattern is found but not how much it protects (the
solver's cost, cell limit and time) never loosen. ``tests/sdc/test_policy_identity.py``
fails when a rule gains a parameter this table does not rank.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["STRICTER", "loosened"]

Compare = Callable[[Any, Any], bool]


def _higher(new: Any, base: Any) -> bool:
    return bool(new >= base)


def _lower(new: Any, base: Any) -> bool:
    return bool(new <= base)


def _superset(new: Any, base: Any) -> bool:
    return set(new) >= set(base)


def _neutral(new: Any, base: Any) -> bool:
    return True


def _ranked(*order: Any) -> Compare:
    """Values from loosest to strictest."""
    return lambda new, base: order.index(new) >= order.index(base)


def _limits(new: Any, base: Any) -> bool:
    """Dominance limits: every base (n, percent) is kept with the same or a smaller percent."""
    held = {int(n): float(k) for n, k in new}
    return all(int(n) in held and held[int(n)] <= float(k) for n, k in base)


STRICTER: dict[str, dict[str, Compare]] = {
    "min_pupils": {"threshold": _higher},
    "min_schools": {"threshold": _higher},
    "school_dominance": {"limits": _limits},
    "nk_dominance": {"n": _higher, "k": _lower, "units": _superset},
    "p_percent": {"p": _higher, "units": _superset},
    "zero_cells": {"action": _ranked("review", "suppress")},
    "single_value": {"action": _ranked("review", "suppress")},
    "extremes": {"allowed": _ranked(True, False)},
    "percentiles": {"min_pupils_each_side": _higher},
    "residual_df": {"minimum": _higher},
    "differencing": {"threshold": _higher},
    "percent_clip": {"low": _higher, "high": _lower},
    "withhold": {"min_released_share": _higher},
    "secondary_suppression": {
        "percent": _higher,
        "minimum_count": _higher,
        "minimum_value": _higher,
        "cost": _neutral,
        "exact_cell_limit": _neutral,
        "time_limit_seconds": _neutral,
    },
}


def loosened(new: dict[str, Any], base: dict[str, Any]) -> list[str]:
    """What ``new`` (a policy's rules as plain data) loosens against ``base``."""
    found = []
    for rule, parameters in STRICTER.items():
        new_rule, base_rule = new[rule], base[rule]
        if base_rule.get("enabled", True) is False:
            continue
        if new_rule.get("enabled", True) is False:
            found.append(f"{rule} switched off")
            continue
        for name, at_least_as_strict in parameters.items():
            try:
                kept = at_least_as_strict(new_rule[name], base_rule[name])
            except (TypeError, ValueError):
                kept = new_rule[name] == base_rule[name]
            if not kept:
                found.append(
                    f"{rule}.{name} {_text(new_rule[name])} (was {_text(base_rule[name])})"
                )
    return found


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
