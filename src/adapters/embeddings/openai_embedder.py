"""Embeddings from any OpenAI-compatible endpoint (OpenAI, Azure, Ollama, vLLM, LM Studio).

Texts are sent in batches of ``batch_size``; the answer is checked (one vector per text,
each of ``dim`` floats) because a misconfigured model would otherwise poison the index
with vectors of another size. SDK errors become the embedder port's errors.
"""

from __future__ import annotations

from collections.abc import Sequence

import openai
from openai import AsyncOpenAI

from application.ports.embedder import (
    Embedder,
    EmbedderBadResponse,
    EmbedderRejectedInput,
    EmbedderUnavailable,
)


class OpenAIEmbedder(Embedder):
    """Calls ``POST {base_url}/embeddings`` through the openai SDK."""

    def __init__(self, client: AsyncOpenAI, *, model: str, dim: int, batch_size: int = 64) -> None:
        self._client = client
        self.model = model
        self.dim = dim
        self._batch_size = batch_size

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            vectors.extend(await self._embed_batch(texts[start : start + self._batch_size]))
        return vectors

    async def _embed_batch(self, batch: Sequence[str]) -> list[list[float]]:
        # An empty string is rejected by some servers; a single space embeds as "nothing".
        inputs = [text if text.strip() else " " for text in batch]
        try:
            response = await self._client.embeddings.create(
                model=self.model, input=inputs, encoding_format="float"
            )
        except openai.BadRequestError as exc:
            raise EmbedderRejectedInput(
                f"the embeddings endpoint refused the input ({exc.code})"
            ) from exc
        except (openai.APIConnectionError, openai.APITimeoutError, openai.RateLimitError) as exc:
            raise EmbedderUnavailable(
                f"embeddings endpoint unreachable ({type(exc).__name__})"
            ) from exc
        except openai.APIStatusError as exc:
            if exc.status_code >= 500:
                raise EmbedderUnavailable(
                    f"embeddings endpoint failed ({exc.status_code})"
                ) from exc
            raise EmbedderBadResponse(f"embeddings endpoint refused ({exc.status_code})") from exc
        except openai.OpenAIError as exc:
            raise EmbedderBadResponse(
                f"invalid embeddings response ({type(exc).__name__})"
            ) from exc
        data = sorted(response.data, key=lambda item: item.index)
        if len(data) != len(inputs):
            raise EmbedderBadResponse(f"asked for {len(inputs)} vectors, got {len(data)}")
        vectors = [list(item.embedding) for item in data]
        for vector in vectors:
            if len(vector) != self.dim:
                raise EmbedderBadResponse(
                    f"model {self.model} returned {len(vector)} dimensions, configured "
                    f"{self.dim}: set PARLEY_EMBEDDINGS_DIM={len(vector)} and run `parley reindex`"
                )
        return vectors
