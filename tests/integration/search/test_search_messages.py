"""SearchMessages and SimilarPrompts on real storage: isolation, deletion, filters, modes."""

from __future__ import annotations

import uuid

import pytest
from dishka import AsyncContainer

from application.search.search_messages import SearchMessages, SearchMessagesQuery
from application.search.similar_prompts import SimilarPrompts, SimilarPromptsQuery
from domain.conversations import ConversationNotFound
from tests.integration.search.seeding import (
    add_messages,
    delete_conversation,
    new_conversation,
    new_user,
)


async def _search(container: AsyncContainer, owner: uuid.UUID, q: str, **kwargs):
    async with container() as request:
        use_case = await request.get(SearchMessages)
        return await use_case(SearchMessagesQuery(owner, q, **kwargs))


async def _similar(container: AsyncContainer, owner: uuid.UUID, q: str, limit: int = 5):
    async with container() as request:
        return await (await request.get(SimilarPrompts))(SimilarPromptsQuery(owner, q, limit))


@pytest.mark.parametrize("mode", ["semantic", "text", "hybrid"])
async def test_a_user_never_finds_another_users_messages(
    search_container: AsyncContainer, mode: str
) -> None:
    alice, bob = await new_user(search_container), await new_user(search_container)
    text = f"the secret marmalade recipe {mode}"
    await add_messages(
        search_container, alice, await new_conversation(search_container, alice), [text]
    )
    bob_ids = await add_messages(
        search_container, bob, await new_conversation(search_container, bob), [text]
    )
    hits = await _search(search_container, bob, "secret marmalade recipe", mode=mode)
    assert [h.message.id for h in hits] == bob_ids
    assert await _search(search_container, uuid.uuid4(), "secret marmalade", mode=mode) == []


async def test_semantic_scores_are_cosine_similarities_best_first(
    search_container: AsyncContainer,
) -> None:
    owner = await new_user(search_container)
    conversation = await new_conversation(search_container, owner)
    ids = await add_messages(
        search_container,
        owner,
        conversation,
        ["watering tomato plants in the garden", "kubernetes pod restarts", "tomato garden soil"],
    )
    hits = await _search(
        search_container, owner, "watering tomato plants in the garden", mode="semantic"
    )
    assert hits[0].message.id == ids[0]
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].message.content == "watering tomato plants in the garden"


async def test_deleting_a_conversation_removes_its_results_at_once(
    search_container: AsyncContainer,
) -> None:
    owner = await new_user(search_container)
    doomed = await new_conversation(search_container, owner)
    kept = await new_conversation(search_container, owner)
    await add_messages(search_container, owner, doomed, ["zeppelin hangar maintenance"])
    kept_ids = await add_messages(search_container, owner, kept, ["zeppelin hangar doors"])
    await delete_conversation(search_container, owner, doomed)
    for mode in ("semantic", "text", "hybrid"):
        hits = await _search(search_container, owner, "zeppelin hangar", mode=mode)
        assert [h.message.id for h in hits] == kept_ids, mode


async def test_the_conversation_filter_keeps_only_that_conversation(
    search_container: AsyncContainer,
) -> None:
    owner = await new_user(search_container)
    first = await new_conversation(search_container, owner)
    second_id = await new_conversation(search_container, owner)
    await add_messages(search_container, owner, first, ["quince jam with cardamom"])
    wanted = await add_messages(search_container, owner, second_id, ["quince jam with vanilla"])
    for mode in ("semantic", "text", "hybrid"):
        hits = await _search(
            search_container, owner, "quince jam", mode=mode, conversation_id=second_id
        )
        assert [h.message.id for h in hits] == wanted, mode


async def test_filtering_by_someone_elses_conversation_is_not_found(
    search_container: AsyncContainer,
) -> None:
    alice, bob = await new_user(search_container), await new_user(search_container)
    alices = await new_conversation(search_container, alice)
    with pytest.raises(ConversationNotFound):
        await _search(search_container, bob, "anything", conversation_id=alices)


async def test_limit_is_honoured_and_capped(search_container: AsyncContainer) -> None:
    owner = await new_user(search_container)
    conversation = await new_conversation(search_container, owner)
    await add_messages(
        search_container, owner, conversation, [f"walrus fact number {i}" for i in range(12)]
    )
    assert len(await _search(search_container, owner, "walrus fact", mode="semantic", limit=5)) == 5
    assert len(await _search(search_container, owner, "walrus fact", limit=1000)) == 12


async def test_similar_prompts_are_only_the_callers_prompts_best_first(
    search_container: AsyncContainer,
) -> None:
    owner, other = await new_user(search_container), await new_user(search_container)
    conversation = await new_conversation(search_container, owner)
    prompts = await add_messages(
        search_container,
        owner,
        conversation,
        ["how to repot an orchid", "orchid with yellow leaves", "renew my passport"],
    )
    await add_messages(
        search_container, owner, conversation, ["repot the orchid in bark"], role="assistant"
    )
    await add_messages(
        search_container,
        other,
        await new_conversation(search_container, other),
        ["repot an orchid"],
    )
    hits = await _similar(search_container, owner, "repot an orchid", limit=2)
    assert [h.message.id for h in hits] == prompts[:2]
    assert all(h.message.role.value == "user" for h in hits)
    assert hits[0].score > hits[1].score > 0
