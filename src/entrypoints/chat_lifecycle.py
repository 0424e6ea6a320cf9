"""Process start and stop for chat: recover orphaned replies, stop generations gracefully."""

from __future__ import annotations

import structlog
from dishka import AsyncContainer

from application.chat.generation_runner import GenerationRunner
from application.chat.recover_orphaned_generations import RecoverOrphanedGenerations
from entrypoints.settings import Settings

log = structlog.get_logger("parley.chat")


async def recover_orphaned_generations(container: AsyncContainer) -> None:
    """Sweep now, then keep sweeping: a crashed peer's leases lapse after we started."""
    recover = await container.get(RecoverOrphanedGenerations)
    runner = await container.get(GenerationRunner)
    try:
        recovered = await recover()
    except Exception as exc:  # a database hiccup at boot must not stop the server
        log.warning("orphan_sweep_failed_at_startup", error=type(exc).__name__)
    else:
        if recovered:
            log.warning("orphaned_replies_recovered", count=recovered)
    runner.keep_sweeping(recover)


async def stop_generations(container: AsyncContainer) -> None:
    """Give running replies a grace period, then store them as interrupted."""
    settings = await container.get(Settings)
    runner = await container.get(GenerationRunner)
    await runner.shutdown(settings.chat.shutdown_grace_s)
