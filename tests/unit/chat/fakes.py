"""Typed fakes for the chat use cases: each subclasses the port it stands in for."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from application.llm.router import LLMRouter, RoutedChunk
from application.ports.conversations import ConversationRepository, MessageRepository
from application.ports.llm import ChatMessage, Chunk, Usage
from application.ports.message_hooks import MessageHooks
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.catalog import ModelCatalog, ModelSpec
from domain.conversations import Conversation, SourceRef
from domain.errors import DomainError
from domain.messages import Message, MessageStatus
from domain.pagination import Page
from tests.support.clock_ids import ManualClock, RandomIds
from tests.support.fake_uow import DirectUnitOfWork

__all__ = ["RandomIds"]


class FixedClock(ManualClock):
    """Each reading is a microsecond after the last (messages keep their order)."""

    def __init__(self) -> None:
        super().__init__(datetime(2026, 1, 1, tzinfo=UTC), tick=timedelta(microseconds=1))


@dataclass
class Storage:
    conversations: dict[UUID, Conversation] = field(default_factory=dict)
    messages: dict[UUID, Message] = field(default_factory=dict)
    leases: dict[UUID, datetime | None] = field(default_factory=dict)
    commits: int = 0


class FakeConversations(ConversationRepository):
    def __init__(self, storage: Storage) -> None:
        self.s = storage

    async def add(self, conversation: Conversation) -> None:
        self.s.conversations[conversation.id] = dataclasses.replace(conversation)

    async def get(self, conversation_id: UUID, owner_id: UUID) -> Conversation | None:
        found = self.s.conversations.get(conversation_id)
        return dataclasses.replace(found) if found and found.owner_id == owner_id else None

    async def page(
        self,
        owner_id: UUID,
        *,
        limit: int,
        cursor: str | None = None,
        query: str | None = None,
        archived: bool | None = None,
    ) -> Page[Conversation]:
        mine = [c for c in self.s.conversations.values() if c.owner_id == owner_id]
        mine.sort(key=lambda c: c.updated_at, reverse=True)
        return Page(mine[:limit], None)

    async def save(self, conversation: Conversation) -> None:
        self.s.conversations[conversation.id] = dataclasses.replace(conversation)

    async def claim_turn(
        self, conversation_id: UUID, owner_id: UUID, added: int, now: datetime
    ) -> Conversation | None:
        stored = self.s.conversations.get(conversation_id)
        if stored is None or stored.owner_id != owner_id:
            return None
        stored.touch(now)
        before = dataclasses.replace(stored)
        stored.message_count += added
        return before

    async def set_summary(self, conversation_id: UUID, owner_id: UUID, summary: str) -> bool:
        found = self.s.conversations.get(conversation_id)
        if found is None or found.owner_id != owner_id:
            return False
        found.summary = summary
        return True

    async def retitle(self, conversation_id: UUID, owner_id: UUID, *, old: str, new: str) -> bool:
        found = self.s.conversations.get(conversation_id)
        if found is None or found.owner_id != owner_id or found.title != old:
            return False
        found.title = new
        return True

    async def delete(self, conversation_id: UUID, owner_id: UUID) -> bool:
        if await self.get(conversation_id, owner_id) is None:
            return False
        del self.s.conversations[conversation_id]
        for mid in [m.id for m in self.s.messages.values() if m.conversation_id == conversation_id]:
            del self.s.messages[mid]
        return True

    async def with_source(self, owner_id: UUID, source: SourceRef) -> UUID | None:
        for c in self.s.conversations.values():
            if c.owner_id == owner_id and c.source == source:
                return c.id
        return None

    async def with_sources(
        self, owner_id: UUID, sources: Collection[SourceRef]
    ) -> dict[SourceRef, UUID]:
        return {s: cid for s in sources if (cid := await self.with_source(owner_id, s))}

    async def add_imported(self, conversation: Conversation, messages: Collection[Message]) -> None:
        await self.add(conversation)
        for message in messages:
            self.s.messages[message.id] = dataclasses.replace(message)

    async def set_archived(
        self, owner_id: UUID, ids: Collection[UUID], archived: bool
    ) -> set[UUID]:
        done = set()
        for cid in ids:
            found = await self.get(cid, owner_id)
            if found is not None:
                found.archived = archived
                await self.save(found)
                done.add(cid)
        return done

    async def delete_many(self, owner_id: UUID, ids: Collection[UUID]) -> set[UUID]:
        return {cid for cid in ids if await self.delete(cid, owner_id)}


class FakeMessages(MessageRepository):
    def __init__(self, storage: Storage) -> None:
        self.s = storage

    async def add(self, message: Message, *, lease_until: datetime | None = None) -> None:
        self.s.messages[message.id] = dataclasses.replace(message)
        self.s.leases[message.id] = lease_until

    async def get(self, message_id: UUID) -> Message | None:
        found = self.s.messages.get(message_id)
        return dataclasses.replace(found) if found else None

    async def page(
        self, conversation_id: UUID, *, limit: int, cursor: str | None = None
    ) -> Page[Message]:
        return Page((await self.recent(conversation_id, 10_000))[:limit], None)

    async def recent(self, conversation_id: UUID, limit: int) -> list[Message]:
        mine = [m for m in self.s.messages.values() if m.conversation_id == conversation_id]
        mine.sort(key=lambda m: m.position)
        return [dataclasses.replace(m) for m in mine[-limit:]]

    async def finish(self, message: Message) -> bool:
        stored = self.s.messages.get(message.id)
        if stored is None or stored.status is not MessageStatus.STREAMING:
            return False
        self.s.messages[message.id] = dataclasses.replace(message)
        self.s.leases[message.id] = None
        return True

    async def renew_leases(self, message_ids: Collection[UUID], until: datetime) -> None:
        for mid in message_ids:
            self.s.leases[mid] = until

    async def orphaned(self, now: datetime, limit: int) -> list[Message]:
        return [
            dataclasses.replace(m)
            for m in self.s.messages.values()
            if m.status is MessageStatus.STREAMING
            and (self.s.leases.get(m.id) is None or self.s.leases[m.id] < now)  # type: ignore[operator]
        ][:limit]


class FakeUnitOfWork(DirectUnitOfWork):
    """Changes are applied directly (the fakes copy on read and write, like rows)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.conversations = FakeConversations(storage)
        self.messages = FakeMessages(storage)

    async def commit(self) -> None:
        self.storage.commits += 1


class FakeUnitOfWorkFactory(UnitOfWorkFactory):
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def __call__(self) -> UnitOfWork:
        return FakeUnitOfWork(self.storage)


@dataclass
class Script:
    """What the fake model does for one call: stream ``pieces``, then fail with ``error``;
    ``gate`` (if set) must be released before each piece after the first."""

    pieces: tuple[str, ...] = ("Hello", " world")
    error: DomainError | None = None
    usage: Usage | None = None
    gate: asyncio.Event | None = None
    model_id: str | None = None


SPEC = ModelSpec(
    id="m1",
    provider="p",
    upstream_model="m1-up",
    context_window=4096,
    max_output_tokens=512,
    input_price_per_million=Decimal("2"),
    output_price_per_million=Decimal("10"),
)


class FakeRouter(LLMRouter):
    """An LLMRouter with no providers behind it: it plays ``scripts``, one per call."""

    def __init__(self, *scripts: Script, specs: Sequence[ModelSpec] = (SPEC,)) -> None:
        super().__init__({}, ModelCatalog(tuple(specs), specs[0].id))
        self.scripts = list(scripts)
        self.calls: list[tuple[ModelSpec, list[ChatMessage], int]] = []

    async def stream(  # type: ignore[override]
        self,
        spec: ModelSpec,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[RoutedChunk]:
        self.calls.append((spec, list(messages), max_tokens))
        script = self.scripts.pop(0) if self.scripts else Script()
        model_id = script.model_id or spec.id
        for index, piece in enumerate(script.pieces):
            if script.gate is not None and index > 0:
                await script.gate.wait()
                script.gate.clear()
            await asyncio.sleep(0)
            yield RoutedChunk(Chunk(delta=piece), model_id)
        if script.error is not None:
            raise script.error
        yield RoutedChunk(Chunk(finish_reason="stop", usage=script.usage), model_id)


@dataclass
class Saved:
    message_id: UUID
    role: str
    content: str


class RecordingHooks(MessageHooks):
    def __init__(self, fail: bool = False) -> None:
        self.saved: list[Saved] = []
        self.deleted: list[UUID] = []
        self.fail = fail

    async def message_saved(
        self, *, message_id: UUID, conversation_id: UUID, owner_id: UUID, role: str, content: str
    ) -> None:
        self.saved.append(Saved(message_id, role, content))
        if self.fail:
            raise RuntimeError("index is down")

    async def conversation_deleted(self, *, conversation_id: UUID, owner_id: UUID) -> None:
        self.deleted.append(conversation_id)
        if self.fail:
            raise RuntimeError("index is down")
