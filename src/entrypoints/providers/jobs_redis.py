"""The Redis job queue (SAQ), wired only when PARLEY_REDIS_URL is set."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide

from adapters.redis.job_queue import SaqJobQueue, SaqOptions, saq_queue
from application.ports.jobs import JobQueue
from entrypoints.settings import Settings


def saq_options(settings: Settings) -> SaqOptions:
    j = settings.jobs
    return SaqOptions(
        name=f"{settings.redis.key_prefix}{j.queue_name}",
        timeout_s=j.timeout_s + 60,  # the runner's own timeout fires first
        heartbeat_s=max(1, int(j.lease_s)),
        retries=j.max_attempts * 4 + 8,
        sweep_s=j.sweep_interval_s,
    )


class RedisQueueProvider(Provider):
    scope = Scope.APP

    @provide
    async def queue(self, settings: Settings) -> AsyncIterator[SaqJobQueue]:
        queue = SaqJobQueue(
            saq_queue(
                settings.redis.url,
                saq_options(settings).name,
                socket_timeout_s=settings.redis.socket_timeout_s,
            ),
            saq_options(settings),
        )
        yield queue
        await queue.aclose()

    @provide
    def port(self, queue: SaqJobQueue) -> JobQueue:
        return queue
