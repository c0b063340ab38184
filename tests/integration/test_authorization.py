"""Every route × every role × own / someone else's object, generated from the app's routes.

A new route without a row in ACCESS fails `test_every_route_has_a_rule`.
"""

from __future__ import annotations

import pytest

from drills.people import new_citizen, new_vehicle
from tests.support_stack import PNG, Stack, submit

pytestmark = pytest.mark.timeout(180)

APPLICANT, CLERK, SUPERVISOR, OPERATOR = "applicant", "transport_clerk", "supervisor", "operator"
ROLES = (APPLICANT, CLERK, SUPERVISOR, OPERATOR)

# (method, path) -> roles that may call it; None: no token needed (public or signed otherwise).
ACCESS: dict[tuple[str, str], frozenset[str] | None] = {
    ("POST", "/v1/auth/eid"): None,
    ("POST", "/v1/dev/token"): None,
    ("POST", "/v1/dev/identity"): None,
    ("POST", "/v1/materials"): frozenset({APPLICANT}),
    ("POST", "/v1/applications"): frozenset({APPLICANT}),
    ("GET", "/v1/applications"): frozenset(ROLES),
    ("GET", "/v1/applications/{application_id}"): frozenset(ROLES),
    ("POST", "/v1/applications/{application_id}/withdraw"): frozenset({APPLICANT}),
    ("POST", "/v1/applications/{application_id}/supplements"): frozenset({APPLICANT}),
    ("POST", "/v1/applications/{application_id}/originals-shipment"): frozenset({APPLICANT}),
    ("POST", "/v1/applications/{application_id}/insurance-check"): frozenset({APPLICANT}),
    ("POST", "/v1/applications/{application_id}/decisions"): frozenset({CLERK}),
    ("POST", "/v1/applications/{application_id}/reveal"): frozenset({CLERK, SUPERVISOR}),
    ("POST", "/v1/applications/{application_id}/incidents/{incident_id}/resolution"): frozenset({SUPERVISOR}),
    ("GET", "/v1/incidents"): frozenset({SUPERVISOR}),
    ("POST", "/v1/applications/{application_id}/rating"): frozenset({APPLICANT}),
    ("GET", "/v1/applications/{application_id}/rating"): frozenset(ROLES),
    ("POST", "/v1/applications/{application_id}/rating/addendum"): frozenset({APPLICANT}),
    ("POST", "/v1/ratings/{rating_id}/follow-up"): frozenset({SUPERVISOR}),
    ("GET", "/v1/rating-indicators"): frozenset(ROLES),
    ("GET", "/v1/ratings/summary"): frozenset({SUPERVISOR}),
    ("GET", "/v1/permits"): frozenset({CLERK, SUPERVISOR}),
    ("GET", "/v1/permits/{number}"): frozenset({APPLICANT, CLERK, SUPERVISOR}),
    ("GET", "/v1/documents/{document_id}"): frozenset(ROLES),
    ("GET", "/v1/documents/{document_id}/verify"): None,  # whoever holds the paper; personal data only masked
    ("GET", "/v1/calendar/deadline"): None,
    ("PUT", "/v1/calendar/years/{year}"): frozenset({SUPERVISOR}),
    ("POST", "/v1/callbacks/{source}"): None,
    ("POST", "/codec/encode"): frozenset({SUPERVISOR, OPERATOR}),
    ("POST", "/codec/decode"): frozenset({SUPERVISOR, OPERATOR}),
    ("GET", "/healthz"): None,
    ("GET", "/readyz"): None,
    ("GET", "/metrics"): None,
}
# Supervisors of the whole city only: the "own" supervisor below is the city's (330300), admitted;
# the "other" one a district's (330302), refused.
CITY_SUPERVISOR_ROUTES = {("POST", "/codec/encode"), ("POST", "/codec/decode"), ("PUT", "/v1/calendar/years/{year}")}
OBJECT_ROUTES = {path for _, path in ACCESS if "{application_id}" in path or "{document_id}" in path}
# Routes whose object the world below does not hold (a rating of an application still open): 404 to
# whoever may use them, 403 to anyone else.
UNKNOWN_OBJECT_ROUTES = {"/v1/ratings/{rating_id}/follow-up", "/v1/permits/{number}"}


async def routes(stack: Stack) -> set[tuple[str, str]]:
    spec = (await stack.api.get("/openapi.json")).json()
    return {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}


async def test_every_route_has_a_rule(stack: Stack) -> None:
    assert await routes(stack) == set(ACCESS)


@pytest.fixture(scope="module")
async def world(stack: Stack) -> dict:
    """An application of an applicant in 乐清 (330382), and tokens for every role and relation."""
    owner = new_citizen()
    vehicle = await stack.sandbox.add_vehicle(**new_vehicle(owner))
    mine = await stack.applicant(**owner)
    created, _ = await submit(stack, mine, vehicle)
    view = created.json()
    clerk = await stack.clerk()
    await stack.wait_for(view["application_id"], clerk, "preliminary_review")
    decided = await stack.api.post(
        f"/v1/applications/{view['application_id']}/decisions",
        headers=clerk,
        json={"step": "preliminary_review", "outcome": "approve"},
    )
    assert decided.status_code == 200, decided.text
    accepted = await stack.wait_for(view["application_id"], clerk, "awaiting_originals", with_documents=True)
    return {
        "application_id": view["application_id"],
        "document_id": accepted["documents"][0]["document_id"],
        "own": {
            APPLICANT: mine,
            CLERK: clerk,
            SUPERVISOR: await stack.clerk("330300", role=SUPERVISOR),
            OPERATOR: await stack.clerk("330382", role=OPERATOR),
        },
        "other": {
            APPLICANT: await stack.applicant(**new_citizen()),
            CLERK: await stack.clerk("330302"),
            SUPERVISOR: await stack.clerk("330302", role=SUPERVISOR),
            OPERATOR: await stack.clerk("330302", role=OPERATOR),
        },
    }


def request_for(method: str, path: str, world: dict) -> dict:
    url = path.replace("{application_id}", world["application_id"]).replace("{document_id}", world["document_id"])
    url = url.replace("{year}", "2040").replace("{source}", "courier").replace("{incident_id}", "no-such-incident")
    url = url.replace("{rating_id}", "00000000-0000-0000-0000-000000000000")
    url = url.replace("{number}", "3303002026999999")  # no permit of that number
    kwargs: dict = {"method": method, "url": url}
    if path == "/v1/materials":
        kwargs.update(data={"kind": "driving_license"}, files={"file": ("scan.png", PNG, "image/png")})
    elif method in ("POST", "PUT"):
        kwargs["json"] = BODIES.get(path, {})
    return kwargs


BODIES = {
    "/v1/applications/{application_id}/supplements": {"materials": {"driving_license": "m-unknown"}},
    "/v1/applications/{application_id}/originals-shipment": {"tracking_number": "SF123456"},
    "/v1/applications/{application_id}/decisions": {"step": "final_review", "outcome": "approve"},
    "/v1/calendar/years/{year}": {"holidays": [], "makeup_workdays": []},
    "/v1/applications/{application_id}/reveal": {"field": "phone", "reason": "回访核实联系方式"},
    "/v1/applications/{application_id}/incidents/{incident_id}/resolution": {"action": "retry", "reason": "部门已恢复"},
    "/v1/applications/{application_id}/rating": {"level": 5},
    "/v1/applications/{application_id}/rating/addendum": {"level": 5},
    "/v1/ratings/{rating_id}/follow-up": {"step": "callback", "note": "已回访"},
    "/codec/encode": {"payloads": []},
    "/codec/decode": {"payloads": []},
}


PROTECTED = sorted(key for key, roles in ACCESS.items() if roles is not None)


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("relation", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
async def test_route_role_object(stack: Stack, world: dict, method: str, path: str, relation: str, role: str) -> None:
    allowed = ACCESS[(method, path)]
    assert allowed is not None
    response = await stack.api.request(**request_for(method, path, world), headers=world[relation][role])
    district_supervisor = role == SUPERVISOR and relation == "other" and (method, path) in CITY_SUPERVISOR_ROUTES
    if role not in allowed or district_supervisor:
        assert response.status_code == 403, response.text
    elif path in UNKNOWN_OBJECT_ROUTES:
        assert response.status_code == 404, response.text
    elif relation == "other" and path in OBJECT_ROUTES:
        assert response.status_code == 404, response.text  # its existence is not revealed
    else:
        assert response.status_code not in (401, 403, 404), response.text


@pytest.mark.parametrize(("method", "path"), [key for key in PROTECTED if not key[1].startswith("/codec")])
async def test_no_token_is_401(stack: Stack, world: dict, method: str, path: str) -> None:
    response = await stack.api.request(**request_for(method, path, world))
    assert response.status_code == 401
