"""The sandbox's state: plain JSON documents, optionally persisted to one file."""

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

JSON = dict[str, Any]


@dataclass
class SandboxState:
    """Everything the played departments remember.

    Usage changes and shipments are stored as ``{"view": <public document>, "due_at": <unix>,
    "notified": <callback delivered>, ...}`` so that unfinished ones survive a restart.
    """

    eid_tokens: dict[str, JSON] = field(default_factory=dict)
    vehicles: dict[str, JSON] = field(default_factory=dict)
    policies: list[JSON] = field(default_factory=list)
    usage_changes: dict[str, JSON] = field(default_factory=dict)
    shipments: dict[str, JSON] = field(default_factory=dict)
    sms: list[JSON] = field(default_factory=list)
    regulator_records: dict[str, JSON] = field(default_factory=dict)  # by permit number
    idempotency: dict[str, JSON] = field(default_factory=dict)
    faults: dict[str, JSON] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: JSON) -> "SandboxState":
        """Rebuild the state from its saved form, ignoring unknown sections."""
        names = {f.name for f in fields(cls)}
        return cls(**{name: value for name, value in data.items() if name in names})


class StateStore:
    """Holds the current state and, when given a path, saves it after each change."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self.state = self._load()

    def _load(self) -> SandboxState:
        if self._path is None or not self._path.exists():
            return SandboxState()
        return SandboxState.from_json(json.loads(self._path.read_text(encoding="utf-8")))

    def save(self) -> None:
        """Write the state atomically: a temporary file in the same folder, then a rename."""
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self._path.name}.", dir=self._path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(asdict(self.state), handle, ensure_ascii=False)
            os.replace(tmp, self._path)
        except BaseException:
            os.unlink(tmp)
            raise

    def reset(self) -> None:
        """Forget everything."""
        self.state = SandboxState()
        self.save()
