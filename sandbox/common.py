"""Request-model building blocks and deterministic numbers shared by the played departments."""

import hashlib
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from domain.statuses import USAGE_PRIVATE, USAGE_RIDE_HAILING

USAGE_NATURES = (USAGE_PRIVATE, USAGE_RIDE_HAILING)


class StrictModel(BaseModel):
    """A request body that refuses unknown fields."""

    model_config = ConfigDict(extra="forbid")


def _known_usage_nature(value: str) -> str:
    if value not in USAGE_NATURES:
        raise ValueError(f"usage nature must be one of {', '.join(USAGE_NATURES)}")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Vin = Annotated[str, StringConstraints(pattern=r"^[A-HJ-NPR-Z0-9]{17}$")]
UsageNature = Annotated[str, AfterValidator(_known_usage_nature)]


def derived_digits(vin: str, purpose: str, digits: int) -> str:
    """A number of ``digits`` digits that is always the same for this vehicle and purpose."""
    value = int.from_bytes(hashlib.sha256(f"{purpose}:{vin}".encode()).digest(), "big")
    return f"{value % 10**digits:0{digits}d}"
