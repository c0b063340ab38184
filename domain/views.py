"""The application view as the API shows it: personal data masked, always."""

from __future__ import annotations

import copy
from typing import Any

from domain.masking import mask_id_number, mask_name, mask_phone, mask_plate, mask_vin


def mask_view(view: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `view` with names, ID numbers, phones, plates and VINs masked."""
    masked = copy.deepcopy(view)
    vehicle = masked.get("vehicle") or {}
    if "plate" in vehicle:
        vehicle["plate"] = mask_plate(vehicle["plate"])
    if "vin" in vehicle:
        vehicle["vin"] = mask_vin(vehicle["vin"])
    applicant = masked.get("applicant") or {}
    for key, mask in (("name", mask_name), ("id_number", mask_id_number), ("phone", mask_phone)):
        if key in applicant:
            applicant[key] = mask(applicant[key])
    return masked
