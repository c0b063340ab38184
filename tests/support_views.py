"""Application views as the workflow projects them (masked), for tests that need a realistic one."""

from __future__ import annotations

import copy
from typing import Any

SUBMITTED_VIEW: dict[str, Any] = {
    "application_id": "5f0c7a36-54a4-4bb2-9d0e-0f4c1c9a2c11",
    "status": "submitted",
    "step": None,
    "district": "330382",
    "channel": "online",
    "submitted_at": "2026-09-24T01:02:03.456789+00:00",
    "accepted_on": None,
    "vehicle": {"plate": "浙C1***5", "vin": "LSVA*********3294"},
    "applicant": {"name": "张*", "id_number": "3303**********1234", "phone": "138****8000"},
    "delivery": {"method": "mail", "tracking_number": None},
    "materials": [
        {"kind": "driving_license", "material_id": "m-2"},
        {"kind": "registration_certificate", "material_id": "m-1"},
    ],
    "deadlines": {},
    "findings": [],
    "pending": [{"action": "collect_shared_data", "actor": "system"}],
    "documents": [],
    "timeline": [{"at": "2026-09-24T01:02:03.456789+00:00", "event": "submitted", "actor": "applicant"}],
    "permit": None,
}


def view_of(application_id: str, **changes: Any) -> dict[str, Any]:
    """A whole view of `application_id` (as just submitted), with `changes` to its top-level keys."""
    return {**copy.deepcopy(SUBMITTED_VIEW), "application_id": application_id, **changes}
