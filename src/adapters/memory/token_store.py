"""In-process revocation store (embedded mode: one process, no Redis)."""

from __future__ import annotations

import time
from uuid import UUID

from application.ports.token_store import TokenStore

_SWEEP_EVERY = 1024


class MemoryTokenStore(TokenStore):
    """A dict of key -> monotonic deadline. Expired entries are swept now and then, so
    memory stays bounded by the number of tokens revoked within one access-token life."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._writes = 0

    async def revoke_token(self, token_id: str, ttl_s: int) -> None:
        self._put(f"jti:{token_id}", ttl_s)

    async def revoke_sessions(self, session_ids: list[UUID], ttl_s: int) -> None:
        for session_id in session_ids:
            self._put(f"sid:{session_id}", ttl_s)

    async def is_revoked(self, *, token_id: str, session_id: UUID | None) -> bool:
        now = time.monotonic()
        keys = [f"jti:{token_id}"] + ([f"sid:{session_id}"] if session_id else [])
        return any(self._until.get(key, 0.0) > now for key in keys)

    def _put(self, key: str, ttl_s: int) -> None:
        now = time.monotonic()
        self._until[key] = max(self._until.get(key, 0.0), now + ttl_s)
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            self._until = {k: t for k, t in self._until.items() if t > now}
