"""Personal data never reaches a log line: structlog's own, uvicorn's, the SDK's, exceptions."""

from __future__ import annotations

import io
import json
import logging
from urllib.parse import quote

import pytest
import structlog

from config.logging import configure_logging

ID_NUMBER, PHONE, VIN, PLATE = "330302199001011235", "13800138000", "LSVAU218XN2183294", "浙C12345"


@pytest.fixture
def captured() -> io.StringIO:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(development=False)
    stream = io.StringIO()
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.handlers[:], _ = saved[0], root.setLevel(saved[1])
    structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_every_source_is_masked_and_json(captured: io.StringIO) -> None:
    structlog.get_logger("api").info("application.submitted", phone=PHONE, vehicle={"vin": VIN, "plate": PLATE})
    logging.getLogger("uvicorn.error").warning("request from %s with id %s", PHONE, ID_NUMBER)
    logging.getLogger("temporalio.activity").error("activity failed for VIN %s", VIN)
    logging.getLogger("uvicorn.access").info('"GET /v1/applications?plate=%s HTTP/1.1" 200', quote(PLATE))
    try:
        raise ValueError(f"owner {ID_NUMBER} does not match")
    except ValueError:
        structlog.get_logger("worker").exception("activity.crashed")
    text = captured.getvalue()
    for secret in (ID_NUMBER, PHONE, VIN, PLATE):
        assert secret not in text
    records = lines(captured)
    assert records[0]["event"] == "application.submitted"
    assert records[0]["phone"] == "138****8000"
    assert "ValueError" in records[-1]["exception"]
