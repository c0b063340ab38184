"""The one way the API and the console write to the audit trail."""

from __future__ import annotations

from typing import Any

from api.auth import Principal
from api.resources import Resources


async def record(
    resources: Resources,
    principal: Principal,
    action: str,
    target: str | None,
    outcome: str,
    *,
    source_ip: str | None,
    **detail: Any,
) -> None:
    """Who did what to which target, with what outcome (`ok`, `created`, `refused:<error>` ...)."""
    await resources.store.audit.record(
        actor=principal.sub,
        role=principal.role.value,
        district=principal.district,
        action=action,
        target=target,
        outcome=outcome,
        source_ip=source_ip,
        detail=detail,
    )
