"""Claiming a turn's positions with its prompt history (one round trip on PostgreSQL) says
the same as the claim followed by the history read, on both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from dishka import AsyncContainer
from httpx import AsyncClient

from application.ports.conversations import ConversationRepository
from application.ports.unit_of_work import UnitOfWorkFactory
from tests.integration.chat.support import API, new_conversation, sign_up


async def test_the_claim_returns_the_history_and_takes_two_positions(
    client: AsyncClient, container: AsyncContainer
) -> None:
    headers = await sign_up(client)
    owner = uuid.UUID((await client.get("/api/v1/auth/me", headers=headers)).json()["id"])
    conversation = await new_conversation(client, headers, system_prompt="Be brief.")
    cid = uuid.UUID(conversation["id"])
    for text in ("first question", "second question"):
        sent = await client.post(f"{API}/{cid}/messages", json={"content": text}, headers=headers)
        assert sent.status_code == 201, sent.text
    factory = await container.get(UnitOfWorkFactory)
    now = datetime.now(UTC)

    async with factory() as uow:
        expected = await uow.messages.prompt_history(cid, 3)
        claimed = await uow.conversations.claim_turn_with_history(
            cid, owner, 2, now, uow.messages, 3
        )
        assert claimed is not None
        found, history = claimed
        assert found.id == cid and found.system_prompt == "Be brief."
        assert found.message_count == 4, "returned as it was before the claim"
        assert history == expected
        assert [t.role for t in history] == ["assistant", "user", "assistant"]
        assert history[1].content == "second question"
        # The generic path (claim, then read) gives the same answer.
        generic = await ConversationRepository.claim_turn_with_history(
            uow.conversations, cid, owner, 2, now, uow.messages, 3
        )
        assert generic is not None
        assert generic[0].message_count == 6 and generic[1] == expected
        await uow.rollback()

    async with factory() as uow:
        assert await uow.conversations.claim_turn_with_history(
            cid, uuid.uuid4(), 2, now, uow.messages, 3
        ) is None, "not the owner's: nothing claimed, nothing read"  # fmt: skip
        kept = await uow.conversations.get(cid, owner)
        assert kept is not None and kept.message_count == 4
