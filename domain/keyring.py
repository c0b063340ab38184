"""Keyrings of AES-256 keys with ids: the newest encrypts, every listed key decrypts.

`PAYLOAD_KEYS` (Temporal payloads) and `DATA_KEYS` (personal data at rest) share the format
`id:base64key,id:base64key`, newest first, so that keys rotate without re-encrypting.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


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


class Keyring:
    """AES-256-GCM: the newest key encrypts, any listed key decrypts; the key id is always authenticated."""

    def __init__(self, keys: Sequence[tuple[str, bytes]], *, label: str) -> None:
        self.newest_id = keys[0][0]
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys}
        self._label = label

    def encrypt(self, data: bytes, context: bytes = b"") -> bytes:
        """Nonce and ciphertext under the newest key; `context` must be given again to decrypt."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._ciphers[self.newest_id].encrypt(nonce, data, self.newest_id.encode() + context)

    def decrypt(self, key_id: str, sealed: bytes, context: bytes = b"") -> bytes:
        """Raises KeyringError for an unknown key id, InvalidTag for altered data or another context."""
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise KeyringError(f"unknown {self._label} key id {key_id!r}")
        return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], key_id.encode() + context)
