"""Resolve a bearer credential (access JWT or ``pk_`` API key) to a Principal."""

from __future__ import annotations

from uuid import UUID

from application.identity.principal import Principal
from application.ports.api_key_secrets import ApiKeySecrets
from application.ports.token_issuer import TokenIssuer
from application.ports.token_store import TokenStore
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.api_keys import looks_like_api_key
from domain.credentials import AccountDisabled, TokenInvalid, TokenRevoked
from domain.errors import Unauthenticated
from domain.users import User

_MAX_CREDENTIAL_LENGTH = 4096


class Authenticate:
    """Business rules:
    - no credential: UNAUTHENTICATED; a credential starting with ``pk_`` is an API key,
      anything else must be an access JWT (a refresh token is refused);
    - a JWT must be correctly signed with the configured algorithm and carry valid
      exp/nbf/iss/aud/typ claims, and neither it nor its session may be revoked;
    - the revocation store is asked on every request; if it cannot answer, the request
      fails with 503 TOKEN_STORE_UNAVAILABLE (fail closed, R8), never passes unchecked;
    - the user row is re-read on every request (one primary-key lookup), so a
      deactivation, demotion or plan change applies from the very next request (R3, R8)
      without waiting for tokens to expire, on every instance and from the CLI too;
    - a disabled account is refused (ACCOUNT_DISABLED), whatever the credential.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        issuer: TokenIssuer,
        store: TokenStore,
        secrets: ApiKeySecrets,
    ) -> None:
        self._uow_factory = uow_factory
        self._issuer = issuer
        self._store = store
        self._secrets = secrets

    async def __call__(self, credential: str | None) -> Principal:
        if not credential:
            raise Unauthenticated("missing credentials: send Authorization: Bearer <token>")
        if len(credential) > _MAX_CREDENTIAL_LENGTH:
            raise TokenInvalid("invalid token")
        if looks_like_api_key(credential):
            return await self._by_api_key(credential)
        return await self._by_access_token(credential)

    async def _by_access_token(self, token: str) -> Principal:
        claims = self._issuer.verify(token, "access")
        if await self._store.is_revoked(token_id=claims.token_id, session_id=claims.session_id):
            raise TokenRevoked("this token has been revoked; sign in again")
        user = await self._active_user(claims.user_id)
        return Principal(
            user_id=user.id,
            role=user.role,
            plan=user.plan,
            method="jwt",
            session_id=claims.session_id,
            token_id=claims.token_id,
            expires_at=claims.expires_at,
        )

    async def _by_api_key(self, key: str) -> Principal:
        async with self._uow_factory() as uow:
            api_key = await uow.api_keys.get_by_hash(self._secrets.digest(key))
            user = await uow.users.get(api_key.user_id) if api_key is not None else None
        if api_key is None or user is None:
            raise TokenInvalid("invalid API key")
        _refuse_inactive(user)
        return Principal(
            user_id=user.id,
            role=user.role,
            plan=user.plan,
            method="api_key",
            api_key_id=api_key.id,
        )

    async def _active_user(self, user_id: UUID) -> User:
        async with self._uow_factory() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise TokenInvalid("the token's user no longer exists")
        _refuse_inactive(user)
        return user


def _refuse_inactive(user: User) -> None:
    if not user.is_active:
        raise AccountDisabled("this account has been disabled")
