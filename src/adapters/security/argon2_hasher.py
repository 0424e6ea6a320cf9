"""argon2id password hashing (argon2-cffi), run in a worker thread.

A hash takes tens of milliseconds of CPU by design; running it inline would stall every
other request on the event loop, so each call goes through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher as Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from application.ports.password_hasher import PasswordHasher

# p = 1 as OWASP recommends for argon2id with m >= 19 MiB, t >= 2.
_PARALLELISM = 1


class Argon2PasswordHasher(PasswordHasher):
    def __init__(self, *, memory_kib: int, time_cost: int) -> None:
        self._argon2 = Argon2(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=_PARALLELISM,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        # Checked when the email is unknown, so that case costs as much as a real check.
        self._dummy_hash = self._argon2.hash("parley-dummy-password-for-timing")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._argon2.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        target = password_hash or self._dummy_hash
        matched = await asyncio.to_thread(self._verify, target, password)
        return matched and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
