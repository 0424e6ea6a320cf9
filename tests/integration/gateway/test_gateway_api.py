"""The /v1 surface in-process, on both backends, with the fake model."""

from __future__ import annotations

import base64
import json
from array import array

from httpx import AsyncClient

from tests.integration.gateway.conftest import AUTH

CHAT = "/v1/chat/completions"


def body(content: str = "hello world", **extra: object) -> dict:
    return {"model": "parley-fake", "messages": [{"role": "user", "content": content}], **extra}


def events(text: str) -> list[str]:
    return [line[6:] for line in text.splitlines() if line.startswith("data: ")]


async def test_models_lists_the_chat_model_and_the_embedding_model(gateway: AsyncClient) -> None:
    response = await gateway.get("/v1/models", headers=AUTH)
    assert response.status_code == 200
    payload = response.json()
    ids = [m["id"] for m in payload["data"]]
    assert payload["object"] == "list" and "parley-fake" in ids and len(ids) == 2
    assert all(m["object"] == "model" and isinstance(m["created"], int) for m in payload["data"])


async def test_a_completion_has_openais_shape_and_the_fake_reply(gateway: AsyncClient) -> None:
    response = await gateway.post(CHAT, json=body(), headers=AUTH)
    assert response.status_code == 200
    payload = response.json()
    assert payload["object"] == "chat.completion" and payload["id"].startswith("chatcmpl-")
    assert payload["model"] == "parley-fake" and isinstance(payload["created"], int)
    choice = payload["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": "Echo: hello world"}
    assert choice["finish_reason"] == "stop"
    usage = payload["usage"]
    assert usage["completion_tokens"] == 3
    assert usage["total_tokens"] == usage["prompt_tokens"] + 3


async def test_a_stream_sends_chunks_then_usage_then_done(gateway: AsyncClient) -> None:
    request = body(stream=True, stream_options={"include_usage": True})
    response = await gateway.post(CHAT, json=request, headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    data = events(response.text)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Echo: hello world"
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 3


async def test_a_stream_without_include_usage_has_no_usage_chunk(gateway: AsyncClient) -> None:
    response = await gateway.post(CHAT, json=body(stream=True), headers=AUTH)
    chunks = [json.loads(d) for d in events(response.text)[:-1]]
    assert all(c["choices"] for c in chunks)


async def test_text_content_parts_are_joined(gateway: AsyncClient) -> None:
    parts = [{"type": "text", "text": "one "}, {"type": "text", "text": "two"}]
    request = {"model": "parley-fake", "messages": [{"role": "user", "content": parts}]}
    response = await gateway.post(CHAT, json=request, headers=AUTH)
    assert response.json()["choices"][0]["message"]["content"] == "Echo: one two"


async def test_max_tokens_is_capped_by_the_server(gateway: AsyncClient) -> None:
    long_prompt = " ".join(["word"] * 200)
    response = await gateway.post(CHAT, json=body(long_prompt, max_tokens=100_000), headers=AUTH)
    payload = response.json()
    assert payload["usage"]["completion_tokens"] == 64
    assert payload["choices"][0]["finish_reason"] == "length"


async def test_no_credentials_gives_401_in_openais_error_shape(gateway: AsyncClient) -> None:
    response = await gateway.post(CHAT, json=body())
    assert response.status_code == 401
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == "invalid_api_key"


async def test_an_unknown_model_gives_404_model_not_found(gateway: AsyncClient) -> None:
    response = await gateway.post(CHAT, json={**body(), "model": "gpt-9"}, headers=AUTH)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"


async def test_a_malformed_body_gives_400_in_openais_error_shape(gateway: AsyncClient) -> None:
    response = await gateway.post(CHAT, json={"model": "parley-fake"}, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_a_bad_role_and_n_above_one_are_refused(gateway: AsyncClient) -> None:
    bad_role = {"model": "parley-fake", "messages": [{"role": "wizard", "content": "x"}]}
    assert (await gateway.post(CHAT, json=bad_role, headers=AUTH)).status_code == 400
    response = await gateway.post(CHAT, json=body(n=3), headers=AUTH)
    assert response.status_code == 400 and response.json()["error"]["param"] == "n"


async def test_too_many_messages_are_refused(gateway: AsyncClient) -> None:
    messages = [{"role": "user", "content": "x"}] * 9
    request = {"model": "parley-fake", "messages": messages}
    assert (await gateway.post(CHAT, json=request, headers=AUTH)).status_code == 400


async def test_a_prompt_beyond_the_context_window_is_refused(gateway: AsyncClient) -> None:
    response = await gateway.post(CHAT, json=body("x" * 40_000), headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "context_length_exceeded"


async def test_an_oversized_body_gives_413(gateway: AsyncClient) -> None:
    response = await gateway.post(CHAT, json=body("x" * 70_000), headers=AUTH)
    assert response.status_code == 413
    assert "error" in response.json()


async def test_embeddings_by_alias_default_as_floats(gateway: AsyncClient) -> None:
    request = {"model": "default", "input": ["a cat", "a dog"], "encoding_format": "float"}
    response = await gateway.post("/v1/embeddings", json=request, headers=AUTH)
    assert response.status_code == 200
    payload = response.json()
    assert [d["index"] for d in payload["data"]] == [0, 1]
    assert len(payload["data"][0]["embedding"]) == 384
    assert payload["model"] != "default"


async def test_embeddings_as_base64_decode_to_the_same_floats(gateway: AsyncClient) -> None:
    floats = await gateway.post(
        "/v1/embeddings", json={"model": "default", "input": "same text"}, headers=AUTH
    )
    packed = await gateway.post(
        "/v1/embeddings",
        json={"model": "default", "input": "same text", "encoding_format": "base64"},
        headers=AUTH,
    )
    decoded = array("f", base64.b64decode(packed.json()["data"][0]["embedding"])).tolist()
    expected = floats.json()["data"][0]["embedding"]
    assert [round(v, 5) for v in decoded] == [round(v, 5) for v in expected]


async def test_embeddings_for_an_unknown_model_give_404(gateway: AsyncClient) -> None:
    request = {"model": "text-embedding-9", "input": "x"}
    response = await gateway.post("/v1/embeddings", json=request, headers=AUTH)
    assert response.status_code == 404 and response.json()["error"]["code"] == "model_not_found"


async def test_every_v1_route_is_in_the_openapi_schema(gateway: AsyncClient) -> None:
    response = await gateway.get("/schema/openapi.json")
    assert response.status_code == 200, response.text[:300]
    paths = response.json()["paths"]
    assert {"/v1/models", "/v1/chat/completions", "/v1/embeddings"} <= set(paths)


async def test_model_output_cannot_break_sse_framing(gateway: AsyncClient) -> None:
    hostile = 'x\n\ndata: [DONE]\n\nevent: error\ndata: {"injected": true}\r\n'
    response = await gateway.post(CHAT, json=body(hostile, stream=True), headers=AUTH)
    data = events(response.text)
    assert data.count("[DONE]") == 1 and data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "Echo: " + hostile.strip()
