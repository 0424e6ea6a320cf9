"""Rename, re-model, re-prompt or (un)archive one of the caller's conversations."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from msgspec import UNSET, UnsetType

from application.chat.create_conversation import check_system_prompt
from application.chat.get_conversation import owned_conversation
from application.chat.policy import ChatPolicy
from application.grounding.catalog import ContextSourceCatalog
from application.llm.router import LLMRouter
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork
from domain.conversations import Conversation


@dataclass(frozen=True, slots=True)
class UpdateConversationCommand:
    """Fields left ``UNSET`` are not changed; ``system_prompt=None`` removes the prompt."""

    owner_id: UUID
    conversation_id: UUID
    title: str | UnsetType = UNSET
    model: str | UnsetType = UNSET
    system_prompt: str | UnsetType | None = UNSET
    archived: bool | UnsetType = UNSET
    context_sources: tuple[str, ...] | UnsetType = UNSET
    """Replaces the list; ``()`` stops grounding."""


class UpdateConversation:
    """Business rules:
    - only the owner may change it (anyone else: "not found");
    - the title must not be blank, the model must be configured, the system prompt obeys
      the message size limit;
    - context sources must be configured on this server (an unknown name: 400);
    - owner, ids, counts and timestamps are never client-settable.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        router: LLMRouter,
        clock: Clock,
        policy: ChatPolicy,
        sources: ContextSourceCatalog = ContextSourceCatalog(),
    ) -> None:
        self._sources = sources
        self._uow = uow
        self._router = router
        self._clock = clock
        self._policy = policy

    async def __call__(self, command: UpdateConversationCommand) -> Conversation:
        model = None if command.model is UNSET else self._router.resolve(command.model).id
        if not isinstance(command.system_prompt, UnsetType):
            check_system_prompt(command.system_prompt, self._policy)
        sources = None
        if not isinstance(command.context_sources, UnsetType):
            sources = self._sources.check(command.context_sources)
        async with self._uow as uow:
            conversation = await owned_conversation(uow, command.owner_id, command.conversation_id)
            if not isinstance(command.title, UnsetType):
                conversation.rename(command.title)
            if model is not None:
                conversation.model = model
            if not isinstance(command.system_prompt, UnsetType):
                conversation.system_prompt = command.system_prompt or None
            if not isinstance(command.archived, UnsetType):
                conversation.archived = command.archived
            if sources is not None:
                conversation.context_sources = sources
            conversation.touch(self._clock.now())
            await uow.conversations.save(conversation)
            await uow.commit()
        return conversation
