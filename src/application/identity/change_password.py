"""ChangePassword: replace the caller's password and sign out their other devices."""

from __future__ import annotations

from dataclasses import dataclass

from application.identity.config import IdentityConfig
from application.identity.login_throttle import LoginThrottle
from application.identity.principal import Principal
from application.ports.clock import Clock
from application.ports.password_hasher import PasswordHasher
from application.ports.token_store import TokenStore
from application.ports.unit_of_work import UnitOfWork
from domain.errors import InvalidInput
from domain.passwords import check_password
from domain.users import UserNotFound


class WrongCurrentPassword(InvalidInput):
    """400, not 401: the caller is authenticated; only the confirmation was wrong."""

    code = "INVALID_CURRENT_PASSWORD"
    title = "Current password is wrong"


@dataclass(frozen=True, slots=True)
class ChangePasswordCommand:
    principal: Principal
    current_password: str
    new_password: str


class ChangePassword:
    """Business rules:
    - the current password must be confirmed (throttled like logins for the account, so
      a stolen access token cannot be used to guess it);
    - the new password follows the policy;
    - every other session of the user is revoked at once; the calling session stays
      (with an API key there is no calling session: all sessions end).
    """

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        throttle: LoginThrottle,
        store: TokenStore,
        clock: Clock,
        config: IdentityConfig,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._throttle = throttle
        self._store = store
        self._clock = clock
        self._config = config

    async def __call__(self, command: ChangePasswordCommand) -> None:
        principal = command.principal
        async with self._uow as uow:
            user = await uow.users.get(principal.user_id)
        if user is None:
            raise UserNotFound("the account no longer exists")
        await self._throttle.check(email=user.email, client_ip=None)
        if not await self._hasher.verify(user.password_hash, command.current_password):
            raise WrongCurrentPassword(
                "the current password is wrong",
                details={"fields": [{"field": "current_password", "message": "wrong"}]},
            )
        check_password(command.new_password, email=user.email)
        new_hash = await self._hasher.hash(command.new_password)
        async with self._uow as uow:
            fresh = await uow.users.get(principal.user_id)
            if fresh is None:
                raise UserNotFound("the account no longer exists")
            fresh.password_hash = new_hash
            await uow.users.save(fresh)
            revoked = await uow.auth_sessions.revoke_all_for_user(
                principal.user_id, now=self._clock.now(), keep=principal.session_id
            )
            # Epoch bumped before the commit (no store, no change: 503) and after it, so no
            # instance can keep a view it loaded in between (see Authenticate).
            await self._store.bump_identity_epoch(principal.user_id)
            await uow.commit()
        await self._store.bump_identity_epoch(principal.user_id)
        if revoked:
            await self._store.revoke_sessions(revoked, self._config.revocation_ttl_s)
