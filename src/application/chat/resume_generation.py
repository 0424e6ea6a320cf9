"""Read a generation's events from after a given event id (streams and reconnects)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID

from application.ports.generation_log import (
    GenerationEvent,
    GenerationInfo,
    GenerationLog,
    parse_event_id,
)
from domain.messages import GenerationNotFound


@dataclass(frozen=True, slots=True)
class ResumeGenerationQuery:
    owner_id: UUID
    conversation_id: UUID | None
    """None: any of the owner's conversations (a WebSocket resume names only the generation)."""
    generation_id: UUID
    after: str | None = None
    """The last event id the client has; None: from the first event."""


class ResumeGeneration:
    """Business rules:
    - only the owner reads a generation, and only under its own conversation; anything
      else, like an unknown or expired generation, is "not found";
    - events come after ``after``, each once and in order, until the terminal event;
    - reading never affects the generation: a reader that leaves cancels nothing.
    """

    def __init__(self, log: GenerationLog) -> None:
        self._log = log

    async def __call__(self, query: ResumeGenerationQuery) -> AsyncIterator[GenerationEvent]:
        parse_event_id(query.after)
        await owned_generation(
            self._log, query.owner_id, query.conversation_id, query.generation_id
        )
        return self._log.read(query.generation_id, query.after)


async def owned_generation(
    log: GenerationLog, owner_id: UUID, conversation_id: UUID | None, generation_id: UUID
) -> GenerationInfo:
    info = await log.info(generation_id)
    if info is None or info.owner_id != owner_id:
        raise GenerationNotFound(f"generation {generation_id} not found")
    if conversation_id is not None and info.conversation_id != conversation_id:
        raise GenerationNotFound(f"generation {generation_id} not found")
    return info
