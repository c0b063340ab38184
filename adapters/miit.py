"""MIIT's announcement of new-energy vehicle ranges."""

from typing import Protocol

from adapters.base import HttpDepartment
from workflows.types import NevRange


class MiitClient(Protocol):
    async def get_nev_range(self, model: str) -> NevRange:
        """The announced range of ``model`` (MODEL_NOT_IN_CATALOGUE otherwise)."""
        ...


class HttpMiitClient(HttpDepartment):
    department = "MIIT catalogue"

    async def get_nev_range(self, model: str) -> NevRange:
        return await self._fetch(
            NevRange,
            "GET",
            "/miit/v1/nev-range",
            action="the NEV range lookup",
            params={"model": model},
        )
