"""The office vault: pseudonymised, linked cohort data in Parquet with a DuckDB catalog.

- :func:`validate_delivery` checks a delivery's values (the office does not trust the school);
- :func:`prepare_delivery` swaps identifiers for pseudonyms and dates for months;
- :class:`Vault` commits batches atomically, honours retractions with tombstones,
  re-keys pseudonyms and compacts files;
- :func:`scan` looks through every file for anything that looks like an identifier.
"""

from cohortsafe.vault._prepare import (
    PreparedDelivery,
    Pseudonymiser,
    prepare_deliveries,
    prepare_delivery,
)
from cohortsafe.vault._scan import ScanFinding, scan
from cohortsafe.vault._schemas import TABLES, VAULT_SCHEMAS
from cohortsafe.vault._validate import pgn_kinds, validate_deliveries, validate_delivery
from cohortsafe.vault._vault import (
    DeliveryOutcome,
    ReinstatementOutcome,
    RetractionOutcome,
    Vault,
    VaultCounts,
    fault_point,
)

__all__ = [
    "TABLES",
    "VAULT_SCHEMAS",
    "DeliveryOutcome",
    "PreparedDelivery",
    "Pseudonymiser",
    "ReinstatementOutcome",
    "RetractionOutcome",
    "ScanFinding",
    "Vault",
    "VaultCounts",
    "fault_point",
    "pgn_kinds",
    "prepare_deliveries",
    "prepare_delivery",
    "scan",
    "validate_deliveries",
    "validate_delivery",
]
