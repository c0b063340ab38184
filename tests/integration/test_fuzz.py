"""Schemathesis against the app's own OpenAPI, as an applicant and as a clerk, with every default check."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from drills.people import new_citizen
from tests.support_stack import Stack
from tests.support_temporal import BIN

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = 15


async def fuzz(stack: Stack, headers: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        str(BIN / "schemathesis"),
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "run",
        f"{stack.api.base_url}/openapi.json",
        "-H",
        f"Authorization: {headers['Authorization']}",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        "20261127",
        "--no-color",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=ROOT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


@pytest.mark.parametrize("role", ["applicant", "transport_clerk"])
async def test_no_server_errors_and_no_schema_violations(stack: Stack, role: str) -> None:
    headers = await (stack.applicant(**new_citizen()) if role == "applicant" else stack.clerk())
    code, output = await fuzz(stack, headers)
    report = ROOT / ".data" / f"schemathesis-{role}.log"
    report.parent.mkdir(exist_ok=True)
    report.write_text(output, encoding="utf-8")
    print(output[-3000:])
    assert code == 0, output[-6000:]
