"""Login: exchange email and password for a token pair."""

from __future__ import annotations

from dataclasses import dataclass

from application.identity.login_throttle import LoginThrottle
from application.identity.session_tokens import SessionTokens, TokenPair
from application.ports.password_hasher import PasswordHasher
from application.ports.unit_of_work import UnitOfWork
from domain.credentials import AccountDisabled, InvalidCredentials


@dataclass(frozen=True, slots=True)
class LoginCommand:
    email: str
    password: str
    client_ip: str | None = None


class Login:
    """Business rules:
    - attempts are throttled per account and per client IP before any password check;
    - an unknown email and a wrong password give the same INVALID_CREDENTIALS error, after
      the same amount of hashing work (a dummy hash is checked for unknown emails);
    - a disabled account is reported (ACCOUNT_DISABLED) only after the right password;
    - a hash made with older argon2 parameters is upgraded on successful login;
    - every login opens a new session (refresh family) of its own.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        tokens: SessionTokens,
        throttle: LoginThrottle,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._throttle = throttle

    async def __call__(self, command: LoginCommand) -> TokenPair:
        # No format validation here: a malformed email must look like any unknown one.
        email = command.email.strip().lower()
        await self._throttle.check(email=email, client_ip=command.client_ip)
        async with self._uow as uow:
            user = await uow.users.get_by_email(email)
        stored_hash = user.password_hash if user is not None else None
        if not await self._hasher.verify(stored_hash, command.password) or user is None:
            raise InvalidCredentials("invalid email or password")
        if not user.is_active:
            raise AccountDisabled("this account has been disabled")
        new_hash = None
        if self._hasher.needs_rehash(user.password_hash):
            new_hash = await self._hasher.hash(command.password)
        async with self._uow as uow:
            # Re-read: an admin may have disabled the account while we were hashing.
            user = await uow.users.get(user.id)
            if user is None or not user.is_active:
                raise AccountDisabled("this account has been disabled")
            if new_hash is not None:
                user.password_hash = new_hash
                await uow.users.save(user)
            session = self._tokens.new_session(user)
            await uow.auth_sessions.add(session)
            await uow.commit()
        return self._tokens.pair(user, session)
