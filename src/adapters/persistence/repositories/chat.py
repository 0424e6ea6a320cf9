"""Chat repositories (filled by the chat work)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


class SqlConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session


class SqlMessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
