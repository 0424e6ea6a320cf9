"""Resolve a bearer credential (access JWT or ``pk_`` API key) to a Principal.

Stub until the identity work lands: every credential is refused.
"""

from __future__ import annotations

from application.identity.principal import Principal
from domain.errors import Unauthenticated


class Authenticate:
    async def __call__(self, credential: str | None) -> Principal:
        raise Unauthenticated("missing or invalid credentials")
