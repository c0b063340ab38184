"""Keyed digests of identifiers the store finds by equality but never keeps in clear (VINs, plates)."""

from __future__ import annotations

import hashlib
import hmac


def keyed_digest(key: str, text: str) -> str:
    """HMAC-SHA256: a plate (浙C + 5 characters) could be found from a plain hash by trying them all."""
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()
