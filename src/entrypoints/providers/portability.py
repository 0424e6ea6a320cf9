"""Import, export and bulk wiring: readers per format, export files, their use cases."""

from __future__ import annotations

from pathlib import Path

from dishka import Provider, Scope, decorate, provide, provide_all

from adapters.portability.archive import ArchiveLimits
from adapters.portability.export_files import FileExportStore
from adapters.portability.sources import FileConversationSources
from adapters.portability.uploads import FileImportUploads
from application.chat.bulk_conversations import BulkConversations
from application.jobs.handlers import JobHandlers
from application.portability.download_export import DownloadExport
from application.portability.export_conversations import ExportConversations, ExportPolicy
from application.portability.import_conversations import ImportConversations
from application.portability.job_handlers import ExportJob, ImportJob
from application.ports.portability import ConversationSources, ExportStore, ImportUploads
from entrypoints.settings import Settings

EXPORTS_DIR = "exports"
UPLOADS_DIR = "imports"


class PortabilityProvider(Provider):
    scope = Scope.APP

    @provide
    def sources(self, settings: Settings) -> ConversationSources:
        return FileConversationSources(
            ArchiveLimits(
                max_entries=settings.import_max_entries,
                max_total_bytes=settings.import_max_unpacked_bytes,
                max_ratio=settings.import_max_ratio,
            )
        )

    @provide
    def export_store(self, settings: Settings) -> ExportStore:
        return FileExportStore(Path(settings.data_dir) / EXPORTS_DIR)

    @provide
    def uploads(self, settings: Settings) -> ImportUploads:
        # Under the data directory: API and worker processes must share it.
        return FileImportUploads(Path(settings.data_dir) / UPLOADS_DIR)

    @provide
    def export_policy(self, settings: Settings) -> ExportPolicy:
        return ExportPolicy(ttl_s=settings.export_ttl_s)

    # APP scope: they run as jobs and from the CLI, outside any request.
    import_conversations = provide(ImportConversations)
    export_conversations = provide(ExportConversations)
    download_export = provide(DownloadExport)


class PortabilityRequestProvider(Provider):
    scope = Scope.REQUEST
    use_cases = provide_all(BulkConversations)


class PortabilityJobsProvider(Provider):
    """Export and import become job kinds (replacing the jobs feature's placeholders)."""

    scope = Scope.APP

    @decorate
    def with_portability_jobs(
        self,
        handlers: JobHandlers,
        export: ExportConversations,
        importer: ImportConversations,
        uploads: ImportUploads,
    ) -> JobHandlers:
        existing = [handlers.get(kind) for kind in handlers.kinds()]
        return JobHandlers([*existing, ExportJob(export), ImportJob(importer, uploads)])


def providers(settings: Settings) -> list[Provider]:
    return [PortabilityProvider(), PortabilityRequestProvider()]


def job_providers(settings: Settings) -> list[Provider]:
    """After the jobs providers: they decorate its handler registry."""
    return [PortabilityJobsProvider()]
