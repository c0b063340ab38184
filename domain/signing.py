"""HMAC-SHA256 signatures of department callbacks.

The header value is ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``,
sent as ``X-Signature``. Several ``v1`` entries are accepted, so a sender can sign with
an old and a new secret while the secret is being rotated.
"""

import hashlib
import hmac

DEFAULT_TOLERANCE_S = 300


class SignatureError(Exception):
    """The signature header is malformed, outside the time tolerance, or does not match."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _digest(secret: str, body: bytes, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """Return the ``X-Signature`` header value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={_digest(secret, body, timestamp)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamps: list[str] = []
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep or not value:
            raise SignatureError("malformed signature header")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            signatures.append(value)
    if len(timestamps) != 1 or not timestamps[0].isascii() or not timestamps[0].isdigit():
        raise SignatureError("malformed signature header: one numeric t= is required")
    if not signatures:
        raise SignatureError("malformed signature header: no v1= signature")
    return int(timestamps[0]), signatures


def verify(secret: str, body: bytes, header: str, now: int, tolerance_s: int = DEFAULT_TOLERANCE_S) -> int:
    """Check ``header`` against ``body`` at time ``now``; return its timestamp.

    Raises SignatureError when the header is malformed, older than ``tolerance_s``,
    more than ``tolerance_s`` in the future, or signed with another secret or body.
    """
    timestamp, signatures = _parse(header)
    if timestamp < now - tolerance_s:
        raise SignatureError("signature timestamp too old")
    if timestamp > now + tolerance_s:
        raise SignatureError("signature timestamp too far in the future")
    expected = _digest(secret, body, timestamp).encode()
    if not any(hmac.compare_digest(expected, candidate.encode()) for candidate in signatures):
        raise SignatureError("signature does not match")
    return timestamp
