"""Produce one assistant reply: stream it from the model into the log, then store it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import structlog

from application.chat.generation_events import (
    GenerationCrashed,
    GenerationInterrupted,
    delta_event,
    done_event,
    error_event,
)
from application.chat.generation_job import GenerationControl, GenerationJob
from application.chat.policy import ChatPolicy
from application.events.message_completed import announce_reply
from application.grounding.gather_context import GatherContext
from application.grounding.prompt import with_context
from application.llm.router import LLMRouter, RoutedChunk
from application.ports.context_source import ContextQuery
from application.ports.event_bus import EventBus
from application.ports.generation_log import GenerationLog
from application.ports.llm import ChatMessage
from application.ports.message_hooks import MessageHooks
from application.ports.spend_guard import SpendGuard, UnmeteredSpending
from application.ports.tokenizer import Tokenizer
from application.ports.unit_of_work import UnitOfWorkFactory
from application.usage.chat_spending import settle_chat_reply
from domain.catalog import ModelNotFound
from domain.errors import DomainError, Unavailable
from domain.messages import Message, MessageStatus, TokenUsage

log = structlog.get_logger("parley.chat")

Sleep = Callable[[float], Awaitable[None]]


class RunGeneration:
    """Business rules:
    - deltas go to the log in arrival order; the stored text is exactly their concatenation;
    - on completion the reply stores its text, usage (as the provider reported it, else
      estimated by the tokenizer) and cost (from the model that actually answered);
    - a cancel stores the partial text as ``cancelled``; a shutdown stores it as ``failed``
      with ``INTERRUPTED``; a provider failure stores ``failed`` with the error's code;
    - the reply is stored through its own unit of work, never a request's, retrying briefly
      while the database is unavailable;
    - the terminal event (``done``, or ``error`` for a failure) follows the store; listeners
      (search indexing) are told after it, so they never delay the reply;
    - once stored, the reply is pushed as ``message.completed`` to the owner's sockets;
    - a broken log never loses the reply: it is still generated and stored;
    - a grounded turn asks its context sources first (bounded, never failing the turn)
      and the reply records how each fared.
    """

    def __init__(
        self,
        router: LLMRouter,
        log: GenerationLog,
        uow_factory: UnitOfWorkFactory,
        tokenizer: Tokenizer,
        hooks: MessageHooks,
        policy: ChatPolicy,
        sleep: Sleep = asyncio.sleep,
        spending: SpendGuard = UnmeteredSpending(),
        events: EventBus | None = None,
        grounding: GatherContext | None = None,
    ) -> None:
        self._grounding = grounding or GatherContext({})
        self._spending = spending
        self._events = events
        self._router = router
        self._log = log
        self._uow_factory = uow_factory
        self._tokenizer = tokenizer
        self._hooks = hooks
        self._policy = policy
        self._sleep = sleep

    async def __call__(self, job: GenerationJob, control: GenerationControl) -> Message:
        watcher = asyncio.create_task(self._watch_cancel(job, control))
        try:
            error = await self._generate(job, control)
        finally:
            watcher.cancel()
        reply = self._finished_reply(job, control, error)
        if reply.status is MessageStatus.FAILED and error is None:
            error = GenerationInterrupted("the server stopped before the reply finished")
        store_error = await self._store(reply)
        await settle_chat_reply(self._spending, job.spend, reply, job.prompt_tokens)
        await self._announce(job, reply, store_error or error)
        if store_error is None:
            await announce_reply(self._events, job.owner_id, reply)
        return reply

    async def notify_listeners(self, job: GenerationJob, reply: Message) -> None:
        """Tell listeners about both messages; they must never fail or delay chat."""
        saved = [job.user_message]
        if reply.status is MessageStatus.COMPLETE:
            saved.append(reply)
        for message in saved:
            try:
                await self._hooks.message_saved(
                    message_id=message.id,
                    conversation_id=job.conversation_id,
                    owner_id=job.owner_id,
                    role=message.role.value,
                    content=message.content,
                )
            except Exception:
                log.exception("message_saved_hook_failed", message_id=str(message.id))
        if job.user_message.position == 0 and reply.status is MessageStatus.COMPLETE:
            with contextlib.suppress(Exception):
                await self._hooks.first_exchange_stored(
                    conversation_id=job.conversation_id, owner_id=job.owner_id
                )

    async def _watch_cancel(self, job: GenerationJob, control: GenerationControl) -> None:
        try:
            await self._log.wait_for_cancel(job.generation_id)
        except DomainError:
            return  # the log is down: no cancel can reach us through it
        control.stop("cancel")

    async def _generate(self, job: GenerationJob, control: GenerationControl) -> DomainError | None:
        consumer = asyncio.create_task(self._consume(job, control))
        control.consumer = consumer
        try:
            await asyncio.wait([consumer])
        except asyncio.CancelledError:
            control.stop("shutdown")
            consumer.cancel()
            raise
        if consumer.cancelled():
            return None
        exc = consumer.exception()
        if exc is None or isinstance(exc, DomainError):
            return exc
        log.error("generation_crashed", generation_id=str(job.generation_id), exc_info=exc)
        return GenerationCrashed("the reply could not be generated")

    async def _consume(self, job: GenerationJob, control: GenerationControl) -> None:
        prompt = await self._grounded_prompt(job, control)
        stream: AsyncIterator[RoutedChunk] = self._router.stream(
            job.spec, prompt, max_tokens=job.max_tokens, temperature=job.temperature
        )
        try:
            while control.stop_reason is None:
                control.awaiting_upstream = True
                try:
                    routed = await anext(stream)
                except StopAsyncIteration:
                    control.completed = True
                    return
                finally:
                    control.awaiting_upstream = False
                control.model_id = routed.model_id
                chunk = routed.chunk
                if chunk.usage is not None:
                    control.usage = chunk.usage
                if chunk.delta:
                    control.parts.append(chunk.delta)
                    await self._log_delta(job, chunk.delta, control)
        finally:
            closer = getattr(stream, "aclose", None)
            if closer is not None:
                await closer()

    async def _grounded_prompt(
        self, job: GenerationJob, control: GenerationControl
    ) -> tuple[ChatMessage, ...]:
        if not job.context_sources:
            return job.prompt
        query = ContextQuery(job.owner_id, job.conversation_id, job.user_message.content)
        control.awaiting_upstream = True  # a cancel may interrupt the wait for sources
        try:
            grounding = await self._grounding(job.context_sources, query)
        finally:
            control.awaiting_upstream = False
        control.context = grounding.results
        return with_context(job.prompt, grounding.block)

    async def _log_delta(self, job: GenerationJob, delta: str, control: GenerationControl) -> None:
        if control.log_broken:
            return
        try:
            await self._log.append(job.generation_id, delta_event(delta))
        except DomainError as exc:
            # Keep generating: the reply is still stored, and `done` carries its full text.
            control.log_broken = True
            log.warning(
                "generation_log_broken", generation_id=str(job.generation_id), code=exc.code
            )

    def _finished_reply(
        self, job: GenerationJob, control: GenerationControl, error: DomainError | None
    ) -> Message:
        reply = dataclasses.replace(
            job.reply, model=control.model_id or job.spec.id, context=control.context
        )
        text = control.text
        stop = None if control.completed else control.stop_reason
        if stop == "shutdown":
            reply.fail(text, GenerationInterrupted.code)
        elif stop == "cancel":
            usage = self._usage(job, control)
            reply.cancel(text, usage, self._cost(job, reply.model, usage))
        elif error is not None:
            reply.fail(text, error.code)
        else:
            usage = self._usage(job, control)
            reply.complete(text, usage, self._cost(job, reply.model, usage))
        return reply

    def _usage(self, job: GenerationJob, control: GenerationControl) -> TokenUsage:
        if control.usage is not None:
            return TokenUsage(control.usage.prompt_tokens, control.usage.completion_tokens)
        return TokenUsage(job.prompt_tokens, self._tokenizer.count_text(control.text))

    def _cost(self, job: GenerationJob, model_id: str | None, usage: TokenUsage) -> Decimal:
        spec = job.spec
        if model_id and model_id != spec.id:
            with contextlib.suppress(ModelNotFound):  # priced as the requested model
                spec = self._router.resolve(model_id)
        return spec.cost_usd(usage.prompt_tokens, usage.completion_tokens)

    async def _store(self, reply: Message) -> DomainError | None:
        attempts = max(1, self._policy.store_attempts)
        for attempt in range(attempts):
            try:
                async with self._uow_factory() as uow:
                    stored = await uow.messages.finish(reply)
                    await uow.commit()
            except Unavailable as exc:
                if attempt == attempts - 1:
                    log.error("reply_not_stored", message_id=str(reply.id), code=exc.code)
                    return exc
                await self._sleep(0.2 * 2**attempt)
                continue
            if not stored:
                log.info("reply_already_finished_or_deleted", message_id=str(reply.id))
            return None
        return None

    async def _announce(
        self, job: GenerationJob, reply: Message, error: DomainError | None
    ) -> None:
        event = done_event(reply) if error is None else error_event(error, reply)
        try:
            await self._log.append(job.generation_id, event)
        except DomainError as exc:
            log.warning(
                "generation_log_unavailable", generation_id=str(job.generation_id), code=exc.code
            )
