"""Import and export end to end: the real CLI and the real server on one database."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from tests.support.backends import Backend
from tests.support.cli import run_cli
from tests.support.server import RunningServer
from tests.unit.portability.exports import simple_chatgpt, write_json, write_zip

pytestmark = pytest.mark.e2e


def _account(server: RunningServer) -> tuple[str, dict[str, str]]:
    email = f"port-{uuid.uuid4().hex[:10]}@example.com"
    response = httpx.post(
        f"{server.base_url}/api/v1/auth/register",
        json={"email": email, "password": "correct horse battery staple"},
    )
    assert response.status_code == 201, response.text
    return email, {"Authorization": f"Bearer {response.json()['access_token']}"}


def _titles(server: RunningServer, headers: dict[str, str]) -> list[str]:
    listed = httpx.get(f"{server.base_url}/api/v1/conversations", headers=headers)
    return sorted(c["title"] for c in listed.json()["items"])


def test_cli_import_export_round_trip_seen_over_http(
    backend: Backend, server: RunningServer, tmp_path: Path
) -> None:
    alice, alice_headers = _account(server)
    broken = simple_chatgpt("broken")
    broken["mapping"] = 7
    export = write_zip(
        tmp_path / "chatgpt.zip",
        {
            "conversations-000.json": [simple_chatgpt("c1", title="Lisbon")],
            "conversations-001.json": [broken, simple_chatgpt("c2", title="Porto")],
        },
    )
    first = run_cli("import", str(export), "--user", alice, env=backend.env)
    assert first.returncode == 0, first.stderr
    assert "2 imported, 0 skipped, 1 failed" in first.stdout
    assert "failed    broken" in first.stdout
    second = run_cli("import", str(export), "--user", alice, env=backend.env)
    assert "0 imported, 2 skipped, 1 failed" in second.stdout
    assert _titles(server, alice_headers) == ["Lisbon", "Porto"]

    out = tmp_path / "alice.json"
    exported = run_cli("export", "--user", alice, "-o", str(out), env=backend.env)
    assert exported.returncode == 0, exported.stderr
    assert len(json.loads(out.read_text())["conversations"]) == 2

    bob, bob_headers = _account(server)
    copied = run_cli("import", str(out), "--user", bob, "--format", "parley", env=backend.env)
    assert "2 imported" in copied.stdout, copied.stdout + copied.stderr
    assert _titles(server, bob_headers) == ["Lisbon", "Porto"]

    # Bob's bulk delete cannot reach Alice's conversations.
    alice_ids = [
        c["id"]
        for c in httpx.get(f"{server.base_url}/api/v1/conversations", headers=alice_headers).json()[
            "items"
        ]
    ]
    bulk = httpx.post(
        f"{server.base_url}/api/v1/conversations/bulk",
        json={"action": "delete", "ids": alice_ids},
        headers=bob_headers,
    )
    assert {i["status"] for i in bulk.json()["items"]} == {"not_found"}
    assert _titles(server, alice_headers) == ["Lisbon", "Porto"]


def test_cli_import_of_an_empty_or_unknown_file_exits_with_its_code(
    backend: Backend, server: RunningServer, tmp_path: Path
) -> None:
    email, _ = _account(server)
    empty = run_cli(
        "import",
        str(write_json(tmp_path / "conversations.json", [])),
        "--user",
        email,
        env=backend.env,
    )
    assert empty.returncode == 3 and "IMPORT_EMPTY" in empty.stderr
    (tmp_path / "x.json").write_text('{"hello": 1}')
    unknown = run_cli("import", str(tmp_path / "x.json"), "--user", email, env=backend.env)
    assert unknown.returncode == 3 and "IMPORT_UNSUPPORTED" in unknown.stderr
