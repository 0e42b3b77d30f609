"""The school's use cases; the console and the web both call these and nothing else.

- :mod:`.imports`: LVS exports into the registry and the columnar store;
- :mod:`.import_removal`: undoing one school year's import;
- :mod:`.registers`: schools, objections, studies and consents;
- :mod:`.evidence`: the letter or e-mail an objection came in, kept at the school;
- :mod:`.deliveries`: deliveries and retractions;
- :mod:`.reinstatements`: lifting a retraction after a withdrawn objection;
- :mod:`.letters`: the information letter for parents;
- :mod:`.listings`: status and delivery listings, and changes for many schools at once.
"""

from cohortsafe.app.audit.services import console_actor
from cohortsafe.app.school.services.consents import ConsentOutcome, register_consent
from cohortsafe.app.school.services.deliveries import (
    DeliveryReport,
    RetractionReport,
    deliver,
    record_download,
    retract,
)
from cohortsafe.app.school.services.evidence import Evidence, objection_evidence
from cohortsafe.app.school.services.import_removal import (
    ImportRemovalError,
    RemovedImport,
    remove_import,
)
from cohortsafe.app.school.services.imports import ImportReport, import_exports, lvs_store
from cohortsafe.app.school.services.letters import parent_letter
from cohortsafe.app.school.services.listings import (
    SchoolsUpdate,
    deliveries_made,
    letters_for_all,
    school_status,
    set_schools_from_list,
)
from cohortsafe.app.school.services.registers import (
    ObjectionStatus,
    RegisterError,
    add_study,
    consents,
    find_pupil,
    find_school,
    give_consent,
    import_objection_list,
    objection_deadline,
    objections,
    register_objection,
    set_school,
    view_pupil,
    withdraw_consent,
    withdraw_objection,
)
from cohortsafe.app.school.services.reinstatements import ReinstatementReport, reinstate

__all__ = [
    "ConsentOutcome",
    "DeliveryReport",
    "Evidence",
    "ImportRemovalError",
    "ImportReport",
    "ObjectionStatus",
    "RegisterError",
    "ReinstatementReport",
    "RemovedImport",
    "RetractionReport",
    "SchoolsUpdate",
    "add_study",
    "consents",
    "console_actor",
    "deliver",
    "deliveries_made",
    "find_pupil",
    "find_school",
    "give_consent",
    "import_exports",
    "import_objection_list",
    "letters_for_all",
    "lvs_store",
    "objection_deadline",
    "objection_evidence",
    "objections",
    "parent_letter",
    "record_download",
    "register_consent",
    "register_objection",
    "reinstate",
    "remove_import",
    "retract",
    "school_status",
    "set_school",
    "set_schools_from_list",
    "view_pupil",
    "withdraw_consent",
    "withdraw_objection",
]
