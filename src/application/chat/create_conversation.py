"""Start a new conversation."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.chat.policy import ChatPolicy
from application.grounding.catalog import ContextSourceCatalog
from application.llm.router import LLMRouter
from application.ports.clock import Clock
from application.ports.ids import IdGenerator
from application.ports.unit_of_work import UnitOfWork
from domain.conversations import Conversation
from domain.messages import MessageTooLong


@dataclass(frozen=True, slots=True)
class CreateConversationCommand:
    owner_id: UUID
    title: str | None = None
    model: str | None = None
    system_prompt: str | None = None
    context_sources: tuple[str, ...] = ()


class CreateConversation:
    """Business rules:
    - the conversation belongs to the caller, for good;
    - the model must be configured (default: the catalog's default model);
    - no title: "New conversation", renamed after the first message;
    - the system prompt obeys the message size limit;
    - context sources must be configured on this server (an unknown name: 400).
    """

    def __init__(
        self,
        uow: UnitOfWork,
        router: LLMRouter,
        clock: Clock,
        ids: IdGenerator,
        policy: ChatPolicy,
        sources: ContextSourceCatalog = ContextSourceCatalog(),
    ) -> None:
        self._sources = sources
        self._uow = uow
        self._router = router
        self._clock = clock
        self._ids = ids
        self._policy = policy

    async def __call__(self, command: CreateConversationCommand) -> Conversation:
        check_system_prompt(command.system_prompt, self._policy)
        spec = self._router.resolve(command.model)
        context_sources = self._sources.check(command.context_sources)
        conversation = Conversation.start(
            id=self._ids.new_id(),
            owner_id=command.owner_id,
            model=spec.id,
            now=self._clock.now(),
            title=command.title,
            system_prompt=command.system_prompt,
            context_sources=context_sources,
        )
        async with self._uow as uow:
            await uow.conversations.add(conversation)
            await uow.commit()
        return conversation


def check_system_prompt(system_prompt: str | None, policy: ChatPolicy) -> None:
    if system_prompt is not None and len(system_prompt) > policy.max_message_chars:
        raise MessageTooLong(
            f"the system prompt is longer than {policy.max_message_chars} characters",
            details={"limit": policy.max_message_chars, "length": len(system_prompt)},
        )
