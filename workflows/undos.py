"""What closing without a permit undoes (the saga's steps, saga.py): the usage nature changed back
to private, and the originals returned to the applicant (or handed back at the window).

Each undo has a name, the step it undoes: a run that continues as new registers its undos again by
name (rollover.py)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from temporalio import workflow

from domain.statuses import USAGE_PRIVATE, Actor
from workflows import calls, texts
from workflows.state import note
from workflows.types import ApplicationState, UsageChangeReport

ORIGINALS_RETURN = "originals_return"
USAGE_NATURE_REVERSAL = "usage_nature_reversal"


def by_step(
    state: ApplicationState, reports: dict[str, UsageChangeReport]
) -> dict[str, tuple[Actor, Callable[[], Awaitable[None]]]]:
    """Each undo by the step it undoes: who answers for it, and what it does."""
    return {
        ORIGINALS_RETURN: (Actor.SYSTEM, functools.partial(return_originals, state)),
        USAGE_NATURE_REVERSAL: (Actor.VEHICLE_ADMIN, functools.partial(revert_usage_nature, state, reports)),
    }


async def revert_usage_nature(state: ApplicationState, reports: dict[str, UsageChangeReport]) -> None:
    job = await calls.request_usage_change(state.input, USAGE_PRIVATE, "usage-reversal")
    await calls.usage_change_done(job, reports, state.input.timing)
    note(state, workflow.now(), "usage_nature_reverted", Actor.VEHICLE_ADMIN, target_nature=USAGE_PRIVATE)


async def return_originals(state: ApplicationState) -> None:
    input = state.input
    if not input.delivery.address:
        await calls.send_sms(input, "originals-pickup", texts.sms(texts.Sms.ORIGINALS_PICKUP))
        note(state, workflow.now(), "originals_ready_for_pickup", Actor.SYSTEM)
        return
    shipment = await calls.ship(input, "return-originals", texts.CONTENTS_ORIGINALS_RETURNED)
    note(state, workflow.now(), "originals_returned", Actor.COURIER, tracking_number=shipment.tracking_number)
