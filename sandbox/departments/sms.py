"""SMS gateway: messages land in an outbox that people and tests can read."""

import secrets

from fastapi.responses import JSONResponse

from sandbox.clock import now_iso
from sandbox.common import LongText, StrictModel, Text
from sandbox.routing import IdempotencyKey, RuntimeDep, department_router, helper_router
from sandbox.state import JSON

router = department_router("sms")
helpers = helper_router()


class MessageIn(StrictModel):
    phone: Text
    text: LongText


@router.post("/messages", status_code=201)
async def send_message(message: MessageIn, runtime: RuntimeDep, idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Send a text message."""

    def send() -> JSON:
        sent = {
            "message_id": f"SMS{secrets.token_hex(8).upper()}",
            "phone": message.phone,
            "text": message.text,
            "sent_at": now_iso(),
        }
        runtime.state.sms.append(sent)
        return {
            "message_id": sent["message_id"],
            "phone": sent["phone"],
            "sent_at": sent["sent_at"],
        }

    return runtime.idempotent("sms", idempotency_key, 201, send)


@helpers.get("/sms")
async def outbox(runtime: RuntimeDep, phone: str | None = None) -> JSON:
    """Messages sent, to ``phone`` when given."""
    return {"messages": [message for message in runtime.state.sms if phone is None or message["phone"] == phone]}
