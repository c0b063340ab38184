import pytest
from pydantic import ValidationError

from config import Settings
from tests.support_settings import production_settings


def test_development_defaults_work_in_development() -> None:
    assert Settings(app_env="development").is_development


def test_development_secrets_are_refused_in_production() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(app_env="production", database_url="postgresql://db/permit")
    message = str(refused.value)
    for name in ("AUTH_JWT_SECRET", "PAYLOAD_KEYS", "DATA_KEYS", "CALLBACK_SECRET_VEHICLE_ADMIN"):
        assert name in message


def test_production_with_real_secrets_starts() -> None:
    assert not production_settings().is_development


def test_a_drill_deadline_is_refused_in_production() -> None:
    settings = production_settings()
    with pytest.raises(ValidationError, match="DRILL_INSURANCE_DEADLINE_S"):
        Settings(**{**settings.model_dump(), "drill_insurance_deadline_s": 60})
    assert Settings(app_env="development", drill_insurance_deadline_s=60).drill_insurance_deadline_s == 60
