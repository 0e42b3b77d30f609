"""The secure research environment's core: projects' extracts and locked workspaces.

- :class:`ProjectSpec`: the vault tables, columns and school years a project may see;
- :func:`build_extract`: the project's extract, under pseudonyms of its own;
- :class:`Workspace`: the extract opened for a researcher, read-only queries only, and
  a disclosure-control session bound to the project.

No Django and no console here: the office's services and the researcher's commands
sit on top.
"""

from cohortsafe.research._extract import ExtractSummary, build_extract
from cohortsafe.research._project import DERIVED, NEVER, ProjectSpec
from cohortsafe.research._workspace import QueryResult, Workspace

__all__ = [
    "DERIVED",
    "NEVER",
    "ExtractSummary",
    "ProjectSpec",
    "QueryResult",
    "Workspace",
    "build_extract",
]
