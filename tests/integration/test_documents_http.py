"""Documents of real applications over HTTP: the PDF read back, its code checked by whoever holds it."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest

from tests.support_pdf import compact, pdf_text
from tests.support_stack import Stack, Submitted, submitted

pytestmark = pytest.mark.timeout(120)


async def decided(stack: Stack, outcome: str) -> tuple[Submitted, dict]:
    """A new application, and its view once a clerk has taken `outcome` at the preliminary review."""
    clerk = await stack.clerk()
    app = await submitted(stack, until="preliminary_review", clerk=clerk)
    response = await stack.api.post(
        f"/v1/applications/{app.application_id}/decisions",
        headers=clerk,
        json={"step": "preliminary_review", "outcome": outcome, "reason": "车辆登记信息与申请不符"},
    )
    assert response.status_code == 200, response.text
    return app, response.json()


def document_of(view: dict, kind: str) -> str:
    return next(d["document_id"] for d in view["documents"] if d["kind"] == kind)


async def issued(stack: Stack, app: Submitted, kind: str) -> str:
    """The id of the application's document of `kind`, once the workflow has issued it."""
    for _ in range(300):
        view = (await stack.api.get(f"/v1/applications/{app.application_id}", headers=app.applicant)).json()
        if any(d["kind"] == kind for d in view["documents"]):
            return document_of(view, kind)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind} was issued")


async def test_the_one_time_notice_reads_back_and_its_printed_code_verifies(stack: Stack) -> None:
    app, view = await decided(stack, "approve")  # the decision answers with the deadlines
    application_id, applicant = app.application_id, app.applicant
    document_id = await issued(stack, app, "insurance_one_time_notice")

    response = await stack.api.get(f"/v1/documents/{document_id}", headers=applicant)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content)
    due_on = view["deadlines"]["insurance"]["due_on"]
    for shown in (
        "容缺受理一次性告知书",
        f"申请编号：{application_id}",
        f"文书编号：{document_id}",
        "容缺材料承运人责任险保单",
        f"补齐期限{due_on} 24:00",
        "逾期处理逾期未投保的，申请终止",
    ):
        assert compact(shown) in text, shown

    printed = re.search(r"验证码：([0-9a-f]{64})", text)
    assert printed is not None, text
    code = printed.group(1)
    data = (
        await stack.api.get(f"/v1/documents/{document_id}", headers={**applicant, "Accept": "application/json"})
    ).json()
    assert data["verification_code"] == code
    verify = f"{str(stack.api.base_url).rstrip('/')}/v1/documents/{document_id}/verify"
    assert f"{verify}?code=" in text

    checked = await stack.api.get(verify, params={"code": code})  # no token: an inspector holding the paper
    assert checked.status_code == 200, checked.text
    assert checked.json() == {
        "valid": True,
        "document_id": document_id,
        "application_id": application_id,
        "kind": "insurance_one_time_notice",
        "issued_at": data["created_at"],
        "fields": {
            "missing": "承运人责任险保单",
            "due_on": due_on,
            "provisional": view["deadlines"]["insurance"]["provisional"],
        },
    }
    tampered = code[:10] + ("1" if code[10] == "0" else "0") + code[11:]
    refused = await stack.api.get(verify, params={"code": tampered})
    assert refused.status_code == 200
    assert refused.json() == {
        "valid": False,
        "document_id": document_id,
        "application_id": None,
        "kind": None,
        "issued_at": None,
        "fields": None,
    }


async def test_a_rejection_gives_a_termination_notice_that_verifies(stack: Stack) -> None:
    app, _ = await decided(stack, "reject")
    document_id = await issued(stack, app, "termination_notice")
    response = await stack.api.get(f"/v1/documents/{document_id}", headers=app.applicant)
    text = pdf_text(response.content)
    for shown in (
        "终止办理告知书",
        f"申请编号：{app.application_id}",
        "终止类别不予许可",
        "终止原因车辆登记信息与申请不符",
    ):
        assert compact(shown) in text, shown
    code = re.search(r"验证码：([0-9a-f]{64})", text)
    assert code is not None
    checked = await stack.api.get(f"/v1/documents/{document_id}/verify", params={"code": code.group(1)})
    assert checked.json()["valid"] is True and checked.json()["kind"] == "termination_notice"


@pytest.mark.parametrize("code", ["xyz", "g" * 64, "a" * 63, "a" * 65, None])
async def test_a_malformed_or_missing_code_is_422_naming_it(stack: Stack, code: str | None) -> None:
    params = {} if code is None else {"code": code}
    response = await stack.api.get(f"/v1/documents/{uuid.uuid4()}/verify", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_failed"
    assert [f["loc"] for f in response.json()["fields"]] == [["query", "code"]]


@pytest.mark.parametrize("document_id", [str(uuid.uuid4()), "not-a-uuid"])
async def test_an_unknown_document_is_404(stack: Stack, document_id: str) -> None:
    response = await stack.api.get(f"/v1/documents/{document_id}/verify", params={"code": "0" * 64})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_guessing_codes_from_one_address_is_throttled(stack: Stack) -> None:
    """The verification needs no sign-in, so guesses are counted per client address (here set by a
    trusted proxy's X-Forwarded-For), unknown documents included; another address is not held up."""
    verify = f"/v1/documents/{uuid.uuid4()}/verify"
    guesser = {"X-Forwarded-For": "203.0.113.7"}
    answers = [
        (await stack.api.get(verify, params={"code": f"{n:064x}"}, headers=guesser)).status_code for n in range(300)
    ]
    assert answers == [404] * 300
    throttled = await stack.api.get(verify, params={"code": "f" * 64}, headers=guesser)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
    assert throttled.json()["error"] == "rate_limited"
    inspector = await stack.api.get(verify, params={"code": "f" * 64}, headers={"X-Forwarded-For": "198.51.100.20"})
    assert inspector.status_code == 404
