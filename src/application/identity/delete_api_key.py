"""DeleteApiKey: revoke one of the caller's keys."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.identity.principal import Principal
from application.ports.token_store import TokenStore
from application.ports.unit_of_work import UnitOfWork
from domain.api_keys import ApiKeyNotFound


@dataclass(frozen=True, slots=True)
class DeleteApiKeyCommand:
    principal: Principal
    key_id: UUID


class DeleteApiKey:
    """Business rules:
    - only the owner can delete a key; someone else's key id is API_KEY_NOT_FOUND (404),
      exactly like an id that never existed (no 403 that confirms it exists);
    - a deleted key fails on the very next request on every instance: the owner's
      identity epoch is bumped, so cached key lookups are redone (see Authenticate).
    """

    def __init__(self, uow: UnitOfWork, store: TokenStore) -> None:
        self._uow = uow
        self._store = store

    async def __call__(self, command: DeleteApiKeyCommand) -> None:
        async with self._uow as uow:
            deleted = await uow.api_keys.delete(command.key_id, command.principal.user_id)
            if not deleted:
                raise ApiKeyNotFound("no such API key")
            # Epoch bumped before the commit (no store, no change: 503) and after it, so no
            # instance can keep a view it loaded in between (see Authenticate).
            await self._store.bump_identity_epoch(command.principal.user_id)
            await uow.commit()
        await self._store.bump_identity_epoch(command.principal.user_id)
