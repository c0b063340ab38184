"""Keyrings of AES-256 keys with ids: the newest encrypts, every listed key decrypts.

`PAYLOAD_KEYS` (Temporal payloads) and `DATA_KEYS` (personal data at rest) share the format
`id:base64key,id:base64key`, newest first, so that keys rotate without re-encrypting.
"""

from __future__ import annotations

import base64


class KeyringError(ValueError):
    pass


def parse_keyring(spec: str) -> list[tuple[str, bytes]]:
    """`id:base64key,id:base64key` → [(id, 32-byte key)]; the first is the newest."""
    keys = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key_id, _, encoded = item.partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise KeyringError(f"key {key_id!r} is not base64") from None
        if not key_id or len(key) != 32:
            raise KeyringError(f"key {key_id!r} must be 32 bytes (AES-256)")
        keys.append((key_id, key))
    if not keys:
        raise KeyringError("at least one key is required")
    return keys
