"""In-process revocation store (embedded mode: one process, no Redis)."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from uuid import UUID

from application.ports.token_store import IdentityCheck, TokenStore, TokenStoreUnavailable

_SWEEP_EVERY = 1024


class MemoryTokenStore(TokenStore):
    """A dict of key -> monotonic deadline. Expired entries are swept now and then, so
    memory stays bounded by the number of tokens revoked within one access-token life.
    Sessions the database said are alive are kept the same way (``alive:`` keys); a
    process restart forgets everything, and the database is asked again.

    Identity epochs: a counter per user for changes made in this process, plus, when
    ``epoch_file`` is given (the embedded data directory), a random token rewritten on
    every bump, so that a change made by another process on the same database (the CLI)
    invalidates this process's cached identities at its next request too. Reading the
    token is one small read of a page-cached file per request.
    """

    def __init__(self, epoch_file: Path | None = None) -> None:
        self._until: dict[str, float] = {}
        self._writes = 0
        # One small int per user whose identity ever changed in this process.
        self._epochs: dict[UUID, int] = {}
        self._epoch_file = epoch_file
        self._file_token: bytes | None = None
        self._generation = 0

    async def revoke_token(self, token_id: str, ttl_s: int) -> None:
        self._put(f"jti:{token_id}", ttl_s)

    async def revoke_sessions(self, session_ids: list[UUID], ttl_s: int) -> None:
        for session_id in session_ids:
            self._put(f"sid:{session_id}", ttl_s)

    async def remember_session(self, session_id: UUID, *, revoked: bool, ttl_s: int) -> None:
        if revoked:
            self._put(f"sid:{session_id}", ttl_s)
        elif self._until.get(f"sid:{session_id}", 0.0) <= time.monotonic():
            self._put(f"alive:{session_id}", ttl_s)

    async def is_revoked(self, *, token_id: str, session_id: UUID | None) -> bool:
        now = time.monotonic()
        keys = [f"jti:{token_id}"] + ([f"sid:{session_id}"] if session_id else [])
        return any(self._until.get(key, 0.0) > now for key in keys)

    async def check(
        self, *, user_id: UUID, token_id: str | None = None, session_id: UUID | None = None
    ) -> IdentityCheck:
        now = time.monotonic()
        token_revoked = token_id is not None and self._until.get(f"jti:{token_id}", 0.0) > now
        session_revoked = session_id is not None and self._until.get(f"sid:{session_id}", 0.0) > now
        known = (
            session_id is None
            or session_revoked
            or self._until.get(f"alive:{session_id}", 0.0) > now
        )
        return IdentityCheck(
            revoked=token_revoked or session_revoked,
            epoch=self._epoch(user_id),
            session_known=known,
        )

    async def bump_identity_epoch(self, user_id: UUID) -> None:
        self._epochs[user_id] = self._epochs.get(user_id, 0) + 1
        if self._epoch_file is not None:
            tmp = self._epoch_file.with_name(f".{self._epoch_file.name}.{secrets.token_hex(8)}")
            try:
                tmp.write_bytes(secrets.token_bytes(16))
                os.replace(tmp, self._epoch_file)  # atomic: readers see old or new token
            except OSError as exc:
                raise TokenStoreUnavailable("cannot record the change; try again") from exc

    def _epoch(self, user_id: UUID) -> int:
        if self._epoch_file is not None:
            token = _read_token(self._epoch_file)
            if token != self._file_token:
                self._file_token = token
                self._generation += 1  # some process changed some identity: reload all
        return (self._generation << 32) | (self._epochs.get(user_id, 0) & 0xFFFFFFFF)

    def _put(self, key: str, ttl_s: int) -> None:
        now = time.monotonic()
        self._until[key] = max(self._until.get(key, 0.0), now + ttl_s)
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            self._until = {k: t for k, t in self._until.items() if t > now}


def _read_token(path: Path) -> bytes:
    """The epoch file's token (b"" when absent): raw reads, as it is read on every request
    (a buffered file object costs several times the two system calls)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return b""
    try:
        return os.read(fd, 64)
    finally:
        os.close(fd)
