"""The disclosure-control policy: one value object, loaded from TOML.

A policy names every rule of :mod:`cohortsafe.sdc.rules` with its parameters, or
switches it off with ``enabled = false``. The shipped policies ``research`` and
``school_report`` are TOML files inside the package, read by the same loader as a
policy file of one's own. A file may start from a shipped policy with
``extends = "research"`` and change only what differs; without ``extends`` it must name
every rule, so that a forgotten or misspelt section can never switch a rule off
silently. Unknown sections and parameters are errors.

>>> policy = load_policy("research")
>>> policy.min_pupils.threshold, policy.min_schools.threshold
(10, 3)
>>> policy.school_dominance.limits
((1, 50.0), (2, 67.0))
>>> load_policy("school_report").min_schools is None
True
>>> custom = policy_from_toml(
...     'name = "strict"\\nextends = "research"\\n[min_pupils]\\nthreshold = 20\\n')
>>> custom.min_pupils.threshold, custom.min_schools.threshold
(20, 3)
>>> custom.changes()
['min_pupils.threshold = 20 (research: 10)']
>>> len(custom.fingerprint), custom.fingerprint != policy.fingerprint
(16, True)

A policy is identified by a fingerprint of its parameters, not by its name: a derived
policy must carry a name of its own, and every report names the policy, its
fingerprint and each parameter that differs from the shipped policy it starts from.
An environment may hold a floor (:meth:`Policy.require_at_least`) that refuses any
policy loosening it (:mod:`._strictness`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from cohortsafe.errors import PolicyError
from cohortsafe.sdc._strictness import loosened
from cohortsafe.sdc.rules import (
    RULES,
    Differencing,
    Extremes,
    MinPupils,
    MinSchools,
    NkDominance,
    PercentClip,
    Percentiles,
    PPercent,
    ResidualDf,
    SchoolDominance,
    SecondarySuppression,
    SingleValue,
    Withhold,
    ZeroCells,
    parameter_spec,
)

__all__ = [
    "DEFAULT_POLICY",
    "POLICY_NAMES",
    "Policy",
    "load_policy",
    "policy_from_toml",
]

DEFAULT_POLICY = "research"
POLICY_NAMES: tuple[str, ...] = ("research", "school_report")


@dataclass(frozen=True)
class Policy:
    """Every rule's parameters; a rule that is switched off is ``None``."""

    name: str
    description: str
    min_pupils: MinPupils | None
    min_schools: MinSchools | None
    school_dominance: SchoolDominance | None
    nk_dominance: NkDominance | None
    p_percent: PPercent | None
    zero_cells: ZeroCells | None
    single_value: SingleValue | None
    extremes: Extremes | None
    percentiles: Percentiles | None
    residual_df: ResidualDf | None
    differencing: Differencing | None
    percent_clip: PercentClip | None
    withhold: Withhold | None
    secondary_suppression: SecondarySuppression | None
    #: the shipped policy this one starts from (itself for a shipped policy)
    base: str = DEFAULT_POLICY

    @property
    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over every rule's parameters: the policy's identity."""
        rules = {k: v for k, v in self.as_dict().items() if k not in ("name", "description")}
        canonical = json.dumps(rules, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def changes(self) -> list[str]:
        """Each parameter that differs from the shipped policy this one starts from."""
        mine, shipped = self.as_dict(), _shipped(self.base).as_dict()
        found = []
        for rule in RULES:
            if mine[rule] == shipped[rule]:
                continue
            if mine[rule].get("enabled") is False or shipped[rule].get("enabled") is False:
                state = "off" if mine[rule].get("enabled") is False else "on"
                found.append(f"{rule} {state} ({self.base}: {'on' if state == 'off' else 'off'})")
                continue
            for key, value in mine[rule].items():
                if shipped[rule].get(key) != value:
                    found.append(f"{rule}.{key} = {value} ({self.base}: {shipped[rule].get(key)})")
        return found

    def identity(self) -> dict[str, Any]:
        """What every report says of the policy: name, fingerprint, base and changes."""
        return {
            "name": self.name,
            "fingerprint": self.fingerprint,
            "base": self.base,
            "changes": self.changes(),
        }

    def describe(self) -> str:
        """``policy research (fingerprint …)``, with the changes from its base."""
        text = f"policy {self.name} (fingerprint {self.fingerprint})"
        changes = self.changes()
        if changes:
            text += f", from {self.base} with " + "; ".join(changes)
        return text

    def require_at_least(self, floor: Policy) -> None:
        """Refuse this policy when it loosens ``floor`` in any rule or parameter."""
        found = loosened(self.as_dict(), floor.as_dict())
        if found:
            raise PolicyError(
                f"policy {self.name} is looser than {floor.name}, which this environment "
                f"requires at least: {'; '.join(found)}"
            )

    def cell_rules(self) -> list[Any]:
        """The enabled rules that flag table cells, in policy order."""
        rules = (
            self.min_pupils,
            self.min_schools,
            self.school_dominance,
            self.nk_dominance,
            self.p_percent,
            self.zero_cells,
            self.single_value,
        )
        return [rule for rule in rules if rule is not None]

    @property
    def pupil_threshold(self) -> int:
        """The smallest group of pupils the policy lets a figure describe."""
        return self.min_pupils.threshold if self.min_pupils is not None else 1

    @property
    def school_top_needed(self) -> int:
        """How many largest schools per cell the rules look at."""
        return self.school_dominance.largest_n if self.school_dominance else 0

    @property
    def value_top_needed(self) -> int:
        """How many largest value contributions per cell the rules look at."""
        needed = 0
        if self.nk_dominance is not None:
            needed = max(needed, self.nk_dominance.n)
        if self.p_percent is not None:
            needed = max(needed, 2)
        if self.school_dominance is not None:
            needed = max(needed, self.school_dominance.largest_n)
        return needed

    def as_dict(self) -> dict[str, Any]:
        """The policy as plain data (the shape of a policy file)."""
        data: dict[str, Any] = {"name": self.name, "description": self.description}
        for rule_name in RULES:
            rule = getattr(self, rule_name)
            if rule is None:
                data[rule_name] = {"enabled": False}
            else:
                section = dataclasses.asdict(rule)
                data[rule_name] = {
                    key: [list(v) if isinstance(v, tuple) else v for v in value]
                    if isinstance(value, tuple)
                    else value
                    for key, value in section.items()
                }
        return data


def _parameter(rule_name: str, rule: type[Any], key: str, value: Any) -> Any:
    try:
        spec = parameter_spec(rule, key)
    except KeyError:
        raise PolicyError(f"{rule_name}: unknown parameter {key!r}") from None
    default = next(f.default for f in dataclasses.fields(rule) if f.name == key)
    where = f"{rule_name}.{key}"
    if spec.convert is not None:
        return spec.convert(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise PolicyError(f"{where} must be true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise PolicyError(f"{where} must be a whole number")
        converted: Any = value
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PolicyError(f"{where} must be a number")
        converted = float(value)
    elif isinstance(default, str):
        if not isinstance(value, str) or (spec.choices and value not in spec.choices):
            choices = ", ".join(repr(c) for c in spec.choices or ())
            raise PolicyError(f"{where} must be one of {choices}")
        return value
    else:  # pragma: no cover - every parameter type is listed above
        raise PolicyError(f"{where} has an unsupported type")
    if spec.minimum is not None and converted < spec.minimum:
        raise PolicyError(f"{where} must be at least {spec.minimum:g}")
    if spec.maximum is not None and converted > spec.maximum:
        raise PolicyError(f"{where} must be at most {spec.maximum:g}")
    return converted


def _section(rule_name: str, raw: Any, base: Any | None) -> Any | None:
    rule = RULES[rule_name]
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{rule_name} must be a table of parameters")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise PolicyError(f"{rule_name}.enabled must be true or false")
    if not enabled:
        return None
    values = dataclasses.asdict(base) if base is not None else {}
    for key, value in raw.items():
        if key == "enabled":
            continue
        values[key] = _parameter(rule_name, rule, key, value)
    # dataclasses.asdict turns tuples of tuples into lists only for dataclass fields,
    # so re-run the converters of tuple-valued parameters on inherited values
    for key, value in list(values.items()):
        spec = parameter_spec(rule, key)
        if spec.convert is not None and key not in raw:
            values[key] = spec.convert(value)
    return rule(**values)


def _from_mapping(
    data: Mapping[str, Any], *, origin: str, depth: int = 0, shipped: str | None = None
) -> Policy:
    known = {"name", "description", "extends", *RULES}
    unknown = sorted(set(data) - known)
    if unknown:
        raise PolicyError(f"{origin}: unknown section or key {unknown[0]!r}")
    base: Policy | None = None
    extends = data.get("extends")
    if extends is not None:
        if not isinstance(extends, str) or extends not in POLICY_NAMES or depth > 0:
            names = ", ".join(POLICY_NAMES)
            raise PolicyError(f"{origin}: extends must name a shipped policy ({names})")
        base = _shipped(extends)
    fields: dict[str, Any] = {}
    for rule_name in RULES:
        if rule_name in data:
            inherited = getattr(base, rule_name) if base is not None else None
            fields[rule_name] = _section(rule_name, data[rule_name], inherited)
        elif base is not None:
            fields[rule_name] = getattr(base, rule_name)
        else:
            raise PolicyError(
                f"{origin}: section [{rule_name}] is missing "
                "(name every rule, or start from a shipped policy with extends)"
            )
    name = data.get("name")
    description = data.get("description", base.description if base else "")
    if name is None and shipped is None:
        raise PolicyError(f'{origin}: give the policy a name of its own (name = "…")')
    if not isinstance(name, str) or not isinstance(description, str):
        raise PolicyError(f"{origin}: name and description must be text")
    base_name = shipped or (extends if isinstance(extends, str) else DEFAULT_POLICY)
    policy = Policy(name=name, description=description, base=base_name, **fields)
    if shipped is None and name in POLICY_NAMES:
        # a policy is known by its name in every report: only an exact copy may keep it
        if policy.fingerprint != _shipped(name).fingerprint:
            raise PolicyError(
                f"{origin}: a policy that differs from the shipped {name!r} needs a name of "
                f"its own (the shipped policies are {', '.join(POLICY_NAMES)})"
            )
        return _shipped(name)
    return policy


def policy_from_toml(text: str, *, origin: str = "policy") -> Policy:
    """Parse a policy from TOML text."""
    return _from_mapping(_toml(text, origin), origin=origin)


def _toml(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{origin} is not valid TOML: {error}") from None


@functools.cache
def _shipped(name: str) -> Policy:
    text = resources.files("cohortsafe.sdc").joinpath("policies", f"{name}.toml").read_text()
    return _from_mapping(_toml(text, f"{name}.toml"), origin=f"{name}.toml", shipped=name)


def load_policy(policy: str | Path | Policy | Mapping[str, Any] = DEFAULT_POLICY) -> Policy:
    """A policy by shipped name, from a TOML file, from a mapping, or as given."""
    if isinstance(policy, Policy):
        return policy
    if isinstance(policy, Mapping):
        return _from_mapping(policy, origin="policy")
    if isinstance(policy, str) and policy in POLICY_NAMES:
        return _shipped(policy)
    path = Path(policy)
    if not path.is_file():
        names = ", ".join(POLICY_NAMES)
        raise PolicyError(f"no policy named {str(policy)!r} (shipped: {names}) and no such file")
    return policy_from_toml(path.read_text(encoding="utf-8"), origin=path.name)
