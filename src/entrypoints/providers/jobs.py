"""Jobs wiring: handlers by kind, the runner, the queue (in-process or SAQ on Redis),
the job use cases, background titles and the ``queue`` health component."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, decorate, provide, provide_all

from adapters.memory.job_queue import InProcessJobQueue
from adapters.prometheus.metrics import PrometheusMetrics
from application.health.readiness import HealthProbe
from application.jobs.cancel_job import CancelJob
from application.jobs.handlers import JobHandler, JobHandlers, PendingHandler
from application.jobs.job_llm import JobLLM
from application.jobs.kinds.noop import NoopJob
from application.jobs.kinds.reindex import ReindexJob
from application.jobs.kinds.research import Research
from application.jobs.kinds.summarize import SummarizeConversation
from application.jobs.kinds.title import TitleConversation
from application.jobs.notify_finished import NotifyJobOwner
from application.jobs.policy import JobPolicy
from application.jobs.queue_health import QueueProbe
from application.jobs.read_jobs import GetJob, ListJobs
from application.jobs.recover_jobs import RecoverJobs
from application.jobs.run_job import RunJob
from application.jobs.submit_internal import SubmitInternalJob
from application.jobs.submit_job import SubmitJob
from application.jobs.title_listener import TitleOnFirstExchange
from application.ports.clock import Clock
from application.ports.job_events import JobFinishedListener, JobMetrics
from application.ports.jobs import JobQueue
from application.ports.turn_hooks import TurnSeams
from application.ports.unit_of_work import UnitOfWorkFactory
from application.search.reindex import Reindex
from entrypoints.jobs_runtime import EmbeddedJobs, WorkerId
from entrypoints.settings import Settings


def job_policy(settings: Settings) -> JobPolicy:
    j = settings.jobs
    return JobPolicy(
        max_attempts=j.max_attempts,
        lease_s=j.lease_s,
        heartbeat_s=j.heartbeat_s,
        timeout_s=float(j.timeout_s),
        retry_delay_s=j.retry_delay_s,
        retry_max_delay_s=j.retry_max_delay_s,
        requeue_after_s=j.requeue_after_s,
    )


class JobsProvider(Provider):
    scope = Scope.APP

    @provide
    def policy(self, settings: Settings) -> JobPolicy:
        return job_policy(settings)

    @provide
    def worker_id(self) -> WorkerId:
        return WorkerId()

    llm = provide(JobLLM)
    # Store a notification, then push it; live job.updated frames.
    listener = provide(NotifyJobOwner, provides=JobFinishedListener)

    @provide
    def job_metrics(self, prometheus: PrometheusMetrics) -> JobMetrics:
        return prometheus

    @provide
    def handlers(
        self, uow_factory: UnitOfWorkFactory, llm: JobLLM, reindex: Reindex
    ) -> JobHandlers:
        kinds: list[JobHandler] = [
            # Their use cases come with the import/export feature, which registers
            # handlers of the same kinds after these.
            PendingHandler("export"),
            PendingHandler("import"),
            SummarizeConversation(uow_factory, llm),
            Research(llm),
            ReindexJob(reindex),
            TitleConversation(uow_factory, llm),
            NoopJob(),
        ]
        return JobHandlers(kinds)

    run_job = provide(RunJob)
    recover = provide(RecoverJobs)
    submit_internal = provide(SubmitInternalJob)

    @provide
    def queue_probe(
        self, uow_factory: UnitOfWorkFactory, queue: JobQueue, clock: Clock
    ) -> QueueProbe:
        return QueueProbe(uow_factory, queue, clock)

    @decorate
    def with_queue_probe(self, probes: list[HealthProbe], queue: QueueProbe) -> list[HealthProbe]:
        return [*probes, queue]

    @decorate
    def with_titles(
        self, seams: TurnSeams, submit: SubmitInternalJob, settings: Settings
    ) -> TurnSeams:
        if not settings.jobs.auto_titles:
            return seams
        return seams.with_listener(TitleOnFirstExchange(submit))


class InProcessQueueProvider(Provider):
    scope = Scope.APP

    @provide
    def pool(self, settings: Settings) -> InProcessJobQueue:
        return InProcessJobQueue(settings.jobs.concurrency)

    @provide
    def queue(self, pool: InProcessJobQueue) -> JobQueue:
        return pool

    @provide
    async def embedded(
        self,
        settings: Settings,
        pool: InProcessJobQueue,
        run: RunJob,
        recover: RecoverJobs,
        worker: WorkerId,
    ) -> AsyncIterator[EmbeddedJobs]:
        jobs = EmbeddedJobs(pool, run, recover, worker, settings.jobs.sweep_interval_s)
        yield jobs
        await jobs.stop()


class JobUseCases(Provider):
    scope = Scope.REQUEST
    use_cases = provide_all(SubmitJob, ListJobs, GetJob, CancelJob)


def providers(settings: Settings) -> list[Provider]:
    queue: Provider = InProcessQueueProvider()
    if settings.redis.url:
        # Imported only with Redis configured: it brings SAQ and its scheduler.
        from entrypoints.providers.jobs_redis import RedisQueueProvider

        queue = RedisQueueProvider()
    return [JobsProvider(), queue, JobUseCases()]
