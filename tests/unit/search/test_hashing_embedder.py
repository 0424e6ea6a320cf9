"""The local hashing embedder: deterministic, normalised, topic-sensitive."""

from __future__ import annotations

import math

from adapters.embeddings.hashing import HashingEmbedder


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_the_same_text_always_gives_the_same_vector_even_in_a_new_instance() -> None:
    first = (await HashingEmbedder(384).embed(["Sourdough bread needs a lively starter"]))[0]
    second = (await HashingEmbedder(384).embed(["Sourdough bread needs a lively starter"]))[0]
    assert first == second


async def test_vectors_have_the_configured_dimension_and_unit_length() -> None:
    embedder = HashingEmbedder(128)
    vectors = await embedder.embed(["a cat", "Kubernetes pods keep restarting", "héllo wörld"])
    assert embedder.dim == 128
    for vector in vectors:
        assert len(vector) == 128
        assert math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0, rel_tol=1e-9)


async def test_text_without_features_embeds_as_the_zero_vector() -> None:
    (vector,) = await HashingEmbedder(64).embed(["the of and ... !!"])
    assert vector == [0.0] * 64


async def test_related_texts_are_closer_than_unrelated_ones() -> None:
    query, related, unrelated = await HashingEmbedder(384).embed(
        [
            "how do I bake sourdough bread",
            "my sourdough loaf did not rise while baking",
            "configure a python virtual environment",
        ]
    )
    assert _cosine(query, related) > _cosine(query, unrelated) + 0.2


async def test_word_variants_share_character_ngrams() -> None:
    cooking, cook, guitar = await HashingEmbedder(384).embed(["cooking", "cook", "guitar"])
    assert _cosine(cooking, cook) > 0.15
    assert abs(_cosine(cooking, guitar)) < 0.2


async def test_model_id_names_algorithm_and_dimension_so_spaces_never_mix() -> None:
    assert HashingEmbedder(384).model != HashingEmbedder(256).model
    assert "384" in HashingEmbedder(384).model


async def test_large_batches_are_embedded_in_order() -> None:
    embedder = HashingEmbedder(64)
    texts = [f"message number {i}" for i in range(100)]
    batched = await embedder.embed(texts)
    one_by_one = [(await embedder.embed([t]))[0] for t in texts]
    assert batched == one_by_one
