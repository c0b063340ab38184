from api.app import create_app
from config import Settings
from tests.support_settings import production_settings


def paths(settings: Settings) -> set[str]:
    """The routes as the app's OpenAPI document publishes them."""
    return set(create_app(settings).openapi()["paths"])


def test_dev_token_route_exists_only_in_development() -> None:
    assert "/v1/dev/token" in paths(Settings(app_env="development"))
    assert "/v1/dev/token" not in paths(production_settings())


def test_every_route_of_the_contract_is_there() -> None:
    expected = {
        "/v1/auth/eid",
        "/v1/materials",
        "/v1/applications",
        "/v1/applications/{application_id}",
        "/v1/applications/{application_id}/withdraw",
        "/v1/applications/{application_id}/supplements",
        "/v1/applications/{application_id}/originals-shipment",
        "/v1/applications/{application_id}/insurance-check",
        "/v1/applications/{application_id}/decisions",
        "/v1/applications/{application_id}/incidents/{incident_id}/resolution",
        "/v1/incidents",
        "/v1/documents/{document_id}",
        "/v1/documents/{document_id}/verify",
        "/v1/calendar/deadline",
        "/v1/callbacks/{source}",
        "/healthz",
        "/readyz",
        "/metrics",
    }
    assert expected <= paths(Settings(app_env="development"))
