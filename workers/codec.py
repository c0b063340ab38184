"""AES-256-GCM encryption of Temporal payloads, with key ids for rotation.

Every payload (inputs, results, signals, updates, queries, memos, and failure
messages through the encoded-attributes failure converter) is stored encrypted.
The newest key encrypts; every listed key decrypts, so old histories stay readable
while keys rotate.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from domain.keyring import Keyring

ENCODING = b"binary/encrypted-aes256gcm"


class EncryptionCodec(PayloadCodec):
    def __init__(self, keyring: Sequence[tuple[str, bytes]]) -> None:
        self._keyring = Keyring(keyring, label="payload")

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        key_id = self._keyring.newest_id.encode()
        return [
            Payload(
                metadata={"encoding": ENCODING, "encryption-key-id": key_id},
                data=self._keyring.encrypt(payload.SerializeToString()),
            )
            for payload in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                out.append(payload)
                continue
            key_id = payload.metadata.get("encryption-key-id", b"").decode()
            out.append(Payload.FromString(self._keyring.decrypt(key_id, payload.data)))
        return out
