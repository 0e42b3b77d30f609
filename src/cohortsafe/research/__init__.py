"""The secure research environment's core: projects' extracts and locked workspaces.

- :class:`ProjectSpec`: the vault tables, columns and school years a project may see;
- :func:`build_extract`: the project's extract, under pseudonyms of its own;
- :class:`Workspace`: the extract opened for a researcher, read-only queries only, and
  a disclosure-control session bound to the project;
- :class:`OutputSpec` and :func:`compute_output`: outputs as specifications the office
  computes again, never as values the researcher's side computed;
- :data:`TRANSITIONS`: the states of an output request and who may move it;
- :func:`risk_report`: how unique the extract's pupils are on their quasi-identifiers;
- :func:`gate_free_file`: what keeps a free file (a plot, a note) out of a request;
- :func:`write_bundle` and :func:`verify_bundle`: the signed release bundle.

No Django and no console here: the office's services and the researcher's commands
sit on top.
"""

from cohortsafe.research._airlock import EDITABLE, FINAL, STATES, TRANSITIONS, require
from cohortsafe.research._bundle import verify_bundle, write_bundle
from cohortsafe.research._extract import ExtractSummary, build_extract
from cohortsafe.research._gate import gate_free_file
from cohortsafe.research._outputs import KINDS, ComputedOutput, OutputSpec, compute_output
from cohortsafe.research._project import DERIVED, NEVER, ProjectSpec, checked_code
from cohortsafe.research._risk import DEFAULT_K, Coarsening, RiskReport, risk_report
from cohortsafe.research._workspace import POLICY_FILE, QueryResult, Workspace

__all__ = [
    "DEFAULT_K",
    "DERIVED",
    "EDITABLE",
    "FINAL",
    "KINDS",
    "NEVER",
    "POLICY_FILE",
    "STATES",
    "TRANSITIONS",
    "Coarsening",
    "ComputedOutput",
    "ExtractSummary",
    "OutputSpec",
    "ProjectSpec",
    "QueryResult",
    "RiskReport",
    "Workspace",
    "build_extract",
    "checked_code",
    "compute_output",
    "gate_free_file",
    "require",
    "risk_report",
    "verify_bundle",
    "write_bundle",
]
