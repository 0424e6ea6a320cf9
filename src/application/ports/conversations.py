"""Chat repository ports: conversations and their messages.

Lookups that take an ``owner_id`` are owner-scoped: another user's conversation is simply
``None`` (callers report "not found", never "forbidden"). Cursors are opaque strings made and
read only by the repository; a malformed one raises ``domain.pagination.InvalidCursor``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Collection
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.context_window import Turn
from domain.conversations import Conversation, SourceRef
from domain.messages import Message, MessageStatus
from domain.pagination import Page


class ConversationRepository(Protocol):
    """A user's conversations."""

    @abstractmethod
    async def add(self, conversation: Conversation) -> None: ...

    @abstractmethod
    async def get(self, conversation_id: UUID, owner_id: UUID) -> Conversation | None: ...

    @abstractmethod
    async def page(
        self,
        owner_id: UUID,
        *,
        limit: int,
        cursor: str | None = None,
        query: str | None = None,
        archived: bool | None = None,
        message_matches: Collection[UUID] | None = None,
    ) -> Page[Conversation]:
        """Newest activity (``updated_at``) first. ``query``: case-insensitive substring of
        the title or of any message; ``archived``: only (un)archived ones, None: all.
        ``message_matches``: conversations whose messages matched ``query`` by full-text
        search; when given, it replaces the substring scan of messages."""

    @abstractmethod
    async def save(self, conversation: Conversation) -> None:
        """Store title, model, system prompt, archived flag and ``updated_at``."""

    @abstractmethod
    async def claim_turn(
        self, conversation_id: UUID, owner_id: UUID, added: int, now: datetime
    ) -> Conversation | None:
        """Atomically take the next ``added`` positions of the owner's conversation (concurrent
        sends never get the same ones) and move its ``updated_at`` to ``now`` (never back);
        return it as it was before, so its ``message_count`` is the first new position. None
        if it is not the owner's (or gone)."""

    async def turn_context(
        self,
        conversation_id: UUID,
        owner_id: UUID,
        messages: MessageRepository,
        history_limit: int,
    ) -> tuple[Conversation, list[Turn]] | None:
        """The owner's conversation and its prompt history as ``messages.prompt_history``
        gives it; None if it is not the owner's. Adapters that can read both in one round
        trip."""
        conversation = await self.get(conversation_id, owner_id)
        if conversation is None:
            return None
        return conversation, await messages.prompt_history(conversation.id, history_limit)

    async def store_turn(
        self,
        conversation: Conversation,
        user: Message,
        reply: Message,
        *,
        messages: MessageRepository,
        created: bool,
        title: str | None,
        now: datetime,
        lease_until: datetime,
    ) -> int | None:
        """Store a chat turn's two messages, all or nothing: with the new ``conversation``
        (``created``) at positions 0 and 1; else at the next two positions claimed as
        ``claim_turn`` does, naming the conversation ``title`` (when given) if it still has
        no message. Sets both messages' positions and returns the first; None if the
        conversation is gone. Adapters write it in one statement where the database allows,
        so the turn needs no transaction of its own (``lease_until`` is the reply's)."""
        if created:
            await self.add(conversation)
            first = 0
        else:
            claimed = await self.claim_turn(conversation.id, conversation.owner_id, 2, now)
            if claimed is None:
                return None
            first = claimed.message_count
            if title is not None and first == 0:
                claimed.title, claimed.message_count = title, first + 2
                await self.save(claimed)
        user.position, reply.position = first, first + 1
        await messages.add_turn(user, reply, lease_until=lease_until)
        return first

    @abstractmethod
    async def set_summary(self, conversation_id: UUID, owner_id: UUID, summary: str) -> bool:
        """Store a summarize job's result; False if the conversation is gone."""

    @abstractmethod
    async def retitle(self, conversation_id: UUID, owner_id: UUID, *, old: str, new: str) -> bool:
        """Replace the title only if it is still ``old`` (a rename by the owner wins)."""

    @abstractmethod
    async def delete(self, conversation_id: UUID, owner_id: UUID) -> bool:
        """Delete it and all its messages; False if there was nothing of this owner's."""

    @abstractmethod
    async def with_source(self, owner_id: UUID, source: SourceRef) -> UUID | None:
        """The owner's conversation imported from ``source``, if any (at most one exists)."""

    @abstractmethod
    async def with_sources(
        self, owner_id: UUID, sources: Collection[SourceRef]
    ) -> dict[SourceRef, UUID]:
        """Those of ``sources`` the owner already imported, with their conversations."""

    @abstractmethod
    async def add_imported(self, conversation: Conversation, messages: Collection[Message]) -> None:
        """A whole imported conversation, its finished messages included, in bulk."""

    @abstractmethod
    async def set_archived(
        self, owner_id: UUID, ids: Collection[UUID], archived: bool
    ) -> set[UUID]:
        """(Un)archive those of ``ids`` that are the owner's; the ids that were."""

    @abstractmethod
    async def delete_many(self, owner_id: UUID, ids: Collection[UUID]) -> set[UUID]:
        """Delete those of ``ids`` that are the owner's, with their messages; the ids that were."""


class MessageRepository(Protocol):
    """Messages of a conversation, ordered by their position in it."""

    @abstractmethod
    async def add(self, message: Message, *, lease_until: datetime | None = None) -> None:
        """``lease_until``: a ``streaming`` reply is presumed orphaned once its lease lapses."""

    async def add_turn(
        self, user: Message, reply: Message, *, lease_until: datetime | None = None
    ) -> None:
        """A chat turn's two messages (``lease_until`` is the reply's); adapters write them
        in one statement."""
        await self.add(user)
        await self.add(reply, lease_until=lease_until)

    async def prompt_history(self, conversation_id: UUID, limit: int) -> list[Turn]:
        """The newest ``limit`` messages worth sending in a prompt,
        oldest first: finished turns with text (a cancelled reply's partial text was seen,
        so it counts; failed and in-flight replies do not)."""
        usable = (MessageStatus.COMPLETE, MessageStatus.CANCELLED)
        newest = await self.recent(conversation_id, limit * 2)
        kept = [Turn(m.role.value, m.content) for m in newest if m.content and m.status in usable]
        return kept[-limit:]

    @abstractmethod
    async def get(self, message_id: UUID) -> Message | None: ...

    @abstractmethod
    async def page(
        self, conversation_id: UUID, *, limit: int, cursor: str | None = None
    ) -> Page[Message]:
        """Oldest first."""

    @abstractmethod
    async def recent(self, conversation_id: UUID, limit: int) -> list[Message]:
        """The newest ``limit`` messages, returned oldest first."""

    @abstractmethod
    async def finish(self, message: Message) -> bool:
        """Store a finished reply (content, status, usage, cost, error) only if the stored one
        is still ``streaming``; False if it was finished already or is gone."""

    @abstractmethod
    async def renew_leases(self, message_ids: Collection[UUID], until: datetime) -> None: ...

    @abstractmethod
    async def orphaned(self, now: datetime, limit: int) -> list[Message]:
        """``streaming`` replies whose lease lapsed before ``now`` (their process is gone)."""
