"""Settings for tests: the test environment's defaults, and production settings with strong secrets."""

from __future__ import annotations

import base64
import os
import secrets
from typing import Any

from config import Settings


def settings_for_tests(**overrides: Any) -> Settings:
    """Settings of the test environment (development secrets allowed), with ``overrides``."""
    return Settings(app_env="test", **overrides)


def production_settings() -> Settings:
    """Production settings with strong, random secrets."""
    return Settings(
        app_env="production",
        database_url="postgresql://db/permit",
        auth_jwt_secret=secrets.token_urlsafe(48),
        payload_keys="p1:" + base64.b64encode(os.urandom(32)).decode(),
        callback_secret_vehicle_admin=secrets.token_urlsafe(32),
        callback_secret_insurance=secrets.token_urlsafe(32),
        callback_secret_courier=secrets.token_urlsafe(32),
        data_digest_key=secrets.token_urlsafe(32),
        data_keys="d1:" + base64.b64encode(os.urandom(32)).decode(),
    )
