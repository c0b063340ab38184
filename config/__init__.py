"""One settings object shared by the API, the worker and the launcher."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789"
DEV_PAYLOAD_KEY = "ZGV2LW9ubHktcGF5bG9hZC1rZXktMzItYnl0ZXMhISE="  # base64 of 32 bytes, development only
DEV_DIGEST_KEY = "dev-only-digest-key-for-vins-and-plates"
DEV_DATA_KEY = "ZGV2LW9ubHktZGF0YS1rZXktMzItYnl0ZXMtbG9uZyE="  # base64 of 32 bytes, development only
DEV_DATA_KEYS = f"dev1:{DEV_DATA_KEY}"
DEV_AUDIT_KEY = "dev-only-audit-chain-key-0123456789abcdef"
DEV_CALLBACK_SECRETS = {
    "vehicle-admin": "dev-callback-secret-vehicle-admin",
    "insurance": "dev-callback-secret-insurance",
    "courier": "dev-callback-secret-courier",
}
DEV_REGULATOR_SECRET = "dev-regulator-secret"


class Settings(BaseSettings):
    """Read from the environment (names as below, upper-case).

    The secrets' defaults are development values published in this file: only APP_ENV=development
    accepts them. Any other environment, APP_ENV unset included (production), refuses to start
    until each secret is set (`_no_development_secrets_outside_development`).
    """

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    # "development" only for `make run` and the tests that say so; "test" (staging) is held to production's rules.
    app_env: Literal["development", "test", "production"] = "production"
    log_level: str = "INFO"

    database_url: str | None = None
    # The owner's URL, for migrations only (`python -m store migrate`): it creates the role of
    # DATABASE_URL and grants it what the API and worker need (audit_log: SELECT and INSERT only).
    # Unset, migrations run with DATABASE_URL.
    migration_database_url: str | None = None
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "permit-applications"
    departments_url: str = "http://127.0.0.1:8001"

    # Workflows a worker keeps in memory between tasks: about 0.6 MiB each (make scale);
    # one not cached is replayed from its history at its next task.
    worker_max_cached_workflows: int = Field(default=1000, ge=0)

    # The worker's Temporal SDK metrics (Prometheus); empty to disable.
    worker_metrics_bind: str | None = "127.0.0.1:9464"

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # The API's public address, printed on documents as where to verify them; unset: the request's own.
    public_base_url: str | None = None

    auth_jwt_secret: str = DEV_JWT_SECRET
    auth_token_ttl_s: int = 8 * 3600
    # The production identity provider's JWKS (RS256 tokens for clerks and supervisors).
    auth_jwks_url: str | None = None
    # The clerks' console signs in there outside development (OpenID Connect implicit flow:
    # the ID token comes back in the URL fragment of /console/sign-in/idp).
    console_idp_authorize_url: str | None = None
    console_idp_client_id: str = "permit-console"
    # The applicant's app (/app) signs in there outside development: the e-ID service (温警在线)
    # sends the browser back to /app/sign-in/eid with `qr_token` and the `state` it was given.
    applicant_eid_authorize_url: str | None = None

    # AES-256-GCM keys for Temporal payloads: "id:base64key,id:base64key"; the first encrypts.
    payload_keys: str = f"dev1:{DEV_PAYLOAD_KEY}"

    # Keys the digests of VINs and plates kept for uniqueness and search (never the values).
    data_digest_key: str = DEV_DIGEST_KEY
    # AES-256 keys for personal data at rest (applicants, start inputs, scans), `id:base64key,…`, newest first.
    data_keys: str = DEV_DATA_KEYS
    # Days a scan is kept after the last application listing it closed (store/retention.py).
    retention_days: int = Field(default=365, ge=1)
    # Keys the audit chain (HMAC-SHA256); the database never holds it. verify-audit needs it too.
    audit_key: str = DEV_AUDIT_KEY

    callback_secret_vehicle_admin: str = DEV_CALLBACK_SECRETS["vehicle-admin"]
    callback_secret_insurance: str = DEV_CALLBACK_SECRETS["insurance"]
    callback_secret_courier: str = DEV_CALLBACK_SECRETS["courier"]
    callback_tolerance_s: int = 300
    # Signs the worker's requests to the national ride-hailing regulatory platform (adapters/regulator.py).
    regulator_secret: str = DEV_REGULATOR_SECRET

    # Origins of the Temporal Web UI allowed to call the codec endpoint.
    temporal_ui_origins: list[str] = ["http://127.0.0.1:8233", "http://localhost:8233"]

    # Per applicant and hour.
    rate_limit_submissions: int = 10
    rate_limit_uploads: int = 60
    rate_limit_insurance_checks: int = 30
    # Per client address and hour, on the public document verification (no sign-in). Behind an
    # ingress, set FORWARDED_ALLOW_IPS to its address so the client's own address counts.
    rate_limit_verifications: int = 300
    # Per client address and hour, on the e-ID sign-in (each call asks the e-ID service).
    rate_limit_eid_sign_ins: int = 60

    max_upload_bytes: int = Field(default=10 * 1024 * 1024)
    update_timeout_s: float = 30.0

    # The follow-up of a bad rating (差评): the 回访 within so many working days of the rating, and the
    # 整改 with its answer to the applicant within so many (Zhejiang's published rule: 1 and 15).
    rating_callback_working_days: int = Field(default=1, ge=1, le=30)
    rating_rectification_working_days: int = Field(default=15, ge=1, le=60)

    # Polling fall-backs of new workflows when a department's callback does not come.
    poll_usage_change_s: float = Field(default=60.0, gt=0)
    poll_insurance_s: float = Field(default=6 * 3600.0, gt=0)
    poll_delivery_s: float = Field(default=3600.0, gt=0)
    # A long application continues as new once its run's history has this many events (workflows/rollover.py);
    # unset, when Temporal suggests it. `make chaos` sets it low so that its applications hand over often.
    continue_as_new_after_events: int | None = Field(default=None, ge=200)
    # Drills only (`make chaos`): the insurance deadline this many seconds after acceptance
    # instead of 15 working days. Refused outside development.
    drill_insurance_deadline_s: float | None = Field(default=None, gt=0)

    @property
    def is_development(self) -> bool:
        return self.app_env == "development"

    def callback_secret(self, source: str) -> str | None:
        return {
            "vehicle-admin": self.callback_secret_vehicle_admin,
            "insurance": self.callback_secret_insurance,
            "courier": self.callback_secret_courier,
        }.get(source)

    @model_validator(mode="after")
    def _no_development_secrets_outside_development(self) -> Settings:
        if self.is_development:
            return self
        weak = []
        if self.auth_jwt_secret == DEV_JWT_SECRET or len(self.auth_jwt_secret) < 32:
            weak.append("AUTH_JWT_SECRET")
        if DEV_PAYLOAD_KEY in self.payload_keys:
            weak.append("PAYLOAD_KEYS")
        if self.data_digest_key == DEV_DIGEST_KEY or len(self.data_digest_key) < 32:
            weak.append("DATA_DIGEST_KEY")
        if DEV_DATA_KEY in self.data_keys:
            weak.append("DATA_KEYS")
        if self.audit_key == DEV_AUDIT_KEY or len(self.audit_key) < 32:
            weak.append("AUDIT_KEY")
        for source, secret in DEV_CALLBACK_SECRETS.items():
            if self.callback_secret(source) == secret:
                weak.append(f"CALLBACK_SECRET_{source.upper().replace('-', '_')}")
        if self.regulator_secret == DEV_REGULATOR_SECRET:
            weak.append("REGULATOR_SECRET")
        if not self.database_url:
            weak.append("DATABASE_URL")
        if self.drill_insurance_deadline_s is not None:
            weak.append("DRILL_INSURANCE_DEADLINE_S")
        if weak:
            raise ValueError(
                f"development defaults refused outside development (APP_ENV={self.app_env}): {', '.join(weak)};"
                " set them, or APP_ENV=development on a developer's machine"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
