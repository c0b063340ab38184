"""Bounded histories: a run that has grown long hands its whole state to a new run (continue-as-new).

Only at a quiet point of one of the long waits, where the history grows with no one acting: the
vehicle administration's job pending for weeks (polls), and the insurance step (polls, the
applicant's checks). Quiet means no update in flight (they are drained first: their answers
would be lost), the statutory clocks between two timers, no withdrawal or incident in hand. The
next run starts from `Carried` (types.py) at the same step, with the same undos, clocks and job.

A run hands over once its history is `HEADROOM` events short of `Timing.continue_as_new_after_events`
(by default when Temporal suggests it, at a few thousand events or megabytes), or once it has answered
`Timing.continue_as_new_after_checks` insurance checks: Temporal takes 2,000 updates a run.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow

from workflows.types import Carried, Timing

HEADROOM = 50  # events: what a long wait may add between two quiet points
QUIET_WAIT = timedelta(minutes=5)  # how long a quiet point waits for the updates in flight to finish


def due(timing: Timing, checks: int) -> bool:
    """Whether this run should hand over at its next quiet point."""
    info = workflow.info()
    if checks >= timing.continue_as_new_after_checks:
        return True
    if timing.continue_as_new_after_events is None:
        return info.is_continue_as_new_suggested()
    return info.get_current_history_length() >= timing.continue_as_new_after_events - HEADROOM


class Rollover:
    def __init__(
        self,
        timing: Timing,
        checks: Callable[[], int],
        clocks_idle: Callable[[], bool],
        interrupted: Callable[[], bool],
        carried: Callable[[], Carried],
    ) -> None:
        self._timing = timing
        self._checks = checks  # insurance checks answered in this run
        self._clocks_idle = clocks_idle  # the statutory clocks between two timers
        self._interrupted = interrupted  # something the wait must act on first (a withdrawal, a check)
        self._carried = carried

    def due(self) -> bool:
        return due(self._timing, self._checks())

    async def at_quiet_point(self) -> None:
        """Continue as new when it is due and the run is quiet; else return and the wait goes on (the next
        quiet point tries again)."""
        if not self.due():
            return
        if not self._settled():
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(self._settled, timeout=QUIET_WAIT, timeout_summary="updates to finish")
        if self._interrupted() or not self._quiet():
            return
        carried = self._carried()
        info = workflow.info()
        workflow.logger.info(
            "continuing as new at %s after %d events", carried.state.status.value, info.get_current_history_length()
        )
        workflow.continue_as_new(dataclasses.replace(carried.state.input, carried=carried))

    def _quiet(self) -> bool:
        """No update in flight (their answers would be lost) and the clocks between timers."""
        return workflow.all_handlers_finished() and self._clocks_idle()

    def _settled(self) -> bool:
        return self._quiet() or self._interrupted()
