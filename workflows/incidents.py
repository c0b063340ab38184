"""Incidents: a step that a department refused for good waits for a supervisor (API.md, "Incidents").

Every activity failure of the main path that is not retried ends in one of two places:
- a refusal of the application itself (`errors.BUSINESS_REFUSALS`, e.g. an unknown vehicle or a blocking
  flag) closes it rejected, and the saga compensates;
- anything else (a department's 4xx, `DEPARTMENT_REJECTED_REQUEST`; an error type nobody knows; a call
  still failing when `Timing.give_up_after_s` has passed) opens an incident at that step. The status stays,
  the statutory clocks keep running, and a supervisor's `resolve_incident` retries the step or closes
  the application rejected with full compensation (not once the permit is issued: then only a retry).

Notifications never stop the process on a refusal: the gateway's 4xx for an SMS is recorded in the
timeline (`sms_refused`) and the process goes on; texts too long for the gateway are split beforehand
(texts.sms_parts). A notification incident arises only when the gateway cannot take a main-path SMS
until `give_up_after_s` (down for hours): the applicant must be told of an acceptance, a supplement
request or a handover, so a supervisor retries once the gateway is back, or skips it when the applicant
was told otherwise (by phone, at the window). The statutory clocks' reminders and the closing SMS are
never incidents: a failure is recorded and the next one still goes out.

An undo of the saga (the usage-nature reversal, the return of the originals) that a department refuses
for good opens an incident on the closed application: only a retry resolves it, and the next undos
follow; there is nothing to skip or close. The termination notice and the closing SMS are recorded
and go on.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, RetryState
from temporalio.exceptions import TimeoutError as ActivityTimeout

from domain import errors
from domain.statuses import TERMINAL, Actor, IncidentAction, Status
from workflows import texts
from workflows.saga import Closed
from workflows.state import note
from workflows.types import ApplicationState, IncidentResolution

T = TypeVar("T")

# The department behind each activity; the store's own activities are "store".
DEPARTMENTS = {
    "verify_ownership": "vehicle_admin",
    "request_usage_change": "vehicle_admin",
    "get_usage_change": "vehicle_admin",
    "fetch_invoice": "tax",
    "fetch_purchase_tax": "tax",
    "fetch_inspection_report": "inspection",
    "fetch_nev_range": "miit",
    "find_policy": "insurance",
    "create_shipment": "courier",
    "get_shipment": "courier",
    "send_sms": "sms",
}
STORE = "store"
NOTIFICATIONS = frozenset({"send_sms"})
# The refusals of the application itself; a department refusing the request (its 4xx) is an incident.
CLOSING_REFUSALS = errors.BUSINESS_REFUSALS - {errors.DEPARTMENT_REJECTED_REQUEST}
ANSWER_MAX_CHARS = 300
_DIGITS = re.compile(r"\d{6,}")  # an id number or a phone a department might echo

Wait = Callable[[Callable[[], bool]], Awaitable[bool]]


def refusal_type(err: ActivityError) -> str | None:
    """The error type when the department refused the application itself, else None."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type in CLOSING_REFUSALS:
        return cause.type
    return None


def is_refused_request(err: ActivityError) -> bool:
    cause = err.cause
    return isinstance(cause, ApplicationError) and cause.type == errors.DEPARTMENT_REJECTED_REQUEST


def answer(err: ActivityError) -> str:
    """The department's answer as an operator may read it: error type and message, digits masked."""
    cause, prefix = err.cause, ""
    if err.retry_state == RetryState.TIMEOUT or isinstance(cause, ActivityTimeout):
        prefix = "gave up retrying; last: "
    if isinstance(cause, ActivityTimeout):
        cause = cause.cause or cause
    if isinstance(cause, ApplicationError):
        text = f"{cause.type or 'ApplicationError'}: {cause.message}"
    else:
        text = f"{type(cause).__name__}: {cause}" if cause else str(err)
    return _DIGITS.sub("***", prefix + text)[:ANSWER_MAX_CHARS]


class Incidents:
    """Runs the main path's calls; one that fails for good opens an incident and waits for its resolution."""

    def __init__(
        self,
        state: ApplicationState,
        wait: Wait,
        changed: Callable[[], Awaitable[None]],
    ) -> None:
        self._state = state
        self._wait = wait  # the workflow's wait: a withdrawal (or the insurance deadline) ends it
        self._changed = changed  # the incident opened or was resolved: answer waiting updates, project
        self.resolution: IncidentResolution | None = None
        self.settled: set[str] = set()  # incidents whose resolution has taken effect

    async def guard(self, action: Callable[[], Awaitable[T]]) -> T:
        """`action`'s result; a refusal of the application closes it, any other failure is an incident."""
        while True:
            try:
                return await action()
            except ActivityError as err:
                refused = refusal_type(err)
                if refused is not None:
                    reason = errors.REFUSAL_REASONS.get(refused, refused)
                    raise Closed(Status.REJECTED, reason, Actor.SYSTEM) from err
                await self._incident(err)  # retry, or Closed

    async def notify(self, action: Callable[[], Awaitable[None]]) -> None:
        """A notification: refused, it is recorded and the process goes on; undeliverable, an incident."""
        while True:
            try:
                await action()
                return
            except ActivityError as err:
                if is_refused_request(err) or refusal_type(err) is not None:
                    self._note("sms_refused", Actor.SYSTEM, answer=answer(err))
                    return
                if await self._incident(err) == IncidentAction.SKIP:
                    return

    async def undo(self, action: Callable[[], Awaitable[None]]) -> None:
        """An undo on the closed application: refused for good, an incident that only a retry resolves
        (an SMS the gateway refuses is recorded, as on the main path)."""
        while True:
            try:
                await action()
                return
            except ActivityError as err:
                if err.activity_type in NOTIFICATIONS and (is_refused_request(err) or refusal_type(err) is not None):
                    self._note("sms_refused", Actor.SYSTEM, answer=answer(err))
                    return
                await self._incident(err)

    async def _incident(self, err: ActivityError) -> IncidentAction:
        step = err.activity_type or "unknown"
        incident = {
            "incident_id": str(workflow.uuid4()),
            "step": step,
            "department": DEPARTMENTS.get(step, STORE),
            "answer": answer(err),
            "opened_at": workflow.now().isoformat(),
        }
        self._state.incident = incident
        workflow.logger.warning("incident at %s (%s)", step, incident["department"])
        self._note("incident_opened", Actor.SYSTEM, incident_id=incident["incident_id"], step=step)
        await self._changed()
        try:
            await self._wait(lambda: self.resolution is not None)
        except Closed:
            self._state.incident = None
            if self.resolution is not None:  # taken with the withdrawal: its update is answered
                self.settled.add(self.resolution.incident_id)
                self.resolution = None
            raise
        resolution, self.resolution = self.resolution, None
        assert resolution is not None
        action = IncidentAction(resolution.action)
        self._state.incident = None
        self._note(
            "incident_resolved",
            Actor.SUPERVISOR,
            incident_id=incident["incident_id"],
            action=action.value,
            reason=resolution.reason,
        )
        self.settled.add(resolution.incident_id)
        if action == IncidentAction.CLOSE:
            raise Closed(Status.REJECTED, resolution.reason or texts.REASON_INCIDENT_CLOSED, Actor.SUPERVISOR)
        await self._changed()
        return action

    def refusal(self, resolution: IncidentResolution) -> ApplicationError | None:
        """Why `resolution` cannot be taken now (the update's validator), or None."""
        incident = self._state.incident
        if incident is None or incident["incident_id"] != resolution.incident_id or self.resolution is not None:
            return ApplicationError(f"no open incident {resolution.incident_id}", type=errors.INCIDENT_NOT_OPEN)
        if resolution.action not in set(IncidentAction):
            return ApplicationError(f"{resolution.action} is not a resolution", type=errors.RESOLUTION_NOT_POSSIBLE)
        if resolution.action != IncidentAction.RETRY and self._state.status in TERMINAL:
            return ApplicationError(
                "the application is closed: the undo can only be retried", type=errors.RESOLUTION_NOT_POSSIBLE
            )
        if resolution.action == IncidentAction.CLOSE and self._state.permit is not None:
            return ApplicationError(
                "the permit has been issued: the step can only be retried", type=errors.RESOLUTION_NOT_POSSIBLE
            )
        if resolution.action == IncidentAction.SKIP and incident["step"] not in NOTIFICATIONS:
            return ApplicationError(
                f"{incident['step']} is not a notification: it cannot be skipped",
                type=errors.RESOLUTION_NOT_POSSIBLE,
            )
        return None

    def _note(self, event: str, actor: str, **details: object) -> None:
        note(self._state, workflow.now(), event, actor, **details)
