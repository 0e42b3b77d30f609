"""LVS exports: reading and checking them, and the school's columnar store of what was read."""

from cohortsafe.lvs._export import EXPORT_FILES, Export, ReadOutcome, find_exports, read_export
from cohortsafe.lvs._objections import ObjectionRow, read_objection_list
from cohortsafe.lvs._problems import Problem, ProblemGroup, group_problems
from cohortsafe.lvs._store import INSCHRIJVINGEN, LvsStore, PreparedImport

__all__ = [
    "EXPORT_FILES",
    "INSCHRIJVINGEN",
    "Export",
    "LvsStore",
    "ObjectionRow",
    "PreparedImport",
    "Problem",
    "ProblemGroup",
    "ReadOutcome",
    "find_exports",
    "group_problems",
    "read_export",
    "read_objection_list",
]
