"""Signed bearer tokens: short-lived access tokens and rotating refresh tokens."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

TokenKind = Literal["access", "refresh"]


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token says. ``token_id`` is the jti; ``session_id`` the family."""

    kind: TokenKind
    user_id: UUID
    session_id: UUID
    token_id: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    claims: TokenClaims


class TokenIssuer(Protocol):
    @abstractmethod
    def issue(
        self,
        kind: TokenKind,
        *,
        user_id: UUID,
        session_id: UUID,
        token_id: str,
        issued_at: datetime,
        expires_at: datetime,
    ) -> IssuedToken: ...

    @abstractmethod
    def verify(self, token: str, kind: TokenKind) -> TokenClaims:
        """Check signature, algorithm, expiry, not-before, issuer, audience and kind.

        Raises ``domain.credentials.TokenExpired`` for an expired token and
        ``TokenInvalid`` for anything else wrong; never a library error.
        """

    @abstractmethod
    def new_token_id(self) -> str:
        """A fresh unguessable jti."""
