"""Parley's use cases from a Python script: the same container, settings and adapters as
`parley serve` and the CLI, without HTTP.

    import asyncio
    from entrypoints.scripting import open_parley
    from application.chat.send_message import SendMessage, SendMessageCommand

    async def main() -> None:
        async with open_parley() as parley:
            send = await parley.get(SendMessage)
            sent = await send(SendMessageCommand(owner_id, None, "Hello", wait=True))
            print(sent.assistant_message.content)

    asyncio.run(main())

``open_parley`` reads ``PARLEY_*`` and ``parley.toml`` exactly as the server does (or takes
``environ`` / ``toml_path``), applies migrations to the embedded SQLite database (as
`parley serve` does; PostgreSQL is migrated with `parley migrate`), and closes everything
on exit: running generations finish (or are stored as interrupted), usage is flushed.
``get`` resolves a use case in its own request scope, as one HTTP request would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TypeVar
from uuid import UUID

from dishka import AsyncContainer

from entrypoints.settings import Settings, load_settings

T = TypeVar("T")


class Parley:
    """An open Parley: resolve use cases with ``get``; ``settings`` is what it runs on."""

    def __init__(self, container: AsyncContainer, settings: Settings, scopes: AsyncExitStack):
        self.container = container
        self.settings = settings
        self._scopes = scopes

    async def get(self, kind: type[T]) -> T:
        """The use case (or port) ``kind``, from a request scope kept open until close."""
        request = await self._scopes.enter_async_context(self.container())
        return await request.get(kind)

    async def user_id(self, email: str) -> UUID:
        """The id of the account with this email (USER_NOT_FOUND otherwise)."""
        from application.identity.find_user_by_email import FindUserByEmail

        return (await (await self.container.get(FindUserByEmail))(email)).id


@asynccontextmanager
async def open_parley(
    environ: Mapping[str, str] | None = None,
    toml_path: str | Path | None = None,
    *,
    migrate: bool | None = None,
) -> AsyncIterator[Parley]:
    """``migrate`` None: on for the embedded SQLite database, off for PostgreSQL."""
    from entrypoints.ioc import create_container

    settings = load_settings(environ, toml_path)
    overrides = []
    if environ is not None:
        # Secrets come from the environment given, like every other setting.
        from entrypoints.providers.grounding import ContextSourceSecrets, secrets_provider

        overrides.append(secrets_provider(ContextSourceSecrets.read(settings, environ)))
    container = create_container(settings, *overrides)
    try:
        if migrate if migrate is not None else not settings.uses_postgres:
            from adapters.persistence.migrate import migrate_database

            await migrate_database(
                settings.database_url, connect_timeout_s=settings.database.connect_timeout_s
            )
        async with AsyncExitStack() as scopes:
            yield Parley(container, settings, scopes)
    finally:
        await container.close()
