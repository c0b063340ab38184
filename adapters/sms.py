"""SMS gateway."""

from typing import Protocol

from adapters.base import HttpDepartment


class SmsClient(Protocol):
    async def send(self, *, phone: str, text: str, idempotency_key: str) -> str:
        """Send a text message; returns its message id."""
        ...


class HttpSmsClient(HttpDepartment):
    department = "SMS gateway"

    async def send(self, *, phone: str, text: str, idempotency_key: str) -> str:
        action = "the text message"
        data = await self._request(
            "POST",
            "/sms/v1/messages",
            action=action,
            json={"phone": phone, "text": text},
            idempotency_key=idempotency_key,
        )
        message_id = data.get("message_id") if isinstance(data, dict) else None
        if not isinstance(message_id, str):
            raise self._malformed(action)
        return message_id
