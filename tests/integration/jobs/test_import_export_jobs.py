"""POST /api/v1/imports and the export job, run by the real job runner on both backends."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from tests.conftest import make_settings
from tests.integration.chat.support import in_loop_client
from tests.integration.jobs.support import submit, wait_for
from tests.support.backends import Backend
from tests.support.identity import register
from tests.unit.portability.exports import simple_chatgpt

IMPORTS = "/api/v1/imports"


def chatgpt_zip() -> bytes:
    broken = simple_chatgpt("broken")
    broken["mapping"] = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "conversations-000.json", json.dumps([simple_chatgpt("c1", title="Lisbon")])
        )
        archive.writestr(
            "conversations-001.json", json.dumps([broken, simple_chatgpt("c2", title="Porto")])
        )
    return buffer.getvalue()


async def upload(client, headers, content: bytes, name: str = "export.zip", **fields: str) -> dict:
    response = await client.post(
        IMPORTS, files={"file": (name, content)}, data=fields, headers=headers
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert (job["kind"], job["status"]) == ("import", "queued")
    return await wait_for(client, headers, job["id"])


async def test_an_uploaded_export_is_imported_by_a_job_and_again_skipped(jobs_client) -> None:
    me = await register(jobs_client, "upload")
    job = await upload(jobs_client, me.headers, chatgpt_zip())
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert (result["imported"], result["skipped"], result["failed"]) == (2, 0, 1)
    assert [(i["source_id"], i["status"]) for i in result["items"]] == [
        ("c1", "imported"),
        ("broken", "failed"),
        ("c2", "imported"),
    ]
    assert result["items"][0]["messages"] == 4 and result["items"][1]["error"]
    again = await upload(jobs_client, me.headers, chatgpt_zip(), format="chatgpt")
    assert [i["status"] for i in again["result"]["items"]] == ["skipped", "failed", "skipped"]
    listed = (await jobs_client.get("/api/v1/conversations", headers=me.headers)).json()
    assert sorted(c["title"] for c in listed["items"]) == ["Lisbon", "Porto"]


async def test_nothing_importable_or_unrecognised_fails_the_job_with_its_code(jobs_client) -> None:
    me = await register(jobs_client, "bad")
    empty = await upload(jobs_client, me.headers, b"[]", "conversations.json")
    assert (empty["status"], empty["error"]["code"]) == ("failed", "IMPORT_EMPTY")
    odd = await upload(jobs_client, me.headers, b'{"hello": 1}', "x.json")
    assert (odd["status"], odd["error"]["code"]) == ("failed", "IMPORT_UNSUPPORTED")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("conversations.json", b"[" + b" " * 20_000_000 + b"]")
    refused = await upload(jobs_client, me.headers, bomb.getvalue())
    assert (refused["status"], refused["error"]["code"]) == ("failed", "IMPORT_REFUSED")


async def test_an_import_job_needs_an_upload_of_your_own(jobs_client) -> None:
    me = await register(jobs_client, "nojob")
    for params in ({}, {"upload": "01a2311b-41a4-7f3d-b2f2-5c79467f082b"}, {"upload": "x"}):
        response = await jobs_client.post(
            "/api/v1/jobs", json={"kind": "import", "params": params}, headers=me.headers
        )
        assert response.status_code == 400, params
    bad_format = await jobs_client.post(
        IMPORTS, files={"file": ("c.json", b"[]")}, data={"format": "word"}, headers=me.headers
    )
    assert bad_format.status_code == 400


async def test_an_export_job_downloads_for_its_owner_only(jobs_client) -> None:
    alice, bob = await register(jobs_client, "alice"), await register(jobs_client, "bob")
    await jobs_client.post("/api/v1/conversations", json={"title": "Mine"}, headers=alice.headers)
    job = await wait_for(
        jobs_client, alice.headers, (await submit(jobs_client, alice.headers, "export"))["id"]
    )
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert result["conversations"] == 1 and result["bytes"] > 0
    assert result["download_url"] == f"/api/v1/exports/{job['id']}/download"
    own = await jobs_client.get(result["download_url"], headers=alice.headers)
    assert own.status_code == 200 and len(own.content) == result["bytes"]
    assert [c["title"] for c in own.json()["conversations"]] == ["Mine"]
    assert (await jobs_client.get(result["download_url"], headers=bob.headers)).status_code == 404
    theirs = (await jobs_client.get("/api/v1/conversations", headers=alice.headers)).json()[
        "items"
    ][0]
    refused = await jobs_client.post(
        "/api/v1/jobs",
        json={"kind": "export", "params": {"conversation_ids": [theirs["id"]]}},
        headers=bob.headers,
    )
    assert refused.status_code == 404


async def test_an_upload_over_the_limit_is_413_and_leaves_nothing(
    backend: Backend, tmp_path: Path
) -> None:
    from entrypoints.http.app import create_app

    database_url = make_settings(backend).database_url
    settings = make_settings(
        backend,
        PARLEY_IMPORT_MAX_BYTES="4096",
        PARLEY_DATA_DIR=str(tmp_path),
        PARLEY_DATABASE_URL=database_url,
    )
    async with in_loop_client(create_app(settings)) as http:
        me = await register(http, "big")
        response = await http.post(
            IMPORTS, files={"file": ("c.json", b"[" + b" " * 8000 + b"]")}, headers=me.headers
        )
        assert response.status_code == 413 and response.json()["code"] == "PAYLOAD_TOO_LARGE"
    uploads = tmp_path / "imports"
    assert not uploads.exists() or list(uploads.iterdir()) == []
