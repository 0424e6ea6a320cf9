"""One assistant reply being produced: it owns its task, its quota reservation and its
settlement.

Nothing outside changes a generation's progress; other parts of the process may only ask
it to ``stop`` (a cancel, a shutdown). Its reservation (a ``Charge``) is closed exactly
once, by the generation, whatever happens: settled with the stored reply's usage, or
released when the generation never started or produced nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import structlog

from application.caching.completion_cache import CompletionCache
from application.chat.generation_events import (
    GenerationCrashed,
    GenerationInterrupted,
    done_event,
    error_event,
)
from application.chat.generation_job import GenerationJob, StopReason
from application.chat.generation_writer import DeltaWriter
from application.chat.policy import ChatPolicy
from application.llm.router import LLMRouter, RoutedChunk, RoutedCompletion
from application.ports.generation_log import GenerationEvent, GenerationLog
from application.ports.llm import Completion, Usage
from application.ports.turn_hooks import FinishedTurn, PromptDraft, PromptStep, TurnListener
from application.ports.unit_of_work import UnitOfWorkFactory
from application.usage.charge import Charge
from domain.errors import DomainError, Unavailable
from domain.grounding import SourceResult
from domain.messages import Message, MessageStatus, TokenUsage
from domain.usage import estimate_tokens

log = structlog.get_logger("parley.chat")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class GenerationServices:
    """What every generation of the process shares (built once, APP scope)."""

    router: LLMRouter
    log: GenerationLog
    uow_factory: UnitOfWorkFactory
    policy: ChatPolicy
    prompt_steps: Sequence[PromptStep] = ()
    listeners: Sequence[TurnListener] = ()
    sleep: Sleep = asyncio.sleep
    cache: CompletionCache | None = None
    """Serves opted-in temperature-0 turns (None: no cache)."""


class Generation:
    """Business rules:
    - deltas go to the log in arrival order, batched per burst (one log round trip for
      the deltas that arrived while the previous write was in flight, none added for a
      slow stream; a reply that came whole before its first write sends its deltas with
      the terminal event); the stored text is exactly their concatenation;
    - on completion the reply stores its text, usage (as the provider reported it, else
      the domain's estimate) and cost (priced as the model that actually answered);
    - a cancel stores the partial text as ``cancelled``; a shutdown stores it as ``failed``
      with ``INTERRUPTED``; a provider failure stores ``failed`` with the error's code;
    - the reply is stored through its own unit of work, never a request's, retrying briefly
      while the database is unavailable; then the reservation is settled;
    - the terminal event (``done``, or ``error`` for a failure) follows the store; listeners
      are told after it, so they never delay the reply;
    - a broken log never loses the reply: it is still generated and stored;
    - an opted-in temperature-0 turn whose full prompt (after the prompt steps) was
      answered before, for this user and model, replays that answer: no upstream call,
      stored as usual, and nothing spent (the reservation is released);
    - prompt steps (grounding) run before the upstream call, and a stop interrupts them;
      what they record (each context source's outcome) is stored on the reply.
    """

    __slots__ = (
        "_awaiting_upstream",
        "_cache_key",
        "_charge",
        "_completed",
        "_context",
        "_held",
        "_interrupting",
        "_parts",
        "_services",
        "_stop",
        "_usage",
        "_watcher",
        "_writer",
        "answered_by",
        "cached",
        "finished",
        "job",
        "task",
        "upstream_s",
    )

    def __init__(self, job: GenerationJob, charge: Charge, services: GenerationServices) -> None:
        self.job = job
        self._charge = charge
        self._services = services
        self._parts: list[str] = []
        self._usage: Usage | None = None
        self.answered_by: str | None = None
        self._stop: StopReason | None = None
        self._completed = False
        self._awaiting_upstream = False
        self._interrupting = False
        """``stop`` cancelled this generation's task to end its wait on the provider."""
        self._watcher: asyncio.Task[None] | None = None
        self._context: list[SourceResult] | None = None
        self._cache_key: str | None = None
        self.cached = False
        """The reply was replayed from the completion cache."""
        self._writer = DeltaWriter(services.log, job.generation_id, deferred=True)
        self._held: list[GenerationEvent] = []
        """Deltas of a reply that came whole, written with its terminal event."""
        self.task: asyncio.Task[None] | None = None
        self.finished: asyncio.Future[Message] | None = None
        self.upstream_s = 0.0
        """Seconds spent waiting on the provider (for the published overhead)."""

    # -- what the rest of the process may do ------------------------------------------

    def start(self) -> asyncio.Future[Message]:
        """Run in the background; the future resolves to the stored reply."""
        loop = asyncio.get_running_loop()
        self.finished = loop.create_future()
        self.task = loop.create_task(self._run(), name=f"generation-{self.job.generation_id}")
        return self.finished

    def stop(self, reason: StopReason) -> None:
        """Ask the generation to end early. The upstream read is interrupted only while the
        generation waits on the provider, so every delta is both logged and kept, or
        neither."""
        if self._stop is None:
            self._stop = reason
        if self._awaiting_upstream and not self._interrupting and self.task is not None:
            # The wait is in the generation's own task; ``_generate`` tells this cancel
            # from one of the task itself (a shutdown past its grace) by counting them.
            self._interrupting = True
            self.task.cancel()

    async def abandon(self) -> None:
        """The turn was not stored or the generation could not start: nothing was spent."""
        await self._charge.release()

    # -- the generation's own task --------------------------------------------------------

    async def _run(self) -> None:
        assert self.finished is not None
        try:
            async with self._charge.released_on_error():  # settled inside when it ends well
                reply, stored = await self._produce()
        except BaseException as exc:
            if not self.finished.done():
                self.finished.set_exception(exc)
                self.finished.exception()  # a caller that stopped waiting must not warn
            raise
        if not self.finished.done():
            self.finished.set_result(reply)
        await self._tell_listeners(reply, stored)

    async def _produce(self) -> tuple[Message, bool]:
        # The cancel watcher and the delta writes start at the generation's first pause:
        # a reply that comes whole without one (an instant model) is produced, stored and
        # logged in this one task, and nothing could cancel it meanwhile anyway.
        first_pause = asyncio.get_running_loop().call_soon(self._paused)
        try:
            error = await self._generate()
        finally:
            first_pause.cancel()
            if self._watcher is not None:
                self._watcher.cancel()
        await self._writer.close()
        reply = self._finished_reply(error)
        if reply.status is MessageStatus.FAILED and error is None:
            error = GenerationInterrupted("the server stopped before the reply finished")
        store_error = await self._store(reply)
        if self.cached:
            await self._charge.release()
        else:
            await self._charge.settle(
                model_id=reply.model, reported=reply.usage, text=reply.content
            )
            await self._remember(reply)
        await self._announce(reply, store_error or error)
        return reply, store_error is None

    def _paused(self) -> None:
        self._watcher = asyncio.get_running_loop().create_task(self._watch_cancel())
        self._writer.release()

    async def _watch_cancel(self) -> None:
        try:
            await self._services.log.wait_for_cancel(self.job.generation_id)
        except DomainError:
            return  # the log is down: no cancel can reach us through it
        self.stop("cancel")

    async def _generate(self) -> DomainError | None:
        try:
            await self._consume()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._interrupting and task is not None and task.uncancel() == 0:
                return None  # only ``stop`` cancelled: the wait on the provider ended
            self.stop("shutdown")
            raise
        except DomainError as exc:
            return exc
        except Exception as exc:
            log.error("generation_crashed", generation_id=str(self.job.generation_id), exc_info=exc)
            return GenerationCrashed("the reply could not be generated")
        return None

    async def _consume(self) -> None:
        job = await self._prepared()
        if await self._replayed(job):
            self._hold_if_whole()
            return
        stream: AsyncIterator[RoutedChunk] = self._services.router.stream(
            job.spec, job.prompt, max_tokens=job.max_tokens, temperature=job.temperature
        )
        parts, writer, clock = self._parts, self._writer, time.perf_counter
        try:
            while self._stop is None:
                self._awaiting_upstream = True
                asked = clock()
                try:
                    routed = await anext(stream)
                except StopAsyncIteration:
                    self._completed = True
                    self._hold_if_whole()
                    return
                finally:
                    self._awaiting_upstream = False
                    self.upstream_s += clock() - asked
                self.answered_by = routed.model_id
                chunk = routed.chunk
                if chunk.usage is not None:
                    self._usage = chunk.usage
                if chunk.delta:
                    parts.append(chunk.delta)
                    writer.add(chunk.delta)
        finally:
            closer = getattr(stream, "aclose", None)
            if closer is not None:
                await closer()

    def _hold_if_whole(self) -> None:
        """A reply that came whole, with no pause for its first write to begin (an instant
        model, a cached answer), sends its deltas with the terminal event: one log write
        instead of two. Only deltas no write has begun on are taken: a generation that
        waited on anything since its first delta has begun writing, so nothing of a
        streamed reply is held back."""
        self._held = self._writer.take_unwritten()

    async def _prepared(self) -> GenerationJob:
        """The job after the before-prompt steps (none by default: no cost)."""
        job = self.job
        if not self._services.prompt_steps:
            return job
        original = draft = PromptDraft(
            job.owner_id, job.conversation_id, job.user_message, job.spec, job.prompt,
            job.prompt_tokens, job.max_tokens, job.context_sources,
        )  # fmt: skip
        self._awaiting_upstream = True  # a stop may interrupt a step (a slow source)
        try:
            for step in self._services.prompt_steps:
                try:
                    draft = await step.before_prompt(draft)
                except Exception:
                    log.exception("prompt_step_failed", step=type(step).__name__)
        finally:
            self._awaiting_upstream = False
        if draft is original:
            return job
        self._context = draft.context
        return dataclasses.replace(job, prompt=draft.prompt, prompt_tokens=draft.prompt_tokens)

    async def _replayed(self, job: GenerationJob) -> bool:
        """Answer from the completion cache when the turn may be and it holds the answer."""
        cache = self._services.cache
        if cache is None or not job.cache_opt_in:
            return False
        if not cache.eligible(opted_in=True, temperature=job.temperature, stream=False):
            return False
        self._cache_key = key = cache.key(
            job.owner_id, job.spec.id, job.prompt, job.max_tokens, job.temperature, {}
        )
        hit = await cache.get(key)
        if hit is None:
            return False
        self.cached = self._completed = True
        self.answered_by = hit.model_id
        self._usage = hit.completion.usage
        if hit.completion.content:
            self._parts.append(hit.completion.content)
            self._writer.add(hit.completion.content)
        return True

    async def _remember(self, reply: Message) -> None:
        cache, key = self._services.cache, self._cache_key
        if cache is None or key is None or reply.status is not MessageStatus.COMPLETE:
            return
        usage = reply.usage or TokenUsage(self.job.prompt_tokens, estimate_tokens(reply.content))
        completion = Completion(
            reply.content, "stop", Usage(usage.prompt_tokens, usage.completion_tokens)
        )
        await cache.put(key, RoutedCompletion(completion, reply.model or self.job.spec.id))

    def _finished_reply(self, error: DomainError | None) -> Message:
        job = self.job
        reply = dataclasses.replace(
            job.reply, model=self.answered_by or job.spec.id, context=self._context
        )
        text = "".join(self._parts)
        stop = None if self._completed else self._stop
        if stop == "shutdown":
            reply.fail(text, GenerationInterrupted.code)
        elif error is not None and stop is None:
            reply.fail(text, error.code)
        else:
            usage = self._usage_of(text)
            cost = Decimal(0) if self.cached else self._services.router.catalog.cost_usd(
                reply.model, job.spec.id, usage.prompt_tokens, usage.completion_tokens
            )  # fmt: skip
            if stop == "cancel":
                reply.cancel(text, usage, cost)
            else:
                reply.complete(text, usage, cost)
        return reply

    def _usage_of(self, text: str) -> TokenUsage:
        if self._usage is not None:
            return TokenUsage(self._usage.prompt_tokens, self._usage.completion_tokens)
        return TokenUsage(self.job.prompt_tokens, estimate_tokens(text))

    async def _store(self, reply: Message) -> DomainError | None:
        services = self._services
        attempts = max(1, services.policy.store_attempts)
        for attempt in range(attempts):
            try:
                async with services.uow_factory.single_statement() as uow:
                    stored = await uow.messages.finish(reply)
                    await uow.commit()
            except Unavailable as exc:
                if attempt == attempts - 1:
                    log.error("reply_not_stored", message_id=str(reply.id), code=exc.code)
                    return exc
                await services.sleep(0.2 * 2**attempt)
                continue
            if not stored:
                log.info("reply_already_finished_or_deleted", message_id=str(reply.id))
            return None
        return None

    async def _announce(self, reply: Message, error: DomainError | None) -> None:
        event = done_event(reply) if error is None else error_event(error, reply)
        held = self._held
        try:
            if held:
                await self._services.log.append_many(self.job.generation_id, [*held, event])
            else:
                await self._services.log.append(self.job.generation_id, event)
        except DomainError as exc:
            log.warning(
                "generation_log_unavailable",
                generation_id=str(self.job.generation_id),
                code=exc.code,
            )

    async def _tell_listeners(self, reply: Message, stored: bool) -> None:
        if not self._services.listeners:
            return
        job = self.job
        turn = FinishedTurn(job.owner_id, job.conversation_id, job.user_message, reply, stored)
        for listener in self._services.listeners:
            try:
                await listener.turn_finished(turn)
            except Exception:
                log.exception("turn_listener_failed", listener=type(listener).__name__)
