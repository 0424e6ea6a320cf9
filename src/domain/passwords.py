"""Password policy (after NIST SP 800-63B): length 8..128 and not a known-common
password. No composition rules: they push people to ``Password1!`` and add no strength."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Final

from domain.errors import InvalidInput

MIN_PASSWORD_LENGTH: Final = 8
MAX_PASSWORD_LENGTH: Final = 128


class WeakPassword(InvalidInput):
    code = "WEAK_PASSWORD"
    title = "Password does not meet the policy"


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, read once (package data, so it works from a wheel too)."""
    text = resources.files("domain").joinpath("wordlists/common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def check_password(password: str, *, email: str = "") -> None:
    """Raise WEAK_PASSWORD (400) when ``password`` breaks the policy."""
    length = len(password)
    if length < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if length > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"the password may have at most {MAX_PASSWORD_LENGTH} characters")
    lowered = password.lower()
    if lowered in common_passwords():
        raise WeakPassword("this password is too common; choose another")
    if email and lowered in {email.lower(), email.split("@", 1)[0].lower()}:
        raise WeakPassword("the password must not be your email address")
