"""HS256 JWTs with PyJWT: access and refresh tokens told apart by a ``typ`` claim."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import jwt

from application.ports.token_issuer import IssuedToken, TokenClaims, TokenIssuer, TokenKind
from domain.credentials import TokenExpired, TokenInvalid

_ALGORITHM = "HS256"
_REQUIRED = ["exp", "nbf", "iat", "iss", "aud", "sub", "jti", "sid", "typ"]


class JwtTokenIssuer(TokenIssuer):
    """Verification pins the algorithm list (so ``alg: none`` or an RSA/HMAC confusion
    never passes), requires every claim Parley relies on and checks each of them."""

    def __init__(self, *, secret_key: str, issuer: str, audience: str, leeway_s: int = 5) -> None:
        self._key = secret_key
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_s

    def issue(
        self,
        kind: TokenKind,
        *,
        user_id: UUID,
        session_id: UUID,
        token_id: str,
        issued_at: datetime,
        expires_at: datetime,
    ) -> IssuedToken:
        payload = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "sid": str(session_id),
            "jti": token_id,
            "typ": kind,
            "iat": int(issued_at.timestamp()),
            "nbf": int(issued_at.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        token = jwt.encode(payload, self._key, algorithm=_ALGORITHM)
        return IssuedToken(token=token, claims=_claims(payload))

    def verify(self, token: str, kind: TokenKind) -> TokenClaims:
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": _REQUIRED, "verify_signature": True},
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired("the token has expired") from None
        except jwt.PyJWTError:
            raise TokenInvalid("invalid token") from None
        if payload.get("typ") != kind:
            raise TokenInvalid(f"not an {kind} token" if kind == "access" else "invalid token")
        try:
            return _claims(payload)
        except (KeyError, TypeError, ValueError):
            raise TokenInvalid("invalid token") from None

    def new_token_id(self) -> str:
        return secrets.token_urlsafe(16)


def _claims(payload: dict[str, Any]) -> TokenClaims:
    return TokenClaims(
        kind=payload["typ"],
        user_id=UUID(str(payload["sub"])),
        session_id=UUID(str(payload["sid"])),
        token_id=str(payload["jti"]),
        issued_at=datetime.fromtimestamp(int(payload["iat"]), UTC),
        expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
    )
