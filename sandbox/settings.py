"""Configuration of the department sandbox, read from ``SANDBOX_*`` environment variables."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

CallbackSource = Literal["vehicle-admin", "insurance", "courier"]


class SandboxSettings(BaseSettings):
    """Settings of the sandbox app; the callback secrets use the API's variable names."""

    model_config = SettingsConfigDict(env_prefix="SANDBOX_", frozen=True, validate_by_name=True)

    host: str = "127.0.0.1"
    port: int = 8001
    callback_base_url: str = "http://127.0.0.1:8000"
    vehicle_admin_delay_s: float = Field(default=2.0, ge=0)
    courier_delay_s: float = Field(default=3.0, ge=0)
    eid_token_ttl_s: float = Field(default=600.0, gt=0)
    state_file: Path | None = None
    callback_attempts: int = Field(default=5, ge=1)
    callback_backoff_s: float = Field(default=0.5, ge=0)
    callback_secret_vehicle_admin: str = Field(
        default="dev-callback-secret-vehicle-admin",
        validation_alias="CALLBACK_SECRET_VEHICLE_ADMIN",
    )
    callback_secret_insurance: str = Field(
        default="dev-callback-secret-insurance", validation_alias="CALLBACK_SECRET_INSURANCE"
    )
    callback_secret_courier: str = Field(
        default="dev-callback-secret-courier", validation_alias="CALLBACK_SECRET_COURIER"
    )

    # Signs the requests to the national ride-hailing regulatory platform (sandbox/departments/regulator.py).
    regulator_secret: str = Field(default="dev-regulator-secret", validation_alias="REGULATOR_SECRET")

    def callback_secret(self, source: CallbackSource) -> str:
        """The shared secret that signs callbacks from ``source``."""
        return {
            "vehicle-admin": self.callback_secret_vehicle_admin,
            "insurance": self.callback_secret_insurance,
            "courier": self.callback_secret_courier,
        }[source]

    def callback_url(self, source: CallbackSource) -> str:
        """Where callbacks from ``source`` are posted."""
        return f"{self.callback_base_url.rstrip('/')}/v1/callbacks/{source}"
