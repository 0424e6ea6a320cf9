"""SetActive: disable or re-enable an account."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.identity.config import IdentityConfig
from application.identity.principal import Principal
from application.identity.user_lookup import find_user, require_admin
from application.ports.clock import Clock
from application.ports.token_store import TokenStore
from application.ports.unit_of_work import UnitOfWork
from domain.users import User


@dataclass(frozen=True, slots=True)
class SetActiveCommand:
    user: UUID | str
    is_active: bool
    actor: Principal | None = None


class SetActive:
    """Business rules:
    - admins and the operator only;
    - disabling ends every session of the user at once: they are revoked in the
      database and the revocation store, and the identity epoch is bumped so every
      instance re-reads ``is_active`` at the next request, so API keys stop working too;
      re-enabling does not bring old sessions back.
    """

    def __init__(
        self, uow: UnitOfWork, store: TokenStore, clock: Clock, config: IdentityConfig
    ) -> None:
        self._uow = uow
        self._store = store
        self._clock = clock
        self._config = config

    async def __call__(self, command: SetActiveCommand) -> User:
        require_admin(command.actor)
        revoked: list[UUID] = []
        async with self._uow as uow:
            user = await find_user(uow, command.user)
            user.is_active = command.is_active
            await uow.users.save(user)
            if not command.is_active:
                revoked = await uow.auth_sessions.revoke_all_for_user(
                    user.id, now=self._clock.now()
                )
            # Epoch bumped before the commit (no store, no change: 503) and after it, so no
            # instance can keep a view it loaded in between (see Authenticate).
            await self._store.bump_identity_epoch(user.id)
            await uow.commit()
        await self._store.bump_identity_epoch(user.id)
        if revoked:
            await self._store.revoke_sessions(revoked, self._config.revocation_ttl_s)
        return user
