"""Runs generations as tasks owned by the process, never by the request that started them.

A client that disconnects, or a request handler that is cancelled, leaves its generation
running to the end. While generations run, the runner renews their leases so the orphan
sweep on any instance can tell them from replies whose process died.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Protocol
from uuid import UUID

import structlog

from application.chat.generation import Generation, GenerationServices
from application.chat.generation_job import GenerationJob, StopReason
from application.chat.policy import ChatPolicy
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.usage.charge import Charge
from domain.errors import DomainError, Unavailable

log = structlog.get_logger("parley.chat")


class Sweep(Protocol):
    async def __call__(self, *, act: bool = True) -> object: ...


class ShuttingDown(Unavailable):
    code = "SHUTTING_DOWN"
    title = "Server is shutting down"


class GenerationRunner:
    """Business rules:
    - a started generation runs until it completes, fails, or is cancelled on purpose;
    - on shutdown, running generations get ``grace_s`` to finish, then are stopped and
      stored as failed (``INTERRUPTED``), never left ``streaming``;
    - leases of running replies are renewed every ``lease_s / 3``, all of this process's
      in one statement, and so are those of replies a turn is still storing here (between
      its write and ``start``, however long a busy loop makes that), so this instance's
      own sweep never finishes a reply it is about to run; the orphan sweep runs as often
      (one indexed query), so a reply whose process died is finished within about
      ``lease_s * 4 / 3`` of its last renewal;
    - after any of its database calls failed, this instance finishes no orphan until the
      database has answered it for a whole lease: during an outage every lease lapses, and
      live runners renew theirs within a third of a lease once it is back (so a reply
      still running elsewhere is never taken for an orphan because of an outage).
    """

    def __init__(
        self,
        services: GenerationServices,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        policy: ChatPolicy,
    ) -> None:
        self._services = services
        self._uow_factory = uow_factory
        self._clock = clock
        self._policy = policy
        self._running: dict[UUID, Generation] = {}
        self._starting: set[UUID] = set()
        """Replies (message ids) a turn in this process is storing, not yet started."""
        self._closing = False
        self._sweep: Sweep | None = None
        self._healthy_since: float | None = time.monotonic() - policy.lease_s
        """When the database last started answering (None: it is failing now); at start it
        is trusted, as the boot sweep is."""
        self._maintenance: asyncio.Task[None] | None = None

    @property
    def accepting(self) -> bool:
        """False once shutdown began: new generations are refused."""
        return not self._closing

    def ensure_accepting(self) -> None:
        if self._closing:
            raise ShuttingDown("the server is shutting down; retry on another instance")

    @contextlib.contextmanager
    def starting(self, reply_id: UUID) -> Iterator[None]:
        """Around storing a reply that ``start`` will run: its lease is this process's to
        renew from the moment it is written."""
        self._starting.add(reply_id)
        try:
            yield
        finally:
            self._starting.discard(reply_id)

    def start(self, job: GenerationJob, charge: Charge) -> Generation:
        """Run ``job`` in the background as a ``Generation`` that owns ``charge`` from now
        on; its ``finished`` future resolves to the stored reply."""
        self.ensure_accepting()
        generation = Generation(job, charge, self._services)
        generation_id = job.generation_id
        generation.start()
        assert generation.task is not None
        self._running[generation_id] = generation
        generation.task.add_done_callback(lambda _: self._running.pop(generation_id, None))
        self._ensure_maintenance()
        return generation

    def stop(self, generation_id: UUID, reason: StopReason = "cancel") -> bool:
        """Stop a generation running in this process; False if it does not run here."""
        running = self._running.get(generation_id)
        if running is None:
            return False
        running.stop(reason)
        return True

    def keep_sweeping(self, sweep: Sweep) -> None:
        """Run ``sweep`` (the orphan recovery) every ``lease_s`` until shutdown."""
        self._sweep = sweep
        self._ensure_maintenance()

    async def shutdown(self, grace_s: float, store_timeout_s: float = 5.0) -> None:
        """Refuse new generations, give running ones ``grace_s``, then stop the rest. Leases
        are still renewed meanwhile, so no other instance takes a running reply for an
        orphan."""
        self._closing = True
        try:
            await self._finish_running(grace_s, store_timeout_s)
        finally:
            if self._maintenance is not None:
                self._maintenance.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._maintenance

    async def _finish_running(self, grace_s: float, store_timeout_s: float) -> None:
        tasks = [g.task for g in self._running.values() if g.task is not None]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace_s)
        if not pending:
            return
        log.warning("generations_interrupted_by_shutdown", count=len(pending))
        for generation in list(self._running.values()):
            generation.stop("shutdown")
        _, stuck = await asyncio.wait(pending, timeout=store_timeout_s)
        for task in stuck:
            task.cancel()

    def _ensure_maintenance(self) -> None:
        if self._maintenance is None or self._maintenance.done():
            self._maintenance = asyncio.create_task(self._maintain(), name="generation-leases")

    async def _maintain(self) -> None:
        period = self._policy.lease_s / 3
        while not (self._closing and not self._running):
            await asyncio.sleep(period)
            try:
                await self._renew_leases()
            except Exception as exc:
                self._healthy_since = None
                log.warning("lease_renewal_failed", error=type(exc).__name__)
            else:
                if self._healthy_since is None and self._running:
                    self._healthy_since = time.monotonic()
            if self._sweep is not None:
                trusted = self._trusts_leases()
                try:
                    await self._sweep(act=trusted)
                except DomainError as exc:
                    self._healthy_since = None
                    log.warning("orphan_sweep_failed", code=exc.code)
                except Exception:
                    self._healthy_since = None
                    log.exception("orphan_sweep_failed")
                else:
                    if self._healthy_since is None:
                        self._healthy_since = time.monotonic()
            if not self._running and self._sweep is None:
                return

    def _trusts_leases(self) -> bool:
        since = self._healthy_since
        return since is not None and time.monotonic() - since >= self._policy.lease_s

    async def _renew_leases(self) -> None:
        ids = [g.job.reply.id for g in self._running.values()]
        ids.extend(self._starting)
        if not ids:
            return
        until = self._clock.now() + timedelta(seconds=self._policy.lease_s)
        async with self._uow_factory.single_statement() as uow:
            await uow.messages.renew_leases(ids, until)
            await uow.commit()
