"""The import upload receiver: streamed to disk, 413 as soon as the limit is passed (R13, R28).

Exercised through a small Litestar app with the same route settings the imports route uses
(Litestar's own body limit lifted, ours enforced while the bytes arrive).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from litestar import Litestar, Request, post
from litestar.testing import AsyncTestClient, TestClient

from entrypoints.http.problems import EXCEPTION_HANDLERS
from entrypoints.http.uploads import receive_upload

LIMIT = 64 * 1024


def make_app(directory: Path) -> Litestar:
    @post("/upload", request_max_body_size=None, status_code=200)
    async def upload(request: Request[Any, Any, Any]) -> dict[str, Any]:
        got = await receive_upload(request, limit=LIMIT, path=directory / f"{uuid4().hex}.upload")
        return {
            "bytes": got.bytes,
            "filename": got.filename,
            "fields": got.fields,
            "path": str(got.path),
        }

    return Litestar([upload], exception_handlers=EXCEPTION_HANDLERS)


@pytest.fixture
async def http(tmp_path: Path):
    async with AsyncTestClient(app=make_app(tmp_path)) as client:
        yield client


async def test_a_file_is_written_under_an_id_with_the_other_fields(http, tmp_path: Path) -> None:
    body = b"[" + b" " * 5000 + b"]"
    response = await http.post(
        "/upload",
        files={"file": ("../../etc/conversations.json", body)},
        data={"format": "chatgpt"},
    )
    assert response.status_code == 200, response.text
    got = response.json()
    assert (got["bytes"], got["fields"]) == (len(body), {"format": "chatgpt"})
    path = Path(got["path"])
    assert path.parent == tmp_path and path.name.endswith(".upload")  # never the client's name
    assert path.read_bytes() == body


async def test_a_declared_or_streamed_body_over_the_limit_is_413(http, tmp_path: Path) -> None:
    big = b"x" * (LIMIT + 1)
    declared = await http.post("/upload", files={"file": ("c.json", big)})
    assert declared.status_code == 413 and declared.json()["code"] == "PAYLOAD_TOO_LARGE"

    def chunks():
        for _ in range(4):
            yield b"x" * (LIMIT // 2)

    # No Content-Length (chunked): the limit is caught while the bytes arrive.
    with TestClient(app=make_app(tmp_path)) as sync_http:
        streamed = sync_http.post(
            "/upload",
            content=chunks(),
            headers={"Content-Type": "multipart/form-data; boundary=zzz"},
        )
    assert streamed.status_code == 413
    assert list(tmp_path.iterdir()) == []  # the partial file is gone


async def test_no_file_or_not_multipart_is_a_400(http) -> None:
    assert (await http.post("/upload", data={"format": "x"})).status_code == 400
    assert (await http.post("/upload", json={"file": "x"})).status_code == 400


async def test_a_form_over_the_part_limit_or_with_undecodable_headers_is_a_400(
    http, tmp_path: Path
) -> None:
    many = {f"field{i}": "x" for i in range(12)}  # more parts than a form of ours ever has
    crowded = await http.post("/upload", files={"file": ("c.json", b"[]")}, data=many)
    assert crowded.status_code == 400 and crowded.json()["code"] == "VALIDATION_ERROR"
    boundary = "b0undary"
    garbled = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="'.encode()
        + b"\xc4\xf1"
        + f'"\r\n\r\nx\r\n--{boundary}--\r\n'.encode()
    )
    refused = await http.post(
        "/upload",
        content=garbled,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert refused.status_code == 400 and refused.json()["code"] == "VALIDATION_ERROR"
    assert list(tmp_path.iterdir()) == []
