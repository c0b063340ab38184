"""The bench's arithmetic and the bare baseline's shape."""

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.validators import validate_plate, validate_vin
from drills import scale
from drills.bare import share
from drills.measure import percentile
from drills.people import new_citizen, new_vehicle, unique_plate


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50.0, 95.0, 99.0)
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0, 3.0], 99) == 3.0


@given(total=st.integers(0, 500), phases=st.integers(1, 20))
def test_the_bare_workflow_spreads_every_activity_over_its_phases(total: int, phases: int) -> None:
    parts = [share(total, phase, phases) for phase in range(phases)]
    assert sum(parts) == total
    assert max(parts) - min(parts) <= 1


def test_synthetic_plates_and_vins_are_valid_and_never_repeat() -> None:
    plates = [unique_plate() for _ in range(5000)]
    assert len(set(plates)) == len(plates)
    assert all(validate_plate(plate) == plate for plate in plates[:200])
    vins = [new_vehicle(new_citizen())["vin"] for _ in range(30000)]  # a scale run's worth: no two alike
    assert len(set(vins)) == len(vins)
    assert all(validate_vin(vin) == vin for vin in vins[:200])


def clerk_api(*answers: tuple[int, str]) -> tuple[httpx.AsyncClient, list[int]]:
    """An API that answers the clerk bot's decisions in turn; the list counts the calls."""
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status, error = answers[len(calls)]
        calls.append(status)
        return httpx.Response(status, json={"error": error} if error else {"status": "vehicle_nature_change"})

    return httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://api"), calls


async def test_the_scale_bot_takes_still_processing_as_taken_and_tries_other_503s_again() -> None:
    api, calls = clerk_api((503, "still_processing"))
    await scale.approve(api, {}, "a", pause_s=0)
    assert calls == [503]
    api, calls = clerk_api((503, "temporal_unavailable"), (409, "not_awaiting_this_step"))
    await scale.approve(api, {}, "a", pause_s=0)  # the first try was taken after all
    assert calls == [503, 409]
    api, calls = clerk_api((409, "not_awaiting_this_step"))
    with pytest.raises(RuntimeError, match="answered 409"):
        await scale.approve(api, {}, "a", pause_s=0)
    api, calls = clerk_api(*[(503, "temporal_unavailable")] * 3)
    with pytest.raises(RuntimeError, match="503 3 times"):
        await scale.approve(api, {}, "a", tries=3, pause_s=0)
