import base64
import os

import pytest
from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload

from domain.keyring import KeyringError, parse_keyring
from workers.codec import EncryptionCodec


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


async def test_payloads_are_encrypted_and_round_trip() -> None:
    codec = EncryptionCodec(parse_keyring(f"k1:{key()}"))
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"id_number": "330302199001011235"}')
    [sealed] = await codec.encode([plain])
    assert b"330302199001011235" not in sealed.SerializeToString()
    assert sealed.metadata["encryption-key-id"] == b"k1"
    assert await codec.decode([sealed]) == [plain]


async def test_rotation_newest_encrypts_older_still_decrypt() -> None:
    old_key, new_key = key(), key()
    old = EncryptionCodec(parse_keyring(f"k1:{old_key}"))
    rotated = EncryptionCodec(parse_keyring(f"k2:{new_key},k1:{old_key}"))
    [by_old] = await old.encode([Payload(data=b"x")])
    [by_new] = await rotated.encode([Payload(data=b"y")])
    assert by_new.metadata["encryption-key-id"] == b"k2"
    assert (await rotated.decode([by_old]))[0].data == b"x"
    with pytest.raises(KeyringError):
        await old.decode([by_new])


async def test_tampering_is_detected() -> None:
    codec = EncryptionCodec(parse_keyring(f"k1:{key()}"))
    [sealed] = await codec.encode([Payload(data=b"secret")])
    sealed.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(InvalidTag):
        await codec.decode([sealed])


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "k1:not-base64!",
        "k1:" + base64.b64encode(b"short").decode(),
        ":" + base64.b64encode(os.urandom(32)).decode(),
    ],
)
def test_bad_keyrings_are_refused(spec: str) -> None:
    with pytest.raises(KeyringError):
        parse_keyring(spec)
