import pytest
from pydantic import ValidationError

from config import Settings
from tests.support_settings import TEST_SECRETS, production_settings, settings_for_tests

SECRETS = ("AUTH_JWT_SECRET", "PAYLOAD_KEYS", "DATA_KEYS", "AUDIT_KEY", "CALLBACK_SECRET_VEHICLE_ADMIN")


def test_development_defaults_work_in_development() -> None:
    assert Settings(app_env="development").is_development


@pytest.mark.parametrize("app_env", ["production", "test"])
def test_development_secrets_are_refused_outside_development(app_env: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(app_env=app_env, database_url="postgresql://db/permit")
    message = str(refused.value)
    for name in SECRETS:
        assert name in message


def test_an_unset_app_env_is_production_and_refuses_the_published_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APP_ENV", raising=False)
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError) as refused:
        Settings(database_url="postgresql://db/permit")
    assert "APP_ENV=production" in str(refused.value)
    for name in SECRETS:
        assert name in str(refused.value)


def test_only_development_is_development() -> None:
    assert not settings_for_tests().is_development
    assert not settings_for_tests(app_env="production").is_development
    assert settings_for_tests(app_env="development").is_development


def test_production_with_real_secrets_starts() -> None:
    assert not production_settings().is_development


def test_a_test_deployment_with_its_own_secrets_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "test")
    for name, value in TEST_SECRETS.items():
        monkeypatch.setenv(name.upper(), value)
    settings = Settings()
    assert settings.app_env == "test" and not settings.is_development


def test_a_drill_deadline_is_refused_in_production() -> None:
    settings = production_settings()
    with pytest.raises(ValidationError, match="DRILL_INSURANCE_DEADLINE_S"):
        Settings(**{**settings.model_dump(), "drill_insurance_deadline_s": 60})
    assert Settings(app_env="development", drill_insurance_deadline_s=60).drill_insurance_deadline_s == 60
