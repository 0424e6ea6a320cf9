from __future__ import annotations

import httpx
import pytest

from tests.support.server import RunningServer

pytestmark = pytest.mark.e2e


def test_ready_reports_each_component_with_latency(server: RunningServer) -> None:
    response = httpx.get(f"{server.base_url}/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["database"]["latency_ms"] >= 0
    assert "cache" in body["components"]


def test_every_response_carries_a_request_id_and_echoes_the_clients(server: RunningServer) -> None:
    mine = httpx.get(f"{server.base_url}/health/live", headers={"X-Request-ID": "trace-42"})
    theirs = httpx.get(f"{server.base_url}/health/live")
    assert mine.headers["x-request-id"] == "trace-42"
    assert len(theirs.headers["x-request-id"]) >= 16


def test_unknown_route_is_problem_json_with_code(server: RunningServer) -> None:
    response = httpx.get(f"{server.base_url}/api/v1/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "NOT_FOUND"
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["timestamp"].endswith("Z")
