"""A local, deterministic embedder: signed feature hashing of words and character n-grams.

How a text becomes a vector (the "hashing trick"):
1. Lower-case it and split it into words (Unicode ``\\w+``); very common English words
   ("the", "is", ...) are dropped because they say nothing about the topic.
2. Features: every word (weight 1.0) and every character trigram of the word padded
   with ``<`` and ``>`` (weight 0.3), so "cooking" and "cook" share ``<co``, ``coo``,
   ``ook`` and typos still land close.
3. Each feature (tagged ``w:`` or ``g:`` so the word "cat" and the trigram "cat" differ) is
   hashed with BLAKE2b (stable across processes, unlike ``hash()``) to
   a slot in ``[0, dim)`` and a sign; the weight is added to that slot with that sign.
   Signed hashing makes collisions cancel out on average instead of piling up.
4. The vector is L2-normalised, so the dot product of two vectors is their cosine.

No downloads, no model files, ~0.1 ms per short text. It knows spelling, not meaning
("car" and "automobile" are unrelated to it); point ``PARLEY_EMBEDDINGS_PROVIDER=openai``
at a real embedding model for that. The model id carries the algorithm version and the
dimension, so vectors from another version or size are never mixed with these.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from collections.abc import Sequence
from functools import lru_cache

from application.ports.embedder import Embedder

ALGORITHM_VERSION = "v1"
WORD_WEIGHT = 1.0
TRIGRAM_WEIGHT = 0.3
# Above this many texts, hashing moves to a thread so it never stalls the event loop.
THREAD_THRESHOLD = 32

_WORD = re.compile(r"\w+")
_STOP_WORDS_TEXT = """a an and are as at be but by can do does for from had has have how i if in
into is it its me my of on or our so than that the their them then there these they this to was
we were what when where which who why will with you your"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


class HashingEmbedder(Embedder):
    """Deterministic local embedder; see the module docstring for the algorithm."""

    def __init__(self, dim: int = 384) -> None:
        if dim < 16:
            raise ValueError("the hashing embedder needs at least 16 dimensions")
        self.dim = dim
        self.model = f"parley-hashing-{ALGORITHM_VERSION}-{dim}"

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if len(texts) > THREAD_THRESHOLD:
            return await asyncio.to_thread(self.embed_sync, texts)
        return self.embed_sync(texts)

    def embed_sync(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._embed_one(text) for text in texts]

    def _embed_one(self, text: str) -> list[float]:
        vector = [0.0] * self.dim
        for word in _WORD.findall(text.lower()):
            if word in STOP_WORDS:
                continue
            slot, sign = _slot("w:" + word, self.dim)
            vector[slot] += sign * WORD_WEIGHT
            padded = f"<{word}>"
            for start in range(len(padded) - 2):
                slot, sign = _slot("g:" + padded[start : start + 3], self.dim)
                vector[slot] += sign * TRIGRAM_WEIGHT
        norm = math.sqrt(sum(v * v for v in vector))
        if norm == 0.0:
            return vector  # no features (empty or only stop words): the zero vector
        return [v / norm for v in vector]


@lru_cache(maxsize=200_000)
def _slot(feature: str, dim: int) -> tuple[int, float]:
    digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    return (digest >> 1) % dim, (1.0 if digest & 1 else -1.0)
