"""Why an update is refused: the validators' rules, as pure functions over the state.

Each raises the ApplicationError the API maps to its 409 (domain/errors.py); a validator's refusal
never reaches the history.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from domain import errors
from domain.statuses import STEP_OUTCOMES, TERMINAL, Status, Step
from workflows.types import ApplicationState, Decision


def if_closed(state: ApplicationState, closing: bool) -> None:
    """Closed, or being closed (a withdrawal taken, not yet acted on)."""
    if state.status in TERMINAL or closing:
        raise ApplicationError(f"the application is {state.status.value}", type=errors.ALREADY_CLOSED)


def unless(state: ApplicationState, closing: bool, status: Status, ok: bool) -> None:
    if_closed(state, closing)
    if state.status != status or not ok:
        raise ApplicationError(f"the application is not in {status.value}", type=errors.NOT_AWAITING_THIS_STEP)


def decision(state: ApplicationState, closing: bool, decision: Decision, undecided: bool) -> None:
    """A clerk's decision: at the step the application awaits, one at a time, with an outcome of that step."""
    if_closed(state, closing)
    if state.step is None or state.step != decision.step or not undecided:
        raise ApplicationError(f"the application is not awaiting {decision.step}", type=errors.NOT_AWAITING_THIS_STEP)
    if decision.outcome not in STEP_OUTCOMES[Step(decision.step)]:
        raise ApplicationError(f"{decision.outcome} is not possible at {decision.step}", type=errors.INVALID_OUTCOME)


def withdrawal(state: ApplicationState, closing: bool) -> None:
    """No withdrawal once the licensing is decided or the permit issued."""
    if_closed(state, closing)
    if state.licensing_decided or state.permit is not None or state.status in (Status.DELIVERING, Status.COMPLETED):
        raise ApplicationError("the permit has been issued; it can no longer be withdrawn", type=errors.CANNOT_WITHDRAW)
