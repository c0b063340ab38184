"""The played departments' immediate answers, over real HTTP."""

import asyncio
from datetime import timedelta

from sandbox.clock import today
from tests.support_sandbox import OWNER, VEHICLE, SandboxUnderTest, running_sandbox_with_inbox

VIN = VEHICLE["vin"]


async def test_eid_token_identifies_its_holder_once(sandbox: SandboxUnderTest) -> None:
    token = await sandbox.control.issue_qr()

    first = await sandbox.client.post("/eid/v1/verify", json={"qr_token": token})
    second = await sandbox.client.post("/eid/v1/verify", json={"qr_token": token})

    assert first.status_code == 200
    assert first.json() == OWNER
    assert second.status_code == 401
    assert second.json()["error"] == "eid_token_invalid"


async def test_eid_tokens_are_random(sandbox: SandboxUnderTest) -> None:
    assert await sandbox.control.issue_qr() != await sandbox.control.issue_qr()


async def test_eid_unknown_token_is_refused(sandbox: SandboxUnderTest) -> None:
    response = await sandbox.client.post("/eid/v1/verify", json={"qr_token": "forged"})

    assert response.status_code == 401
    assert response.json()["error"] == "eid_token_invalid"


async def test_eid_token_expires() -> None:
    async with running_sandbox_with_inbox(eid_token_ttl_s=0.05) as sandbox:
        token = await sandbox.control.issue_qr()
        await asyncio.sleep(0.1)
        response = await sandbox.client.post("/eid/v1/verify", json={"qr_token": token})

    assert response.status_code == 401


async def test_vehicle_is_registered_with_defaults(sandbox: SandboxUnderTest) -> None:
    record = await sandbox.control.add_vehicle()

    assert record == {
        **VEHICLE,
        "inspection": {
            "passed": True,
            "valid_until": (today() + timedelta(days=365)).isoformat(),
        },
        "tax_records": True,
    }
    looked_up = await sandbox.client.get(f"/vehicle-admin/v1/vehicles/{VIN}")
    assert looked_up.status_code == 200
    assert looked_up.json() == VEHICLE


async def test_vehicle_registration_replaces_the_same_vin(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.add_vehicle()
    await sandbox.control.add_vehicle(model="特斯拉Model 3", seats=7)

    record = (await sandbox.client.get(f"/vehicle-admin/v1/vehicles/{VIN}")).json()

    assert (record["model"], record["seats"]) == ("特斯拉Model 3", 7)


async def test_vehicle_registration_validates_its_body(sandbox: SandboxUnderTest) -> None:
    bad = [{**VEHICLE, "vin": "short"}, {**VEHICLE, "fuel": "steam"}, {**VEHICLE, "extra": 1}]

    for body in bad:
        assert (await sandbox.client.post("/sandbox/vehicles", json=body)).status_code == 422


async def test_unknown_vehicle(sandbox: SandboxUnderTest) -> None:
    response = await sandbox.client.get(f"/vehicle-admin/v1/vehicles/{VIN}")

    assert response.status_code == 404
    assert response.json()["error"] == "vehicle_unknown"


async def test_tax_records_are_derived_from_the_vehicle(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.add_vehicle()

    invoice = (await sandbox.client.get("/tax/v1/invoices", params={"vin": VIN})).json()
    again = (await sandbox.client.get("/tax/v1/invoices", params={"vin": VIN})).json()
    tax = (await sandbox.client.get("/tax/v1/purchase-tax", params={"vin": VIN})).json()

    assert invoice == again
    assert set(invoice) == {"invoice_no", "vin", "amount_yuan", "issued_on"}
    assert invoice["vin"] == VIN and invoice["issued_on"] < VEHICLE["registered_on"]
    assert isinstance(invoice["amount_yuan"], float)
    assert set(tax) == {"certificate_no", "vin", "paid_on"}


async def test_tax_records_can_be_missing(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.add_vehicle(tax_records=False)

    for path in ("/tax/v1/invoices", "/tax/v1/purchase-tax"):
        response = await sandbox.client.get(path, params={"vin": VIN})
        assert response.status_code == 404
        assert response.json()["error"] == "tax_record_not_found"


async def test_inspection_report(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.add_vehicle(inspection={"passed": False, "valid_until": "2026-01-31"})

    report = (await sandbox.client.get("/inspection/v1/reports", params={"vin": VIN})).json()

    assert report["passed"] is False
    assert report["valid_until"] == "2026-01-31"
    assert report["report_no"]


async def test_inspection_report_can_be_missing(sandbox: SandboxUnderTest) -> None:
    await sandbox.control.add_vehicle(inspection=None)

    response = await sandbox.client.get("/inspection/v1/reports", params={"vin": VIN})

    assert response.status_code == 404
    assert response.json()["error"] == "inspection_report_not_found"


async def test_nev_catalogue(sandbox: SandboxUnderTest) -> None:
    known = await sandbox.client.get("/miit/v1/nev-range", params={"model": "奇瑞小蚂蚁"})
    unknown = await sandbox.client.get("/miit/v1/nev-range", params={"model": "Flying Car"})

    assert known.json() == {"model": "奇瑞小蚂蚁", "range_km": 250}
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "model_not_in_catalogue"


async def test_policies_bought_are_listed_by_vehicle(sandbox: SandboxUnderTest) -> None:
    vehicle = {"vin": VIN, "plate": VEHICLE["plate"]}
    empty = await sandbox.client.get("/insurance/v1/policies", params=vehicle)
    policy = await sandbox.control.buy_policy()
    await sandbox.control.buy_policy(vin="LSVAU2180N2183295")

    listed = await sandbox.client.get("/insurance/v1/policies", params=vehicle)

    assert empty.json() == {"policies": []}
    assert listed.json() == {"policies": [policy]}
    assert policy["kind"] == "carrier_liability"
    assert policy["valid_from"] == today().isoformat()


async def test_sms_outbox(sandbox: SandboxUnderTest) -> None:
    sent = await sandbox.client.post("/sms/v1/messages", json={"phone": "13800138000", "text": "您好"})
    await sandbox.client.post("/sms/v1/messages", json={"phone": "13900139000", "text": "其他"})

    outbox = await sandbox.control.sms("13800138000")

    assert sent.status_code == 201
    assert outbox == [{**sent.json(), "text": "您好"}]


async def test_nev_catalogue_knows_english_names_in_any_case(sandbox: SandboxUnderTest) -> None:
    response = await sandbox.client.get("/miit/v1/nev-range", params={"model": "byd qin plus ev"})

    assert response.json() == {"model": "BYD Qin PLUS EV", "range_km": 510}
