"""Who is calling: the authenticated identity every protected use case receives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller, resolved from an access JWT or an API key."""

    user_id: UUID
    role: str
    plan: str
    method: Literal["jwt", "api_key"]
    session_id: UUID | None = None
    api_key_id: UUID | None = None
    token_id: str | None = None
    expires_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
