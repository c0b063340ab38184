"""The runtime image and the installed package carry the product, not the drivers for people."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_drills_stay_out_of_the_image() -> None:
    copied = [line.split()[1] for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("COPY ")]
    assert "config" in copied and "workflows" in copied
    assert not {"drills", "devstack", "tests"} & set(copied)
    assert "drills" in (ROOT / ".dockerignore").read_text().split()


def test_the_drills_stay_out_of_the_installed_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert "workflows*" in packages
    assert not [p for p in packages if p.startswith(("drills", "tests"))]


def test_the_image_runs_in_production_unless_told_otherwise() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    environment = [word for line in lines if line.startswith("ENV ") for word in line.split()[1:]]
    assert "APP_ENV=production" in environment
