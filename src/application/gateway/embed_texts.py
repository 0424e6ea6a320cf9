"""EmbedTexts: vectors for the OpenAI-compatible /v1/embeddings route."""

from __future__ import annotations

from dataclasses import dataclass

from application.identity.principal import Principal
from application.ports.embedder import Embedder
from domain.catalog import ModelNotFound
from domain.errors import InvalidInput

DEFAULT_ALIAS = "default"


@dataclass(frozen=True, slots=True)
class EmbedTextsCommand:
    principal: Principal
    model: str
    texts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EmbeddedTexts:
    model: str
    vectors: list[list[float]]
    prompt_tokens: int


class EmbedTexts:
    """Business rules:
    - the model is the configured embedder's id or the alias ``default`` (else
      MODEL_NOT_FOUND); the reply names the embedder's real id;
    - 1..``max_inputs`` texts, none empty and none over ``max_chars``;
    - one vector per text, in order; nothing is stored.
    """

    def __init__(self, embedder: Embedder, max_inputs: int = 2048, max_chars: int = 32_000):
        self._embedder = embedder
        self._max_inputs = max_inputs
        self._max_chars = max_chars

    @property
    def model(self) -> str:
        return self._embedder.model

    async def __call__(self, command: EmbedTextsCommand) -> EmbeddedTexts:
        if command.model not in (self._embedder.model, DEFAULT_ALIAS):
            raise ModelNotFound(f"embedding model {command.model[:100]!r} is not configured")
        texts = command.texts
        if not texts or len(texts) > self._max_inputs:
            raise InvalidInput(
                f"input must hold 1 to {self._max_inputs} texts", details={"param": "input"}
            )
        if any(not t or len(t) > self._max_chars for t in texts):
            raise InvalidInput(
                f"each input must be 1 to {self._max_chars} characters",
                details={"param": "input"},
            )
        vectors = await self._embedder.embed(texts)
        tokens = sum(len(t) // 4 + 1 for t in texts)
        return EmbeddedTexts(self._embedder.model, vectors, tokens)
