"""Identity repositories: rows in, domain objects out."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.models.identity import ApiKeyRow, AuthSessionRow, UserRow
from application.ports.identity import ApiKeyRepository, AuthSessionRepository, UserRepository
from domain.api_keys import ApiKey
from domain.auth_sessions import AuthSession
from domain.users import User


class SqlUserRepository(UserRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, user: User) -> None:
        self._session.add(
            UserRow(
                id=user.id,
                email=user.email,
                display_name=user.display_name,
                role=user.role,
                plan=user.plan,
                is_active=user.is_active,
                password_hash=user.password_hash,
                created_at=user.created_at,
            )
        )
        # Without ORM relationships the flush would not know that sessions and keys added
        # in the same transaction must be inserted after their user.
        await self._session.flush()

    async def get(self, user_id: UUID) -> User | None:
        row = await self._session.get(UserRow, user_id)
        return _user(row) if row is not None else None

    async def get_by_email(self, email: str) -> User | None:
        row = await self._session.scalar(select(UserRow).where(UserRow.email == email))
        return _user(row) if row is not None else None

    async def save(self, user: User) -> None:
        await self._session.execute(
            update(UserRow)
            .where(UserRow.id == user.id)
            .values(
                display_name=user.display_name,
                role=user.role,
                plan=user.plan,
                is_active=user.is_active,
                password_hash=user.password_hash,
            )
            .execution_options(synchronize_session=False)
        )

    async def list(self, *, limit: int, after: UUID | None = None) -> list[User]:
        query = select(UserRow).order_by(UserRow.id).limit(limit)
        if after is not None:
            query = query.where(UserRow.id > after)
        return [_user(row) for row in await self._session.scalars(query)]


class SqlApiKeyRepository(ApiKeyRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, key: ApiKey) -> None:
        self._session.add(
            ApiKeyRow(
                id=key.id,
                user_id=key.user_id,
                name=key.name,
                prefix=key.prefix,
                key_hash=key.key_hash,
                created_at=key.created_at,
            )
        )

    async def get_by_hash(self, key_hash: str) -> ApiKey | None:
        row = await self._session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash))
        return _api_key(row) if row is not None else None

    async def list_for_user(
        self, user_id: UUID, *, limit: int, after: UUID | None = None
    ) -> list[ApiKey]:
        query = (
            select(ApiKeyRow).where(ApiKeyRow.user_id == user_id).order_by(ApiKeyRow.id)
        ).limit(limit)
        if after is not None:
            query = query.where(ApiKeyRow.id > after)
        return [_api_key(row) for row in await self._session.scalars(query)]

    async def delete(self, key_id: UUID, user_id: UUID) -> bool:
        result = await self._session.execute(
            delete(ApiKeyRow).where(ApiKeyRow.id == key_id, ApiKeyRow.user_id == user_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class SqlAuthSessionRepository(AuthSessionRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, session: AuthSession) -> None:
        self._session.add(
            AuthSessionRow(
                id=session.id,
                user_id=session.user_id,
                refresh_jti=session.refresh_jti,
                created_at=session.created_at,
                expires_at=session.expires_at,
                revoked_at=session.revoked_at,
            )
        )

    async def get(self, session_id: UUID) -> AuthSession | None:
        row = await self._session.scalar(
            select(AuthSessionRow).where(AuthSessionRow.id == session_id)
        )
        return _auth_session(row) if row is not None else None

    async def rotate(
        self, session_id: UUID, *, expected_jti: str, new_jti: str, now: datetime
    ) -> bool:
        # One conditional UPDATE: the database serialises concurrent writers on the row,
        # and the loser's WHERE no longer matches, so exactly one rotation succeeds.
        result = await self._session.execute(
            update(AuthSessionRow)
            .where(
                AuthSessionRow.id == session_id,
                AuthSessionRow.refresh_jti == expected_jti,
                AuthSessionRow.revoked_at.is_(None),
                AuthSessionRow.expires_at > now,
            )
            .values(refresh_jti=new_jti)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke(self, session_id: UUID, *, now: datetime) -> None:
        await self._session.execute(
            update(AuthSessionRow)
            .where(AuthSessionRow.id == session_id, AuthSessionRow.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )

    async def revoke_all_for_user(
        self, user_id: UUID, *, now: datetime, keep: UUID | None = None
    ) -> list[UUID]:
        live = select(AuthSessionRow.id).where(
            AuthSessionRow.user_id == user_id,
            AuthSessionRow.revoked_at.is_(None),
            AuthSessionRow.expires_at > now,
        )
        if keep is not None:
            live = live.where(AuthSessionRow.id != keep)
        ids = list(await self._session.scalars(live))
        if ids:
            await self._session.execute(
                update(AuthSessionRow)
                .where(AuthSessionRow.id.in_(ids))
                .values(revoked_at=now)
                .execution_options(synchronize_session=False)
            )
        return ids


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        email=row.email,
        display_name=row.display_name,
        role=row.role,
        plan=row.plan,
        is_active=row.is_active,
        password_hash=row.password_hash,
        created_at=row.created_at,
    )


def _api_key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        prefix=row.prefix,
        key_hash=row.key_hash,
        created_at=row.created_at,
    )


def _auth_session(row: AuthSessionRow) -> AuthSession:
    return AuthSession(
        id=row.id,
        user_id=row.user_id,
        refresh_jti=row.refresh_jti,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )
