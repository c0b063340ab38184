"""Local data belongs to one workflow shape: `make run` refuses to resume applications of another.

Until a release is deployed, a change of the workflow's shape is not patched (docs/versioning.md), so
applications that an older checkout left under `.data/` would fail on replay. The launcher records the
shape it ran with beside the data and, on a mismatch, tells the user to forget that data.
"""

from __future__ import annotations

from pathlib import Path

MARKER = "workflow-shape"


def mismatch(data: Path, version: str, temporal_db: str = "temporal.sqlite") -> str | None:
    """Why the data under `data` cannot be resumed by workflow shape `version`, or None when it can."""
    if not (data / temporal_db).exists():
        return None
    marker = data / MARKER
    found = marker.read_text(encoding="utf-8").strip() if marker.exists() else "an older one (before 1.0.0)"
    if found == version:
        return None
    return (
        f"the applications under .data/ were recorded by workflow shape {found}; this checkout runs {version}, "
        "whose workers cannot replay them. Run `make clean-data` (it forgets the local applications), "
        "then `make run` again."
    )


def record(data: Path, version: str) -> None:
    data.mkdir(parents=True, exist_ok=True)
    (data / MARKER).write_text(version + "\n", encoding="utf-8")
