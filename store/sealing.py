"""AES-256-GCM for personal data at rest (the applicants' name, ID number and phone).

A sealed value is text: `sealed:v1:<key id>:<base64 of nonce + ciphertext>`. The
associated data binds it to its key id and its place (table, column, row), so a value
copied into another row or column does not open. The newest key of `DATA_KEYS` seals;
every listed key opens, so keys rotate without rewriting rows at once.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.keyring import KeyringError

PREFIX = "sealed:v1:"
NONCE_BYTES = 12


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


class Sealer:
    def __init__(self, keyring: Sequence[tuple[str, bytes]]) -> None:
        self._seal_id, key = keyring[0]
        self._seal = AESGCM(key)
        self._open = {key_id: AESGCM(k) for key_id, k in keyring}

    @property
    def newest_prefix(self) -> str:
        """What every value sealed with the newest key starts with."""
        return f"{PREFIX}{self._seal_id}:"

    def seal(self, value: str, place: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._seal.encrypt(nonce, value.encode(), f"{self._seal_id}|{place}".encode())
        return f"{PREFIX}{self._seal_id}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, value: str, place: str) -> str:
        """The clear text; raises KeyringError for an unknown key, InvalidTag for a moved or altered value."""
        if not is_sealed(value):
            raise KeyringError("the value is not sealed")
        key_id, _, encoded = value.removeprefix(PREFIX).partition(":")
        cipher = self._open.get(key_id)
        if cipher is None:
            raise KeyringError(f"unknown data key id {key_id!r}")
        data = base64.b64decode(encoded)
        return cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], f"{key_id}|{place}".encode()).decode()

    def reseal(self, value: str, place: str) -> str:
        """`value` sealed with the newest key, whether it is clear text or sealed with an older one."""
        if value.startswith(self.newest_prefix):
            return value
        return self.seal(self.open(value, place) if is_sealed(value) else value, place)
