"""`make run` is the development stack and says so; without APP_ENV=development it does not start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_says_development() -> None:
    lines = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0].splitlines()
    assert any(line.strip().startswith("APP_ENV=development ") and "-m devstack" in line for line in lines), lines


def test_the_local_stack_refuses_to_start_outside_development() -> None:
    environment = {key: value for key, value in os.environ.items() if key != "APP_ENV"}
    done = subprocess.run(
        [sys.executable, "-m", "devstack"],
        check=False,
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "APP_ENV=development" in done.stderr
