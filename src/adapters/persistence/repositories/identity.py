"""Identity repositories (filled by the identity work)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session


class SqlApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session


class SqlAuthSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
