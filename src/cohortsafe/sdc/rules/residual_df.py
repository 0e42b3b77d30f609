"""residual_df: a regression is released only with enough residual degrees of freedom.

Guideline: the *Guidelines for Output Checking* (Bond, Brandt & de Wolf, 2015) and
ACRO's ``safe_dof_threshold``: a model with almost as many parameters as observations
is a lookup table of the data. At least ``minimum`` residual degrees of freedom (10)
are required.

>>> ResidualDf(minimum=10).refuses(9.0), ResidualDf(minimum=10).refuses(10.0)
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cohortsafe.sdc.rules._base import parameter

__all__ = ["ResidualDf"]


@dataclass(frozen=True)
class ResidualDf:
    """Refuses models with fewer than ``minimum`` residual degrees of freedom."""

    name: ClassVar[str] = "residual_df"

    minimum: int = parameter(10, "smallest residual degrees of freedom of a released model")

    def refuses(self, df_resid: float) -> bool:
        return df_resid < self.minimum

    def reason(self) -> str:
        return f"{self.name}: fewer than {self.minimum} residual degrees of freedom"
