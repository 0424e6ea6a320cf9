"""Why a credential was refused. All are 401 so a client knows to sign in again.

ACCOUNT_DISABLED is a 401 too (not 403): the credential no longer authenticates anyone, and
it is only reported to a caller who proved the password or holds a once-valid token.
"""

from __future__ import annotations

from domain.errors import Unauthenticated


class InvalidCredentials(Unauthenticated):
    code = "INVALID_CREDENTIALS"
    title = "Invalid email or password"


class TokenInvalid(Unauthenticated):
    code = "TOKEN_INVALID"
    title = "Invalid token"


class TokenExpired(Unauthenticated):
    code = "TOKEN_EXPIRED"
    title = "Token expired"


class TokenRevoked(Unauthenticated):
    code = "TOKEN_REVOKED"
    title = "Token revoked"


class AccountDisabled(Unauthenticated):
    code = "ACCOUNT_DISABLED"
    title = "Account disabled"
