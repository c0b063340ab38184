"""Saving a calendar year: created once, the same schedule again unchanged, another schedule
replaced only when asked for (and then the schedule it overwrote is returned)."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from domain.calendar import YearSchedule
from store import Store
from store.calendar import YearAlreadyLoaded


def schedule(year: int, *holidays: str) -> YearSchedule:
    return YearSchedule(year, frozenset(date.fromisoformat(d) for d in holidays))


async def save(store: Store, year: YearSchedule, *, replace: bool = False) -> str:
    return (await store.calendar.save_year(year, loaded_by="sup-city", source="test", replace=replace)).outcome


async def test_another_schedule_replaces_a_loaded_year_only_when_asked(store: Store) -> None:
    first, revised = schedule(2150, "2150-01-01"), schedule(2150, "2150-01-01", "2150-01-02")
    assert await save(store, first) == "created"
    assert await save(store, first) == "unchanged"
    with pytest.raises(YearAlreadyLoaded) as refused:
        await save(store, revised)
    assert refused.value.loaded == first
    assert (await store.calendar.load()).is_working_day(date(2150, 1, 2))
    saved = await store.calendar.save_year(revised, loaded_by="sup-city", source="revision", replace=True)
    assert (saved.outcome, saved.previous) == ("replaced", first)
    assert not (await store.calendar.load()).is_working_day(date(2150, 1, 2))
    assert await save(store, revised, replace=True) == "unchanged"


async def test_two_loads_of_a_new_year_at_once_create_it_once(store: Store) -> None:
    year = schedule(2151, "2151-01-02")
    outcomes = await asyncio.gather(*(save(store, year) for _ in range(4)))
    assert sorted(outcomes) == ["created", "unchanged", "unchanged", "unchanged"]
