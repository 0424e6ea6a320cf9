"""The official openai client against the real `parley serve` process (fake model)."""

from __future__ import annotations

import openai
import pytest

from tests.e2e.gateway_support import Account, openai_client, register_with_api_key
from tests.support.server import RunningServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def account(server: RunningServer) -> Account:
    return register_with_api_key(server.base_url)


@pytest.fixture(scope="module")
def client(server: RunningServer, account: Account) -> openai.OpenAI:
    return openai_client(server.base_url, account.api_key)


def test_models_lists_the_chat_and_embedding_models(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list().data]
    assert "parley-fake" in ids and len(ids) == 2


def test_a_completion_with_an_api_key(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="parley-fake", messages=[{"role": "user", "content": "ping pong"}]
    )
    assert completion.choices[0].message.content == "Echo: ping pong"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens == 3


def test_a_completion_with_a_jwt(server: RunningServer, account: Account) -> None:
    client = openai_client(server.base_url, account.access_token)
    completion = client.chat.completions.create(
        model="parley-fake", messages=[{"role": "user", "content": "jwt works"}]
    )
    assert completion.choices[0].message.content == "Echo: jwt works"


def test_a_streamed_completion_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="parley-fake",
        messages=[{"role": "user", "content": "stream me please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: stream me please"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4


def test_embeddings_through_the_client_default_base64_encoding(client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="default", input=["first text", "second text"])
    assert [d.index for d in result.data] == [0, 1]
    assert len(result.data[0].embedding) == 384
    norm = sum(v * v for v in result.data[0].embedding) ** 0.5
    assert norm == pytest.approx(1.0, abs=1e-3)


def test_a_wrong_key_raises_the_clients_authentication_error(server: RunningServer) -> None:
    client = openai_client(server.base_url, "pk_not_a_real_key")
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


def test_an_unknown_model_raises_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-7", messages=[{"role": "user", "content": "x"}])
    assert caught.value.code == "model_not_found"


def test_an_invalid_request_raises_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="parley-fake", messages=[{"role": "user", "content": "x"}], n=2
        )
