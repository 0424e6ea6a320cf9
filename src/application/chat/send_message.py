"""Send a message and start the assistant's reply: the one chat turn every transport uses.

REST, SSE, WebSocket and the CLI only decode their input into a ``SendMessageCommand``,
call this, and forward the reply's events (read from the generation log with
``ResumeGeneration``). It returns as soon as the reply has started (or, with ``wait``, once
it is stored).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import structlog

from application.admission import TurnAdmission, UnlimitedAdmission
from application.chat.create_conversation import check_system_prompt
from application.chat.generation_events import start_event
from application.chat.generation_job import GenerationJob
from application.chat.generation_runner import GenerationRunner
from application.chat.policy import ChatPolicy
from application.llm.router import LLMRouter
from application.ports.clock import Clock
from application.ports.generation_log import GenerationInfo, GenerationLog
from application.ports.ids import IdGenerator
from application.ports.rate_limiter import ChatSendLimit, NoChatSendLimit, RateDecision
from application.ports.spend_guard import SpendGuard, SpendRequest, UnmeteredSpending
from application.ports.tokenizer import Tokenizer
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.usage.charge import Charge
from domain.context_window import Turn, fit_context
from domain.conversations import Conversation, ConversationNotFound
from domain.errors import DomainError
from domain.grounding import CONTEXT_RESERVE_TOKENS
from domain.messages import Message, check_content, pending_reply, user_message

log = structlog.get_logger("parley.chat")


@dataclass(frozen=True, slots=True)
class SendMessageCommand:
    owner_id: UUID
    conversation_id: UUID | None
    """None: start a new conversation with this message (in the same transaction)."""
    content: str
    model: str | None = None
    """The model for this turn (and, for a new conversation, the conversation's)."""
    temperature: float | None = None
    max_tokens: int | None = None
    wait: bool = False
    """Return only once the reply is stored (non-streaming clients)."""
    plan: str | None = None
    """The caller's plan, for quotas (None: read from the account, as at the CLI)."""
    api_key_id: UUID | None = None
    """The API key the caller used, for usage per key."""
    system_prompt: str | None = None
    """For a new conversation only."""
    cache: bool = False
    """Opt in to the completion cache (with ``wait`` and temperature 0 only)."""


@dataclass(frozen=True, slots=True)
class SentMessage:
    conversation: Conversation
    user_message: Message
    assistant_message: Message
    """``streaming`` unless the command said ``wait``: then the stored final reply."""
    generation_id: UUID
    start_event_id: str | None
    """Id of the ``start`` event in the log (None if the log was unavailable)."""
    rate: RateDecision | None = None
    """The chat-send limit's decision, for RateLimit-* headers."""
    created: bool = False
    """The conversation was created by this turn."""
    upstream_s: float = 0.0
    """Seconds the reply waited on the model (``wait`` only; 0 for a started stream)."""
    cached: bool = False
    """The reply was replayed from the completion cache (``wait`` only)."""
    response_s: float = 0.0
    """Seconds from the command to the stored reply (``wait``) or to its start."""


class SendMessage:
    """Business rules:
    - only the owner may send to a conversation (anyone else: "not found"); without a
      conversation, a new one is created with the turn, in the same write, so a refused
      turn leaves nothing behind;
    - blank content, or content over ``max_message_chars``, is refused before anything is
      stored and before any model is called; so is an unknown model, or a message that
      cannot fit the model's context window with the system prompt;
    - every send counts against the caller's chat-send limit, whatever the transport;
    - ``max_tokens`` is always bounded by the model's and the server's cap, and by the
      remaining quota, reserved before the turn is written (refused: nothing is stored);
    - a burst of turns queues to be stored (``TurnAdmission``, first come first served);
      past the queue's length or wait the turn is refused (``SERVER_BUSY``), unstored;
    - the user message and a ``streaming`` assistant reply (with a new conversation, or the
      conversation's count and first title) are written all or nothing, then the
      generation starts; it runs on its own, whatever happens to the caller, and it
      settles the reservation;
    - a waiting, opted-in, temperature-0 turn may be answered from the completion cache,
      keyed by the user, the model and the full prompt (see ``Generation``);
    - the prompt is the system prompt plus as much recent history as fits the window; a
      grounded conversation keeps ``CONTEXT_RESERVE_TOKENS`` of it for the context block
      its sources add inside the generation (the grounding prompt step).
    """

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        router: LLMRouter,
        log: GenerationLog,
        runner: GenerationRunner,
        tokenizer: Tokenizer,
        clock: Clock,
        ids: IdGenerator,
        policy: ChatPolicy,
        spending: SpendGuard = UnmeteredSpending(),
        chat_limit: ChatSendLimit = NoChatSendLimit(),
        admission: TurnAdmission = UnlimitedAdmission(),
    ) -> None:
        self._uows = uows
        self._router = router
        self._log = log
        self._runner = runner
        self._tokenizer = tokenizer
        self._clock = clock
        self._ids = ids
        self._policy = policy
        self._spending = spending
        self._chat_limit = chat_limit
        self._admission = admission

    async def __call__(self, command: SendMessageCommand) -> SentMessage:
        received = time.perf_counter()
        check_content(command.content, self._policy.max_message_chars)
        check_system_prompt(command.system_prompt, self._policy)
        self._runner.ensure_accepting()
        rate = await self._chat_limit.check(command.owner_id)
        now = self._clock.now()
        reply_id = self._ids.new_id()
        # From its write until it runs, the reply's lease is renewed by this process.
        with self._runner.starting(reply_id):
            # The turn's unit of work commits each statement on its own where the database
            # allows: everything is checked (and the quota reserved) before the one write.
            async with self._admission.slot(), self._uows.single_statement() as uow:
                conversation, created, history = await self._conversation(uow, command, now)
                spec = self._router.resolve(command.model or conversation.model)
                max_tokens = spec.bound_max_tokens(
                    command.max_tokens, self._policy.server_max_tokens
                )
                fitted = fit_context(
                    system_prompt=conversation.system_prompt,
                    history=history,
                    new_message=Turn("user", command.content),
                    context_window=spec.context_window,
                    # A grounded turn keeps room for its context block.
                    max_tokens=max_tokens
                    + (CONTEXT_RESERVE_TOKENS if conversation.context_sources else 0),
                    counter=self._tokenizer,
                )
                first = conversation.message_count  # as read; the write claims the real ones
                titled = conversation.title_from_first_message(command.content)
                if created:
                    conversation.message_count = 2
                user = user_message(
                    id=self._ids.new_id(),
                    conversation_id=conversation.id,
                    content=command.content,
                    now=now,
                    position=first,
                )
                generation_id = self._ids.new_id()
                reply = pending_reply(
                    id=reply_id,
                    conversation_id=conversation.id,
                    model=spec.id,
                    generation_id=generation_id,
                    now=now,
                    position=first + 1,
                )
                request = SpendRequest(
                    command.owner_id, command.plan, command.api_key_id, spec,
                    fitted.prompt_tokens, max_tokens, stream=not command.wait,
                )  # fmt: skip
                # Quota is reserved before the turn is written: a refusal leaves nothing stored.
                charge = await Charge.reserve(self._spending, request, uow)
                async with charge.released_on_error():
                    stored_at = await uow.conversations.store_turn(
                        conversation, user, reply, messages=uow.messages, created=created,
                        title=conversation.title if titled else None, now=now,
                        lease_until=self._lease_from_now(),
                    )  # fmt: skip
                    if stored_at is None:  # deleted since it was read
                        raise ConversationNotFound(f"conversation {conversation.id} not found")
                    conversation.message_count = stored_at + 2
                    await uow.commit()
            async with charge.released_on_error():  # from start on, the generation owns it
                start_id = await self._open_log(
                    generation_id, command.owner_id, conversation, user, reply
                )
                job = GenerationJob(
                    generation_id=generation_id,
                    owner_id=command.owner_id,
                    conversation_id=conversation.id,
                    user_message=user,
                    reply=reply,
                    spec=spec,
                    prompt=tuple(fitted.turns),
                    prompt_tokens=fitted.prompt_tokens,
                    max_tokens=charge.max_tokens,
                    temperature=command.temperature,
                    context_sources=conversation.context_sources,
                    cache_opt_in=command.cache and command.wait,
                )
                generation = self._runner.start(job, charge)
        upstream_s, cached = 0.0, False
        if command.wait:
            assert generation.finished is not None
            # shield: a caller that goes away must not cancel the generation.
            reply = await asyncio.shield(generation.finished)
            upstream_s, cached = generation.upstream_s, generation.cached
        return SentMessage(
            conversation, user, reply, generation_id, start_id, rate, created, upstream_s,
            cached, time.perf_counter() - received,
        )  # fmt: skip

    def _lease_from_now(self) -> datetime:
        """A new reply's lease, from the moment it is written: the storage slot before it
        may have been waited for."""
        return self._clock.now() + timedelta(seconds=self._policy.lease_s)

    async def _conversation(
        self, uow: UnitOfWork, command: SendMessageCommand, now: datetime
    ) -> tuple[Conversation, bool, list[Turn]]:
        """The conversation and its prompt history (one round trip), or a new one, not yet
        stored."""
        if command.conversation_id is not None:
            found = await uow.conversations.turn_context(
                command.conversation_id, command.owner_id, uow.messages,
                self._policy.history_messages,
            )  # fmt: skip
            if found is None:
                raise ConversationNotFound(f"conversation {command.conversation_id} not found")
            conversation, history = found
            conversation.touch(now)
            return conversation, False, history
        spec = self._router.resolve(command.model)
        new = Conversation.start(
            id=self._ids.new_id(),
            owner_id=command.owner_id,
            model=spec.id,
            now=now,
            system_prompt=command.system_prompt,
        )
        return new, True, []

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
            return await self._log.open(
                GenerationInfo(generation_id, owner_id, conversation.id, reply.id),
                start_event(generation_id, conversation.id, user, reply),
            )
        except DomainError as exc:
            log.warning(
                "generation_log_unavailable", generation_id=str(generation_id), code=exc.code
            )
            return None
