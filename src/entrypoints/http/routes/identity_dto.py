"""Response bodies shared by the auth and api-key routes: documented fields only."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from application.identity.session_tokens import TokenPair
from domain.users import User


class UserOut(msgspec.Struct):
    id: UUID
    email: str
    display_name: str
    role: Literal["user", "admin"]
    plan: str
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        role: Literal["user", "admin"] = "admin" if user.role == "admin" else "user"
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=role,
            plan=user.plan,
            created_at=user.created_at,
        )


class TokenPairOut(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"]
    expires_in: int
    user: UserOut

    @classmethod
    def of(cls, pair: TokenPair) -> TokenPairOut:
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            token_type="bearer",
            expires_in=pair.expires_in,
            user=UserOut.of(pair.user),
        )
