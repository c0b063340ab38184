"""AES-256-GCM for personal data at rest (the applicants' name, ID number and phone, the
applications' start input, the uploaded scans).

A sealed value is text: `sealed:v1:<key id>:<base64 of nonce + ciphertext>`. A sealed scan is
bytes (nonce + ciphertext) whose key id is kept beside it (`seal_bytes`, `open_bytes`), so a
scan of 10 MiB is not inflated by base64. The associated data binds either to its key id and
its place (table, column, row), so a value copied into another row or column does not open.
The newest key of `DATA_KEYS` seals; every listed key opens, so keys rotate without rewriting
rows at once.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from domain.keyring import Keyring, KeyringError

PREFIX = "sealed:v1:"


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


class Sealer:
    def __init__(self, keyring: Sequence[tuple[str, bytes]]) -> None:
        self._keyring = Keyring(keyring, label="data")

    @property
    def newest_key_id(self) -> str:
        return self._keyring.newest_id

    @property
    def newest_prefix(self) -> str:
        """What every value sealed with the newest key starts with."""
        return f"{PREFIX}{self._keyring.newest_id}:"

    def seal(self, value: str, place: str) -> str:
        sealed = self._keyring.encrypt(value.encode(), _context(place))
        return f"{self.newest_prefix}{base64.b64encode(sealed).decode()}"

    def open(self, value: str, place: str) -> str:
        """The clear text; raises KeyringError for an unknown key, InvalidTag for a moved or altered value."""
        if not is_sealed(value):
            raise KeyringError("the value is not sealed")
        key_id, _, encoded = value.removeprefix(PREFIX).partition(":")
        return self.open_bytes(key_id, base64.b64decode(encoded), place).decode()

    def seal_bytes(self, data: bytes, place: str) -> tuple[str, bytes]:
        """(the newest key's id, nonce + ciphertext): the id is stored beside the bytes to open them."""
        return self._keyring.newest_id, self._keyring.encrypt(data, _context(place))

    def open_bytes(self, key_id: str, sealed: bytes, place: str) -> bytes:
        """The clear bytes; raises KeyringError for an unknown key, InvalidTag for moved or altered bytes."""
        return self._keyring.decrypt(key_id, sealed, _context(place))

    def reseal(self, value: str, place: str) -> str:
        """`value` sealed with the newest key, whether it is clear text or sealed with an older one."""
        if value.startswith(self.newest_prefix):
            return value
        return self.seal(self.open(value, place) if is_sealed(value) else value, place)


def _context(place: str) -> bytes:
    return f"|{place}".encode()  # authenticated as "<key id>|<place>"
