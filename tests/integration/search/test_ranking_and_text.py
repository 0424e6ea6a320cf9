"""Ranking sanity on the labelled corpus the tests ship, and full text on both engines."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from dishka import AsyncContainer

from application.ports.text_search import TextSearch
from application.ports.unit_of_work import UnitOfWorkFactory
from application.search.search_messages import SearchMessages, SearchMessagesQuery
from domain.messages import TokenUsage, pending_reply
from tests.integration.search.seeding import (
    add_messages,
    delete_conversation,
    new_conversation,
    new_user,
)

CORPUS = json.loads((Path(__file__).parents[2] / "data" / "search_corpus.json").read_text())


@pytest.fixture(scope="module")
async def corpus_owner(search_container: AsyncContainer) -> tuple[uuid.UUID, dict[uuid.UUID, str]]:
    owner = await new_user(search_container)
    conversation = await new_conversation(search_container, owner)
    documents = CORPUS["documents"]
    ids = await add_messages(search_container, owner, conversation, [d["text"] for d in documents])
    return owner, {i: d["topic"] for i, d in zip(ids, documents, strict=True)}


async def _topics(container, owner, topic_of, q: str, mode: str, limit: int) -> list[str]:
    async with container() as request:
        hits = await (await request.get(SearchMessages))(
            SearchMessagesQuery(owner, q, mode=mode, limit=limit)
        )
    return [topic_of[h.message.id] for h in hits]


@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
async def test_queries_find_their_topic_first(search_container, corpus_owner, mode: str) -> None:
    owner, topic_of = corpus_owner
    precision_at_3 = []
    for query in CORPUS["queries"]:
        topics = await _topics(search_container, owner, topic_of, query["q"], mode, 3)
        assert topics[0] == query["topic"], query["q"]
        precision_at_3.append(topics.count(query["topic"]) / 3)
    assert sum(precision_at_3) / len(precision_at_3) >= 0.85


async def test_text_search_requires_every_word_and_stems_them(
    search_container, corpus_owner
) -> None:
    owner, topic_of = corpus_owner
    text = await search_container.get(TextSearch)
    hits = await text.search(owner, "baked sourdough", 10)  # "baking" in the corpus
    assert hits
    assert {topic_of[h.message_id] for h in hits} == {"baking"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert await text.search(owner, "sourdough kubernetes", 10) == []


@pytest.mark.parametrize(
    "query", ['"unbalanced', "NEAR(a b)", "pod OR bread", "*", "col:value", "'; DROP TABLE x; --"]
)
async def test_text_search_treats_operators_and_quotes_as_plain_words(
    search_container, corpus_owner, query: str
) -> None:
    owner, _ = corpus_owner
    text = await search_container.get(TextSearch)
    hits = await text.search(owner, query, 10)  # no syntax error, whatever the engine
    assert isinstance(hits, list)


async def test_text_search_follows_a_reply_being_finished_and_deleted(search_container) -> None:
    owner = await new_user(search_container)
    conversation = await new_conversation(search_container, owner)
    reply = pending_reply(
        id=uuid.uuid4(),
        conversation_id=conversation,
        model="parley-fake",
        generation_id=uuid.uuid4(),
        now=datetime.now(UTC),
        position=1,
    )
    factory = await search_container.get(UnitOfWorkFactory)
    async with factory() as uow:
        await uow.messages.add(reply)
        await uow.commit()
    reply.complete("rhubarb compote with ginger", TokenUsage(3, 5), Decimal(0))
    async with factory() as uow:
        assert await uow.messages.finish(reply)  # an UPDATE of the content
        await uow.commit()
    text = await search_container.get(TextSearch)
    assert [h.message_id for h in await text.search(owner, "rhubarb ginger", 5)] == [reply.id]
    await delete_conversation(search_container, owner, conversation)  # cascades to messages
    assert await text.search(owner, "rhubarb ginger", 5) == []


async def test_matching_conversations_are_the_owners_best_first(search_container) -> None:
    owner, stranger = await new_user(search_container), await new_user(search_container)
    first = await new_conversation(search_container, owner)
    second = await new_conversation(search_container, owner)
    await add_messages(search_container, owner, first, ["lemon curd"], index=False)
    await add_messages(
        search_container, owner, second, ["lemon curd tart with lemon curd"], index=False
    )
    await add_messages(
        search_container,
        stranger,
        await new_conversation(search_container, stranger),
        ["lemon curd"],
        index=False,
    )
    text = await search_container.get(TextSearch)
    found = await text.matching_conversations(owner, "lemon curd", 10)
    assert set(found) == {first, second}
