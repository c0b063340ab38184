"""Tax bureau: the vehicle's purchase invoice and purchase-tax certificate."""

from typing import Protocol

from adapters.base import HttpDepartment
from workflows.types import Invoice, PurchaseTax


class TaxClient(Protocol):
    async def get_invoice(self, vin: str) -> Invoice:
        """The purchase invoice (TAX_RECORD_NOT_FOUND otherwise)."""
        ...

    async def get_purchase_tax(self, vin: str) -> PurchaseTax:
        """The purchase-tax certificate (TAX_RECORD_NOT_FOUND otherwise)."""
        ...


class HttpTaxClient(HttpDepartment):
    department = "tax bureau"

    async def get_invoice(self, vin: str) -> Invoice:
        return await self._fetch(Invoice, "GET", "/tax/v1/invoices", action="the invoice lookup", params={"vin": vin})

    async def get_purchase_tax(self, vin: str) -> PurchaseTax:
        return await self._fetch(
            PurchaseTax,
            "GET",
            "/tax/v1/purchase-tax",
            action="the purchase-tax lookup",
            params={"vin": vin},
        )
