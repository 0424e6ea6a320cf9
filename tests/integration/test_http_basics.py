"""HTTP conventions every route shares: problem+json, request ids, headers, limits, docs."""

from __future__ import annotations

from pathlib import Path

from dishka import Provider, Scope, provide
from litestar.testing import AsyncTestClient

from application.health.readiness import CheckReadiness, Readiness
from entrypoints.http.app import create_app
from entrypoints.settings import load_settings
from tests.conftest import make_settings
from tests.support.backends import Backend

NO_FILE = Path("/nonexistent.toml")


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    for key in ("type", "title", "detail", "timestamp"):
        assert body[key]
    return body


async def test_unknown_route_is_a_404_problem(client) -> None:
    assert_problem(await client.get("/api/v1/does-not-exist"), 404, "NOT_FOUND")


async def test_wrong_method_is_a_405_problem(client) -> None:
    assert_problem(await client.delete("/health/live"), 405, "METHOD_NOT_ALLOWED")


async def test_protected_route_without_credentials_is_a_401_problem(client) -> None:
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] in {"UNAUTHENTICATED", "TOKEN_INVALID"}


async def test_oversized_body_is_a_413_problem(client) -> None:
    body = b'{"email": "a@example.com", "password": "' + b"x" * 1_100_000 + b'"}'
    response = await client.post(
        "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")


async def test_malformed_json_is_a_400_problem(client) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "VALIDATION_ERROR")


async def test_security_headers_are_on_every_response(client) -> None:
    response = await client.get("/health/live")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["content-type"].startswith("application/json")


async def test_client_request_id_is_echoed_and_a_bad_one_replaced(client) -> None:
    good = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    bad = await client.get("/health/live", headers={"X-Request-ID": "<script>"})
    assert good.headers["x-request-id"] == "abc-123"
    assert bad.headers["x-request-id"] != "<script>"


async def test_openapi_schema_and_docs_are_served_in_development(client) -> None:
    schema = await client.get("/schema/openapi.json")
    docs = await client.get("/docs", follow_redirects=False)
    assert schema.status_code == 200
    assert "/health/ready" in schema.json()["paths"]
    assert docs.status_code in {200, 302}


async def test_production_hides_docs_and_schema() -> None:
    settings = load_settings(
        {"PARLEY_ENV": "production", "PARLEY_SECRET_KEY": "s" * 48, "PARLEY_DATA_DIR": "/tmp/x"},
        NO_FILE,
    )
    async with AsyncTestClient(app=create_app(settings)) as http:
        assert (await http.get("/schema/openapi.json")).status_code == 404
        assert (await http.get("/docs")).status_code == 404


class ExplodingReadiness(Provider):
    @provide(scope=Scope.APP, override=True)
    def readiness(self) -> CheckReadiness:
        class Boom(CheckReadiness):
            async def __call__(self) -> Readiness:
                raise RuntimeError("SELECT password_hash FROM users -- secret=hunter2")

        return Boom([])


async def test_unexpected_errors_are_500_without_internals(backend: Backend) -> None:
    app = create_app(make_settings(backend), ExplodingReadiness())
    async with AsyncTestClient(app=app) as http:
        response = await http.get("/health/ready")
    body = assert_problem(response, 500, "INTERNAL_ERROR")
    assert "SELECT" not in response.text and "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert body["detail"]


async def test_cors_allows_only_configured_origins(backend: Backend) -> None:
    settings = make_settings(backend, PARLEY_HTTP_CORS_ORIGINS="https://app.example")
    async with AsyncTestClient(app=create_app(settings)) as http:
        allowed = await http.get("/health/live", headers={"Origin": "https://app.example"})
        foreign = await http.get("/health/live", headers={"Origin": "https://evil.example"})
    assert allowed.headers.get("access-control-allow-origin") == "https://app.example"
    assert "access-control-allow-origin" not in foreign.headers
