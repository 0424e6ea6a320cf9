"""The chat use cases wired to typed fakes and the in-process generation log."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID, uuid4

from adapters.memory.generation_log import MemoryGenerationLog
from adapters.system.tokenizer import EstimatingTokenizer
from application.caching.completion_cache import CompletionCache
from application.chat.cancel_generation import CancelGeneration
from application.chat.create_conversation import CreateConversation, CreateConversationCommand
from application.chat.generation import GenerationServices
from application.chat.generation_runner import GenerationRunner
from application.chat.message_saved_listener import MessageSavedListener
from application.chat.policy import ChatPolicy
from application.chat.recover_orphaned_generations import RecoverOrphanedGenerations
from application.chat.resume_generation import ResumeGeneration, ResumeGenerationQuery
from application.chat.send_message import SendMessage, SendMessageCommand, SentMessage
from application.ports.generation_log import GenerationEvent
from application.ports.turn_hooks import PromptStep, TurnListener
from domain.conversations import Conversation
from domain.messages import Message
from tests.unit.chat.fakes import (
    FakeRouter,
    FakeUnitOfWork,
    FakeUnitOfWorkFactory,
    FixedClock,
    RandomIds,
    RecordingHooks,
    Storage,
)


async def no_sleep(_: float) -> None:
    return None


@dataclass
class ChatWorld:
    router: FakeRouter = field(default_factory=FakeRouter)
    hooks: RecordingHooks = field(default_factory=RecordingHooks)
    policy: ChatPolicy = field(default_factory=lambda: ChatPolicy(max_message_chars=1000))
    storage: Storage = field(default_factory=Storage)
    log: MemoryGenerationLog = field(default_factory=MemoryGenerationLog)
    clock: FixedClock = field(default_factory=FixedClock)
    owner: UUID = field(default_factory=uuid4)
    cache: CompletionCache | None = None

    def __post_init__(self) -> None:
        self.uow_factory = FakeUnitOfWorkFactory(self.storage)
        self.use_seams()

    def use_seams(
        self, steps: tuple[PromptStep, ...] = (), listeners: tuple[TurnListener, ...] = ()
    ) -> None:
        """(Re)build the runner with these prompt steps and listeners after the indexing one."""
        self.services = GenerationServices(
            self.router,
            self.log,
            self.uow_factory,
            self.policy,
            prompt_steps=steps,
            listeners=(MessageSavedListener(self.hooks), *listeners),
            sleep=no_sleep,
            cache=self.cache,
        )
        self.runner = GenerationRunner(self.services, self.uow_factory, self.clock, self.policy)

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.storage)

    async def conversation(self, owner: UUID | None = None, **kwargs: str) -> Conversation:
        create = CreateConversation(self.uow(), self.router, self.clock, RandomIds(), self.policy)
        return await create(CreateConversationCommand(owner or self.owner, **kwargs))

    def send_message(self) -> SendMessage:
        return SendMessage(
            self.uow_factory,
            self.router,
            self.log,
            self.runner,
            EstimatingTokenizer(),
            self.clock,
            RandomIds(),
            self.policy,
        )

    async def send(
        self, conversation: Conversation, content: str = "Hi", **kw: object
    ) -> SentMessage:
        command = SendMessageCommand(self.owner, conversation.id, content, **kw)  # type: ignore[arg-type]
        return await self.send_message()(command)

    async def events(self, sent: SentMessage, after: str | None = None) -> list[GenerationEvent]:
        resume = ResumeGeneration(self.log)
        query = ResumeGenerationQuery(self.owner, sent.conversation.id, sent.generation_id, after)
        return [e async for e in await resume(query)]

    def cancel(self) -> CancelGeneration:
        return CancelGeneration(self.log, self.runner)

    def recover(self) -> RecoverOrphanedGenerations:
        return RecoverOrphanedGenerations(self.uow_factory, self.log, self.clock)

    def stored(self, message_id: UUID) -> Message:
        return self.storage.messages[message_id]
