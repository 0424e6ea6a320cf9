"""Login sessions: one per sign-in, i.e. one refresh-token family.

Each refresh rotates ``refresh_jti``; presenting any other (older) refresh token of the
family is treated as theft and ends the whole session. A session also has an absolute
expiry that refreshing never extends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(slots=True)
class AuthSession:
    id: UUID
    user_id: UUID
    refresh_jti: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def is_current(self, refresh_jti: str) -> bool:
        return self.refresh_jti == refresh_jti
