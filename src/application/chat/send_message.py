"""Send a message in a conversation and start the assistant's reply.

The one path every transport uses (REST, SSE, WebSocket, CLI). It returns as soon as the
reply has started (or, with ``wait``, once it is stored); the reply's events are read from
the generation log with ``ResumeGeneration``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import structlog

from application.chat.generation_events import start_event
from application.chat.generation_job import GenerationJob
from application.chat.generation_runner import GenerationRunner
from application.chat.get_conversation import owned_conversation
from application.chat.policy import ChatPolicy
from application.llm.router import LLMRouter
from application.ports.clock import Clock
from application.ports.generation_log import GenerationInfo, GenerationLog
from application.ports.ids import IdGenerator
from application.ports.llm import ChatMessage
from application.ports.spend_guard import SpendGuard, UnmeteredSpending
from application.ports.tokenizer import Tokenizer
from application.ports.unit_of_work import UnitOfWork
from application.usage.chat_spending import reserve_chat_turn
from domain.context_window import Turn, fit_context
from domain.conversations import Conversation
from domain.errors import DomainError
from domain.grounding import CONTEXT_RESERVE_TOKENS
from domain.messages import Message, MessageStatus, check_content, pending_reply, user_message

log = structlog.get_logger("parley.chat")


@dataclass(frozen=True, slots=True)
class SendMessageCommand:
    owner_id: UUID
    conversation_id: UUID
    content: str
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    wait: bool = False
    """Return only once the reply is stored (non-streaming clients)."""
    plan: str | None = None
    """The caller's plan, for quotas (None: read from the account, as at the CLI)."""
    api_key_id: UUID | None = None
    """The API key the caller used, for usage per key."""


@dataclass(frozen=True, slots=True)
class SentMessage:
    conversation: Conversation
    user_message: Message
    assistant_message: Message
    """``streaming`` unless the command said ``wait``: then the stored final reply."""
    generation_id: UUID
    start_event_id: str | None
    """Id of the ``start`` event in the log (None if the log was unavailable)."""


class SendMessage:
    """Business rules:
    - only the owner may send to a conversation (anyone else: "not found");
    - blank content, or content over ``max_message_chars``, is refused before anything is
      stored and before any model is called; so is an unknown model, or a message that
      cannot fit the model's context window with the system prompt;
    - ``max_tokens`` is always bounded by the model's and the server's cap;
    - the user message and a ``streaming`` assistant reply are committed together, then
      the generation starts; it runs on its own, whatever happens to the caller;
    - the prompt is the system prompt plus as much recent history as fits the window.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        router: LLMRouter,
        log: GenerationLog,
        runner: GenerationRunner,
        tokenizer: Tokenizer,
        clock: Clock,
        ids: IdGenerator,
        policy: ChatPolicy,
        spending: SpendGuard = UnmeteredSpending(),
    ) -> None:
        self._spending = spending
        self._uow = uow
        self._router = router
        self._log = log
        self._runner = runner
        self._tokenizer = tokenizer
        self._clock = clock
        self._ids = ids
        self._policy = policy

    async def __call__(self, command: SendMessageCommand) -> SentMessage:
        check_content(command.content, self._policy.max_message_chars)
        self._runner.ensure_accepting()
        async with self._uow as uow:
            conversation = await owned_conversation(uow, command.owner_id, command.conversation_id)
            spec = self._router.resolve(command.model or conversation.model)
            max_tokens = spec.bound_max_tokens(command.max_tokens, self._policy.server_max_tokens)
            history = await uow.messages.recent(conversation.id, self._policy.history_messages)
            fitted = fit_context(
                system_prompt=conversation.system_prompt,
                history=[Turn(m.role.value, m.content) for m in history if _usable(m)],
                new_message=Turn("user", command.content),
                context_window=spec.context_window,
                # A grounded turn keeps room for its context block.
                max_tokens=max_tokens
                + (CONTEXT_RESERVE_TOKENS if conversation.context_sources else 0),
                counter=self._tokenizer,
            )
            now = self._clock.now()
            conversation.title_from_first_message(command.content)
            conversation.touch(now)
            first = await uow.conversations.record_messages(conversation, 2)
            user = user_message(
                id=self._ids.new_id(),
                conversation_id=conversation.id,
                content=command.content,
                now=now,
                position=first,
            )
            generation_id = self._ids.new_id()
            reply = pending_reply(
                id=self._ids.new_id(),
                conversation_id=conversation.id,
                model=spec.id,
                generation_id=generation_id,
                now=now,
                position=first + 1,
            )
            await uow.messages.add(user)
            lease = now + timedelta(seconds=self._policy.lease_s)
            await uow.messages.add(reply, lease_until=lease)
            # Quota is reserved last: a refusal rolls the turn back, so nothing is stored.
            ticket = await reserve_chat_turn(
                self._spending, uow, owner_id=command.owner_id, plan=command.plan,
                api_key_id=command.api_key_id, spec=spec, prompt_tokens=fitted.prompt_tokens,
                max_tokens=max_tokens, stream=not command.wait,
            )  # fmt: skip
            try:
                await uow.commit()
            except BaseException:
                await self._spending.release(ticket)
                raise
        start_id = await self._open_log(generation_id, command.owner_id, conversation, user, reply)
        job = GenerationJob(
            generation_id=generation_id,
            owner_id=command.owner_id,
            conversation_id=conversation.id,
            user_message=user,
            reply=reply,
            spec=spec,
            prompt=tuple(ChatMessage(t.role, t.content) for t in fitted.turns),
            prompt_tokens=fitted.prompt_tokens,
            max_tokens=ticket.max_tokens,
            temperature=command.temperature,
            spend=ticket,
            context_sources=conversation.context_sources,
        )
        try:
            finished = self._runner.start(job)
        except BaseException:
            await self._spending.release(ticket)
            raise
        if command.wait:
            # shield: a caller that goes away must not cancel the generation.
            reply = await asyncio.shield(finished)
        return SentMessage(conversation, user, reply, generation_id, start_id)

    async def _open_log(
        self,
        generation_id: UUID,
        owner_id: UUID,
        conversation: Conversation,
        user: Message,
        reply: Message,
    ) -> str | None:
        """A log outage must not lose the reply: it is still generated and stored."""
        try:
            await self._log.begin(
                GenerationInfo(generation_id, owner_id, conversation.id, reply.id)
            )
            return await self._log.append(
                generation_id, start_event(generation_id, conversation.id, user, reply)
            )
        except DomainError as exc:
            log.warning(
                "generation_log_unavailable", generation_id=str(generation_id), code=exc.code
            )
            return None


def _usable(message: Message) -> bool:
    """History worth sending: finished turns with text (a cancelled reply's partial text
    was seen by the user, so it counts; failed and in-flight replies do not)."""
    if not message.content:
        return False
    return message.status in (MessageStatus.COMPLETE, MessageStatus.CANCELLED)
