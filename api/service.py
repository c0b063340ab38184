"""Moved to the package api/services/ (one module per resource); this module goes once nothing imports it."""

from __future__ import annotations

from typing import Any

from api.auth import Principal
from api.services.applications import current_view, decide
from api.services.documents import document_for
from api.services.inbox import _scope
from api.services.materials import content_of as material_of

__all__ = ["current_view", "decide", "document_for", "inbox_scope", "material_of"]


def inbox_scope(principal: Principal, district: str | None) -> dict[str, Any]:
    return _scope(principal, district)
