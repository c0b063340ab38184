"""The app's forms checked by the API's own schemas: each problem named by the form's field, in
Chinese; scans checked for size and type before anything is kept."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import UploadFile
from pydantic import ValidationError

from api.applicant import labels
from api.services.materials import sniff

# A location in the API's request body, as the form names the field.
FIELD_OF_LOC = {
    ("vehicle", "plate"): "plate",
    ("vehicle", "vin"): "vin",
    ("district",): "district",
    ("channel",): "channel",
    ("delivery", "method"): "delivery_method",
    ("delivery", "recipient"): "recipient",
    ("delivery", "phone"): "phone",
    ("delivery", "address"): "address",
    ("insurance_commitment",): "insurance_commitment",
    ("tracking_number",): "tracking_number",
    ("reason",): "reason",
}


def problems_of(err: ValidationError, form: dict[str, str]) -> dict[str, str]:
    """The first problem of each field of the form. A mail delivery missing a part of its address
    (the schema's rule over the whole delivery) is told at each part that is missing."""
    problems: dict[str, str] = {}
    for error in err.errors():
        loc = tuple(str(part) for part in error["loc"] if not str(part).startswith("function-"))
        if loc in (("delivery",), ()):
            missing = [field for field in ("recipient", "phone", "address") if not form.get(field)]
            fields = missing if loc == ("delivery",) else ["insurance_commitment"]
        else:
            fields = [FIELD_OF_LOC.get(loc[:2], FIELD_OF_LOC.get(loc[:1], "form"))]
        for field in fields:
            problems.setdefault(field, labels.PROBLEMS.get(field, "内容无效"))
    return problems


@dataclass
class Scan:
    content: bytes
    content_type: str


async def read_scan(upload: UploadFile | None, max_bytes: int) -> Scan | str | None:
    """A chosen scan, or what is wrong with it (too large, empty, not a PDF, JPEG or PNG); None when
    no file was chosen."""
    if upload is None or not upload.filename:
        return None
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        return labels.FILE_TOO_LARGE.format(limit=max_bytes // (1024 * 1024))
    if not content:
        return labels.FILE_EMPTY
    content_type = sniff(content)
    if content_type is None:
        return labels.FILE_TYPE
    return Scan(content, content_type)
