from __future__ import annotations

from pathlib import Path

from devstack import data_shape


def test_fresh_data_is_resumable_and_recorded(tmp_path: Path) -> None:
    assert data_shape.mismatch(tmp_path, "1.0.0") is None
    data_shape.record(tmp_path, "1.0.0")
    (tmp_path / "temporal.sqlite").write_bytes(b"")
    assert data_shape.mismatch(tmp_path, "1.0.0") is None


def test_data_of_another_shape_is_refused_with_the_way_out(tmp_path: Path) -> None:
    data_shape.record(tmp_path, "1.0.0")
    (tmp_path / "temporal.sqlite").write_bytes(b"")
    refusal = data_shape.mismatch(tmp_path, "1.1.0")
    assert refusal is not None
    assert "1.0.0" in refusal and "1.1.0" in refusal and "make clean-data" in refusal


def test_data_from_before_the_marker_is_refused(tmp_path: Path) -> None:
    (tmp_path / "temporal.sqlite").write_bytes(b"")
    refusal = data_shape.mismatch(tmp_path, "1.0.0")
    assert refusal is not None and "before 1.0.0" in refusal
