"""AES-256-GCM encryption of Temporal payloads, with key ids for rotation.

Every payload (inputs, results, signals, updates, queries, memos, and failure
messages through the encoded-attributes failure converter) is stored encrypted.
The newest key encrypts; every listed key decrypts, so old histories stay readable
while keys rotate.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from domain.keyring import KeyringError, parse_keyring

__all__ = ["EncryptionCodec", "KeyringError", "parse_keyring"]

ENCODING = b"binary/encrypted-aes256gcm"
NONCE_BYTES = 12


class EncryptionCodec(PayloadCodec):
    def __init__(self, keyring: Sequence[tuple[str, bytes]]) -> None:
        self._encrypt_id, key = keyring[0]
        self._encrypt = AESGCM(key)
        self._decrypt = {key_id: AESGCM(k) for key_id, k in keyring}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            sealed = self._encrypt.encrypt(nonce, payload.SerializeToString(), self._encrypt_id.encode())
            out.append(
                Payload(
                    metadata={"encoding": ENCODING, "encryption-key-id": self._encrypt_id.encode()},
                    data=nonce + sealed,
                )
            )
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                out.append(payload)
                continue
            key_id = payload.metadata.get("encryption-key-id", b"").decode()
            cipher = self._decrypt.get(key_id)
            if cipher is None:
                raise KeyringError(f"unknown payload key id {key_id!r}")
            nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
            out.append(Payload.FromString(cipher.decrypt(nonce, sealed, key_id.encode())))
        return out
