"""Resolve a bearer credential (access JWT or ``pk_`` API key) to a Principal."""

from __future__ import annotations

from uuid import UUID

from application.identity.auth_cache import AuthCache, KeyOwner, UserState
from application.identity.config import IdentityConfig
from application.identity.principal import Principal
from application.ports.api_key_secrets import ApiKeySecrets
from application.ports.token_issuer import TokenIssuer
from application.ports.token_store import TokenStore, TokenStoreUnavailable
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.api_keys import looks_like_api_key
from domain.credentials import AccountDisabled, TokenInvalid, TokenRevoked
from domain.errors import Unauthenticated

_MAX_CREDENTIAL_LENGTH = 4096


class Authenticate:
    """Business rules:
    - no credential: UNAUTHENTICATED; a credential starting with ``pk_`` is an API key,
      anything else must be an access JWT (a refresh token is refused);
    - a JWT must be correctly signed with the configured algorithm and carry valid
      exp/nbf/iss/aud/typ claims, and neither it nor its session may be revoked;
    - the revocation store is asked on every request; if it cannot answer, the request
      fails with 503 TOKEN_STORE_UNAVAILABLE (fail closed), never passes unchecked;
    - the database is the record of sessions, the store only caches it: when the store
      knows nothing of the token's session (it lost its data, or never saw the session),
      the database says whether the session is still alive, and the answer is cached, so
      a logout survives a revocation store that restarts empty;
    - the user's role, plan and active flag, and an API key's owner, are read from the
      database and cached per process under the user's identity epoch, which the same
      store round trip returns on every request; every use case that changes what
      authentication depends on bumps the epoch, so a deactivation, demotion, plan change
      or key deletion applies from the very next request on every instance,
      without waiting for tokens to expire (entries also expire after a few seconds);
    - an API key still works when the store is unreachable (it then reads the database,
      as it needs no revocation check);
    - a disabled account is refused (ACCOUNT_DISABLED), whatever the credential.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        issuer: TokenIssuer,
        store: TokenStore,
        secrets: ApiKeySecrets,
        cache: AuthCache,
        config: IdentityConfig,
    ) -> None:
        self._uow_factory = uow_factory
        self._issuer = issuer
        self._store = store
        self._secrets = secrets
        self._cache = cache
        self._config = config

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
        check = await self._store.check(
            user_id=claims.user_id, token_id=claims.token_id, session_id=claims.session_id
        )
        revoked = check.revoked
        if not revoked and not check.session_known:
            revoked = await self._session_revoked(claims.session_id)
        if revoked:
            raise TokenRevoked("this token has been revoked; sign in again")
        state = await self._user_state(claims.user_id, check.epoch)
        return Principal(
            user_id=claims.user_id,
            role=state.role,
            plan=state.plan,
            method="jwt",
            session_id=claims.session_id,
            token_id=claims.token_id,
            expires_at=claims.expires_at,
        )

    async def _by_api_key(self, key: str) -> Principal:
        digest = self._secrets.digest(key)
        cached = self._cache.key(digest)
        if cached is not None:
            owner, key_epoch = cached
            epoch = await self._epoch(owner.user_id)
            if epoch is not None and epoch == key_epoch:
                state = await self._user_state(owner.user_id, epoch)
                return _key_principal(owner, state)
        else:
            # Unknown digest: find the owner first, so that the epoch is read before the
            # authoritative reads below (a change committed in between bumps it again).
            async with self._uow_factory() as uow:
                found = await uow.api_keys.get_by_hash(digest)
            if found is None:
                raise TokenInvalid("invalid API key")
            owner = KeyOwner(key_id=found.id, user_id=found.user_id)
            epoch = await self._epoch(owner.user_id)
        async with self._uow_factory() as uow:
            api_key = await uow.api_keys.get_by_hash(digest)
            user = await uow.users.get(api_key.user_id) if api_key is not None else None
        if api_key is None or user is None or api_key.user_id != owner.user_id:
            raise TokenInvalid("invalid API key")
        owner = KeyOwner(key_id=api_key.id, user_id=user.id)
        state = UserState(role=user.role, plan=user.plan, is_active=user.is_active)
        if epoch is not None:
            self._cache.put_key(digest, owner, epoch)
            self._cache.put_user(user.id, state, epoch)
        _refuse_inactive(state)
        return _key_principal(owner, state)

    async def _session_revoked(self, session_id: UUID) -> bool:
        async with self._uow_factory() as uow:
            session = await uow.auth_sessions.get(session_id)
        revoked = session is None or session.is_revoked
        # Cached for as long as a revocation entry lives: one database read per session
        # per access-token lifetime at most.
        await self._store.remember_session(
            session_id, revoked=revoked, ttl_s=self._config.revocation_ttl_s
        )
        return revoked

    async def _epoch(self, user_id: UUID) -> int | None:
        """The user's identity epoch, or None when the store cannot say (then nothing is
        cached or trusted from the cache, and the database answers)."""
        try:
            return (await self._store.check(user_id=user_id)).epoch
        except TokenStoreUnavailable:
            return None

    async def _user_state(self, user_id: UUID, epoch: int) -> UserState:
        state = self._cache.user(user_id, epoch)
        if state is None:
            async with self._uow_factory() as uow:
                user = await uow.users.get(user_id)
            if user is None:
                raise TokenInvalid("the token's user no longer exists")
            state = UserState(role=user.role, plan=user.plan, is_active=user.is_active)
            self._cache.put_user(user_id, state, epoch)
        _refuse_inactive(state)
        return state


def _key_principal(owner: KeyOwner, state: UserState) -> Principal:
    return Principal(
        user_id=owner.user_id,
        role=state.role,
        plan=state.plan,
        method="api_key",
        api_key_id=owner.key_id,
    )


def _refuse_inactive(state: UserState) -> None:
    if not state.is_active:
        raise AccountDisabled("this account has been disabled")
