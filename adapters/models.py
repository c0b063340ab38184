"""What the e-ID service answers. The departments' records cross the workflow's data converter and
live with its types, in workflows/types.py."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    name: str
    id_number: str
    phone: str
