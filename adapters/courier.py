"""Courier: shipments of documents, delivered later and reported by callback."""

from typing import Protocol

from adapters.base import HttpDepartment, segment
from workflows.types import Shipment


class CourierClient(Protocol):
    async def create_shipment(
        self,
        *,
        reference: str,
        recipient: str,
        phone: str,
        address: str,
        contents: str,
        idempotency_key: str,
    ) -> Shipment:
        """Hand over a parcel; ``contents`` describes it ("网约车运输证、机动车行驶证")."""
        ...

    async def get_shipment(self, tracking_number: str) -> Shipment:
        """The tracking state of a shipment."""
        ...


class HttpCourierClient(HttpDepartment):
    department = "courier"

    async def create_shipment(
        self,
        *,
        reference: str,
        recipient: str,
        phone: str,
        address: str,
        contents: str,
        idempotency_key: str,
    ) -> Shipment:
        return await self._fetch(
            Shipment,
            "POST",
            "/courier/v1/shipments",
            action="the shipment creation",
            json={
                "reference": reference,
                "recipient": recipient,
                "phone": phone,
                "address": address,
                "contents": contents,
            },
            idempotency_key=idempotency_key,
        )

    async def get_shipment(self, tracking_number: str) -> Shipment:
        return await self._fetch(
            Shipment,
            "GET",
            f"/courier/v1/shipments/{segment(tracking_number)}",
            action="the shipment status query",
        )
