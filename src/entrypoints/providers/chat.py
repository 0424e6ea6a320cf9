"""Chat wiring: generation log (in-process or Redis Streams), runner, use cases.

The runner is APP-scoped: generations belong to the process, not to a request. Closing the
container stops it gracefully (the HTTP app does so earlier, in its shutdown hook).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, decorate, provide, provide_all

from adapters.memory.generation_log import MemoryGenerationLog
from adapters.system.tokenizer import EstimatingTokenizer
from application.admission import TurnAdmission
from application.caching.completion_cache import CompletionCache
from application.chat.cancel_generation import CancelGeneration
from application.chat.create_conversation import CreateConversation
from application.chat.delete_conversation import DeleteConversation
from application.chat.generation import GenerationServices
from application.chat.generation_runner import GenerationRunner
from application.chat.get_conversation import GetConversation
from application.chat.health import TurnsProbe
from application.chat.list_conversations import ListConversations
from application.chat.list_messages import ListMessages
from application.chat.message_saved_listener import MessageSavedListener
from application.chat.policy import ChatPolicy
from application.chat.recover_orphaned_generations import RecoverOrphanedGenerations
from application.chat.resume_generation import ResumeGeneration
from application.chat.send_message import SendMessage
from application.chat.update_conversation import UpdateConversation
from application.health.readiness import HealthProbe
from application.llm.router import LLMRouter
from application.ports.clock import Clock
from application.ports.generation_log import GenerationLog
from application.ports.message_hooks import MessageHooks, NoMessageHooks
from application.ports.tokenizer import Tokenizer
from application.ports.turn_hooks import TurnSeams
from application.ports.unit_of_work import UnitOfWorkFactory
from entrypoints.settings import Settings


def chat_policy(settings: Settings) -> ChatPolicy:
    return ChatPolicy(
        max_message_chars=settings.chat.max_message_chars,
        server_max_tokens=settings.llm.max_tokens,
        history_messages=settings.chat.history_messages,
        lease_s=settings.chat.lease_s,
    )


class ChatProvider(Provider):
    scope = Scope.APP

    @provide
    def policy(self, settings: Settings) -> ChatPolicy:
        return chat_policy(settings)

    @provide
    def admission(self, settings: Settings) -> TurnAdmission:
        return TurnAdmission(
            max_active=settings.chat.turns_storing_at_once,
            max_waiting=settings.chat.turn_queue,
            max_wait_s=settings.chat.turn_queue_wait_s,
        )

    tokenizer = provide(EstimatingTokenizer, provides=Tokenizer)
    # The search feature overrides this with its indexing hooks.
    hooks = provide(NoMessageHooks, provides=MessageHooks)
    recover = provide(RecoverOrphanedGenerations)

    @provide
    def seams(self, hooks: MessageHooks) -> TurnSeams:
        """Other features decorate this to join the turn (see ``TurnSeams``)."""
        return TurnSeams(listeners=(MessageSavedListener(hooks),))

    @provide
    def generation_services(
        self,
        router: LLMRouter,
        log: GenerationLog,
        uow_factory: UnitOfWorkFactory,
        policy: ChatPolicy,
        seams: TurnSeams,
        cache: CompletionCache,
    ) -> GenerationServices:
        return GenerationServices(
            router, log, uow_factory, policy, seams.prompt_steps, seams.listeners, cache=cache
        )

    @provide
    async def runner(
        self,
        settings: Settings,
        services: GenerationServices,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        policy: ChatPolicy,
    ) -> AsyncIterator[GenerationRunner]:
        runner = GenerationRunner(services, uow_factory, clock, policy)
        yield runner
        await runner.shutdown(settings.chat.shutdown_grace_s)

    @decorate
    def probes(self, probes: list[HealthProbe], runner: GenerationRunner) -> list[HealthProbe]:
        return [*probes, TurnsProbe(runner)]


class MemoryGenerationLogProvider(Provider):
    @provide(scope=Scope.APP)
    def log(self, settings: Settings) -> GenerationLog:
        return MemoryGenerationLog(
            ttl_s=settings.chat.generation_log_ttl_s,
            max_events=settings.chat.generation_log_max_events,
        )


class ChatUseCasesProvider(Provider):
    scope = Scope.REQUEST
    use_cases = provide_all(
        CreateConversation,
        ListConversations,
        GetConversation,
        UpdateConversation,
        DeleteConversation,
        ListMessages,
    )
    # The turn's own use cases hold only process-wide collaborators: built once, not per
    # request (each build is a dozen lookups on the turn's hot path).
    turn = provide_all(SendMessage, ResumeGeneration, CancelGeneration, scope=Scope.APP)


def providers(settings: Settings) -> list[Provider]:
    log: Provider = MemoryGenerationLogProvider()
    if settings.redis.url:
        from entrypoints.providers.chat_redis import RedisGenerationLogProvider

        log = RedisGenerationLogProvider()
    return [ChatProvider(), log, ChatUseCasesProvider()]
