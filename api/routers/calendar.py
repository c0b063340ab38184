from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from api.schemas import DeadlineOut
from domain.calendar import MAX_WORKING_DAYS, official_calendar

router = APIRouter(prefix="/v1/calendar", tags=["calendar"])


@router.get("/deadline", response_model=DeadlineOut)
async def read_deadline(
    start: date, working_days: Annotated[int, Query(ge=1, le=MAX_WORKING_DAYS)]
) -> DeadlineOut:
    """The last working day of a period that starts the day after `start`."""
    deadline = official_calendar().add_working_days(start, working_days)
    return DeadlineOut(start=start, working_days=working_days, due_on=deadline.due_on, provisional=deadline.provisional)
