"""The disclosure rules, one module each, in the order a policy file lists them.

Cell rules (:data:`CELL_RULES`) flag cells of a table from its :class:`CellStats`;
the other sections govern other outputs (percentiles, regressions, extremes), the
comparison with earlier outputs, display (percent clipping, withholding) and the
secondary suppression. Every class is a frozen dataclass of documented parameters.

>>> sorted(RULES)[:3]
['differencing', 'extremes', 'min_pupils']
"""

from __future__ import annotations

from typing import Any

from cohortsafe.sdc.rules._base import ACTIONS, Action, Finding, parameter_help, parameter_spec
from cohortsafe.sdc.rules.differencing import Differencing
from cohortsafe.sdc.rules.extremes import Extremes
from cohortsafe.sdc.rules.min_pupils import MinPupils
from cohortsafe.sdc.rules.min_schools import MinSchools
from cohortsafe.sdc.rules.nk_dominance import NkDominance, Unit
from cohortsafe.sdc.rules.p_percent import PPercent
from cohortsafe.sdc.rules.percent_clip import PercentClip
from cohortsafe.sdc.rules.percentiles import Percentiles
from cohortsafe.sdc.rules.residual_df import ResidualDf
from cohortsafe.sdc.rules.school_dominance import SchoolDominance
from cohortsafe.sdc.rules.secondary_suppression import Cost, SecondarySuppression
from cohortsafe.sdc.rules.single_value import SingleValue
from cohortsafe.sdc.rules.withhold import Withhold
from cohortsafe.sdc.rules.zero_cells import ZeroCells

__all__ = [
    "ACTIONS",
    "CELL_RULES",
    "RULES",
    "Action",
    "Cost",
    "Differencing",
    "Extremes",
    "Finding",
    "MinPupils",
    "MinSchools",
    "NkDominance",
    "PPercent",
    "PercentClip",
    "Percentiles",
    "ResidualDf",
    "SchoolDominance",
    "SecondarySuppression",
    "SingleValue",
    "Unit",
    "Withhold",
    "ZeroCells",
    "parameter_help",
    "parameter_spec",
]

CELL_RULES: tuple[type[Any], ...] = (
    MinPupils,
    MinSchools,
    SchoolDominance,
    NkDominance,
    PPercent,
    ZeroCells,
    SingleValue,
)

_ALL_RULES: tuple[type[Any], ...] = (
    *CELL_RULES,
    Extremes,
    Percentiles,
    ResidualDf,
    Differencing,
    PercentClip,
    Withhold,
    SecondarySuppression,
)
RULES: dict[str, type[Any]] = {rule.name: rule for rule in _ALL_RULES}
