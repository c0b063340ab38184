"""Activities of the follow-up of a bad rating: its working-day deadlines, its audit records, its
projection, and voiding the rating when a city supervisor upholds the district's appeal.

The deadlines are counted on the same calendar as the permit workflow's (store/calendar.py);
voiding goes through the rating store's `void(rating_id, by, reason)`, handed in by the worker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, Protocol

from temporalio import activity

from domain.calendar import WorkingDayCalendar
from workflows.rating_types import (
    FollowUpAudit,
    FollowUpDeadlines,
    FollowUpDeadlinesQuery,
    FollowUpProjection,
    VoidRequest,
)

CalendarSource = Callable[[], Awaitable[WorkingDayCalendar]]
VoidRating = Callable[[str, str, str], Awaitable[Any]]  # Ratings.void(rating_id, by, reason)


class FollowUpStore(Protocol):
    """What the activities need of the store: its follow-ups and its audit trail."""

    @property
    def follow_ups(self) -> Any: ...

    @property
    def audit(self) -> Any: ...


class RatingActivities:
    def __init__(self, store: FollowUpStore, calendar: CalendarSource, void_rating: VoidRating) -> None:
        self._store = store
        self._calendar = calendar
        self._void_rating = void_rating

    @activity.defn
    async def compute_follow_up_deadlines(self, query: FollowUpDeadlinesQuery) -> FollowUpDeadlines:
        """回访 and 整改 due days after the day of the rating, and the days their warnings turn yellow."""
        calendar = await self._calendar()
        rated_on = date.fromisoformat(query.rated_on)
        callback = calendar.add_working_days(rated_on, query.callback_working_days)
        rectification = calendar.add_working_days(rated_on, query.rectification_working_days)

        def warning_from(due: date) -> str:
            return max(rated_on, calendar.working_day_before(due, query.warning_working_days)).isoformat()

        return FollowUpDeadlines(
            callback_due_on=callback.due_on.isoformat(),
            callback_warning_from=warning_from(callback.due_on),
            rectification_due_on=rectification.due_on.isoformat(),
            rectification_warning_from=warning_from(rectification.due_on),
            provisional=callback.provisional or rectification.provisional,
        )

    @activity.defn
    async def audit_follow_up(self, entry: FollowUpAudit) -> None:
        await self._store.audit.record(
            actor=entry.actor,
            role=entry.role,
            district=entry.district,
            action=entry.action,
            target=entry.rating_id,
            outcome=entry.outcome,
            detail=entry.detail,
        )

    @activity.defn
    async def project_follow_up(self, projection: FollowUpProjection) -> None:
        """Write the view to the `rating_follow_ups` table (newer versions win)."""
        await self._store.follow_ups.project(projection.version, projection.view)

    @activity.defn
    async def void_rating(self, request: VoidRequest) -> None:
        """Take the rating out of the statistics (idempotent in the rating store)."""
        await self._void_rating(request.rating_id, request.by, request.reason)

    def all(self) -> list[Any]:
        return [self.compute_follow_up_deadlines, self.audit_follow_up, self.project_follow_up, self.void_rating]
