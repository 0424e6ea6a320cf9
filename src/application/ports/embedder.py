"""The embedding port: text in, fixed-size vectors out (semantic search, /v1/embeddings)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Protocol

from domain.errors import InvalidInput, Unavailable, UpstreamError


class Embedder(Protocol):
    """Turns texts into vectors of length ``dim``; ``model`` names the embedding space.

    Two embedders with different ``model`` ids produce incomparable vectors even when their
    ``dim`` agrees, so stored vectors are tagged with ``model`` and never mixed.
    """

    dim: int
    model: str

    @abstractmethod
    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order. Raises the errors below, never library errors."""


class EmbedderUnavailable(Unavailable):
    code = "EMBEDDER_UNAVAILABLE"
    title = "Embedding service unavailable"


class EmbedderBadResponse(UpstreamError):
    """The embedding endpoint answered with vectors of the wrong number or size."""

    code = "EMBEDDER_BAD_RESPONSE"
    title = "Embedding service sent an invalid response"


class EmbedderRejectedInput(InvalidInput):
    code = "EMBEDDER_REJECTED_INPUT"
    title = "Embedding service rejected the input"
