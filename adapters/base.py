"""The shared HTTP base of the department clients: the one place failures are mapped.

Timeouts, connection errors, 5xx, 408 and 429 raise a retryable ApplicationError of type
DEPARTMENT_UNAVAILABLE; every other refusal a non-retryable one whose type names it.
Messages never quote URLs, request or response bodies, so they hold no personal data.
"""

import re
from collections.abc import Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import quote

import httpx
from temporalio.exceptions import ApplicationError

from domain import errors

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)

T = TypeVar("T", bound="DataclassInstance")

_REFUSALS: Mapping[str, tuple[str, str]] = {
    "eid_token_invalid": (
        errors.EID_TOKEN_INVALID,
        "the QR token is unknown, expired or already used",
    ),
    "vehicle_unknown": (errors.VEHICLE_UNKNOWN, "vehicle unknown"),
    "owner_mismatch": (errors.OWNER_MISMATCH, "the applicant is not the registered owner"),
    "blocking_flag": (errors.BLOCKING_FLAG, "blocking flags"),
    "tax_record_not_found": (errors.TAX_RECORD_NOT_FOUND, "no tax record"),
    "inspection_report_not_found": (
        errors.INSPECTION_REPORT_NOT_FOUND,
        "no inspection report",
    ),
    "model_not_in_catalogue": (errors.MODEL_NOT_IN_CATALOGUE, "model not in the catalogue"),
}
_RETRYABLE_STATUSES = frozenset({408, 429})
_MACHINE_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


def segment(value: str) -> str:
    """``value`` escaped for use as one URL path segment."""
    return quote(value, safe="")


def unavailable(message: str) -> ApplicationError:
    """A retryable failure: the department is down, slow or broken."""
    return ApplicationError(message, type=errors.DEPARTMENT_UNAVAILABLE, non_retryable=False)


def refusal(message: str, error_type: str, *details: Any) -> ApplicationError:
    """A non-retryable business refusal."""
    return ApplicationError(message, *details, type=error_type, non_retryable=True)


class HttpDepartment:
    """Base of the httpx clients; subclasses name their ``department`` for messages."""

    department: ClassVar[str]

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def _request(
        self,
        method: str,
        path: str,
        *,
        action: str,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send a request and return its JSON answer, or raise the mapped ApplicationError.

        ``action`` names what is being done, without personal data ("the vehicle lookup").
        """
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else None
        try:
            response = await self._client.request(method, path, params=params, json=json, headers=headers)
        except httpx.TimeoutException as exc:
            raise unavailable(f"{self.department} timed out on {action} ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise unavailable(f"{self.department} could not be reached for {action} ({type(exc).__name__})") from None
        if not response.is_success:
            raise self._failure(response, action)
        try:
            return response.json()
        except ValueError:
            raise self._malformed(action) from None

    async def _fetch(self, model: type[T], method: str, path: str, *, action: str, **kwargs: Any) -> T:
        """Like ``_request``, returning the answer as ``model``."""
        return self._parse(model, await self._request(method, path, action=action, **kwargs), action)

    def _parse(self, model: type[T], data: Any, action: str) -> T:
        """Build the dataclass ``model`` from a JSON object, ignoring unknown keys."""
        if not isinstance(data, dict):
            raise self._malformed(action)
        names = {field.name for field in fields(model)}
        try:
            return model(**{key: value for key, value in data.items() if key in names})
        except TypeError:
            raise self._malformed(action) from None

    def _malformed(self, action: str) -> ApplicationError:
        return unavailable(f"{self.department} sent an unreadable answer to {action}")

    def _failure(self, response: httpx.Response, action: str) -> ApplicationError:
        status = response.status_code
        if status >= 500 or status in _RETRYABLE_STATUSES:
            return unavailable(f"{self.department} answered HTTP {status} to {action}")
        body = _json_object(response)
        code = body.get("error")
        if isinstance(code, str) and code in _REFUSALS:
            error_type, reason = _REFUSALS[code]
            if code == "blocking_flag":
                flags = _machine_codes(body.get("flags"))
                return refusal(
                    f"{self.department} refused {action}: {reason} {', '.join(flags)}".rstrip(),
                    error_type,
                    flags,
                )
            return refusal(f"{self.department} refused {action}: {reason}", error_type)
        named = f" ({code})" if _is_machine_code(code) else ""
        return refusal(
            f"{self.department} rejected {action} with HTTP {status}{named}",
            errors.DEPARTMENT_REJECTED_REQUEST,
        )


def _is_machine_code(value: object) -> bool:
    return isinstance(value, str) and _MACHINE_CODE.fullmatch(value) is not None


def _machine_codes(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [item for item in value if _is_machine_code(item)]


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
