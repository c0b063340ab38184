"""Settings for tests: the tests' own secrets, and production settings with random ones.

The tests run as APP_ENV=test, which is held to production's rules: the development secrets of
config/__init__.py are refused there, so the tests bring their own (fixed, so that histories
recorded in one session replay in the next). A test that relies on a development surface (the
development token, the codec without a token, the development sign-in form) says
``app_env="development"`` itself.
"""

from __future__ import annotations

import base64
import os
import secrets
from typing import Any

from config import Settings

TEST_SECRETS: dict[str, str] = {
    "auth_jwt_secret": "tests-only-jwt-secret-never-deployed-0123456789",
    "payload_keys": "test1:" + base64.b64encode(b"tests-only-payload-key-32-bytes!").decode(),
    "data_digest_key": "tests-only-digest-key-for-vins-and-plates",
    "data_keys": "test1:" + base64.b64encode(b"tests-only-data-key-32-bytes-ok!").decode(),
    "audit_key": "tests-only-audit-chain-key-0123456789abcdef",
    "callback_secret_vehicle_admin": "tests-only-callback-secret-vehicle-admin",
    "callback_secret_insurance": "tests-only-callback-secret-insurance",
    "callback_secret_courier": "tests-only-callback-secret-courier",
    "regulator_secret": "tests-only-regulator-secret",
    # The settings of a test without a database; a test with one passes its own.
    "database_url": "postgresql://127.0.0.1:5432/no-database-in-this-test",
}


def settings_for_tests(**overrides: Any) -> Settings:
    """Settings of the test environment (the tests' own secrets), with ``overrides``."""
    return Settings(**{"app_env": "test", **TEST_SECRETS, **overrides})


def environment_for_tests() -> dict[str, str]:
    """The same settings as environment variables, for a process a test starts."""
    return {"APP_ENV": "test", **{name.upper(): value for name, value in TEST_SECRETS.items()}}


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
        regulator_secret=secrets.token_urlsafe(32),
        data_digest_key=secrets.token_urlsafe(32),
        data_keys="d1:" + base64.b64encode(os.urandom(32)).decode(),
        audit_key=secrets.token_urlsafe(32),
    )
