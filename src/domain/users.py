"""Users: who may sign in, with which role and plan.

The email is the login name, stored normalised (trimmed, lowercase) so ``Ann@X.org`` and
``ann@x.org`` are one account. Role and plan change only through admin use cases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

from domain.errors import Conflict, InvalidInput, NotFound

ROLES: Final = ("user", "admin")
MAX_EMAIL_LENGTH: Final = 254
MAX_DISPLAY_NAME_LENGTH: Final = 100

# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is not ours
# to prove; the aim is to refuse obvious garbage with a clear error.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


class EmailTaken(Conflict):
    code = "EMAIL_TAKEN"
    title = "Email already registered"


class UserNotFound(NotFound):
    code = "USER_NOT_FOUND"
    title = "User not found"


class InvalidRole(InvalidInput):
    code = "INVALID_ROLE"
    title = "Unknown role"


class InvalidPlan(InvalidInput):
    code = "INVALID_PLAN"
    title = "Unknown plan"


def field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, details={"fields": [{"field": field, "message": message}]})


def normalise_email(raw: str) -> str:
    """The canonical login name; raises VALIDATION_ERROR naming the ``email`` field."""
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise field_error("email", "not a valid email address")
    return email


def clean_display_name(raw: str | None, email: str) -> str:
    """Trimmed display name; none given means the part of the email before the @."""
    name = (raw or "").strip() or email.split("@", 1)[0]
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise field_error("display_name", f"at most {MAX_DISPLAY_NAME_LENGTH} characters")
    if any(ord(ch) < 32 for ch in name):
        raise field_error("display_name", "control characters are not allowed")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidRole(f"role must be one of: {', '.join(ROLES)}")
    return role


def check_plan(plan: str, plans: tuple[str, ...]) -> str:
    if plan not in plans:
        raise InvalidPlan(f"plan must be one of: {', '.join(plans)}")
    return plan


@dataclass(slots=True)
class User:
    """An account. ``password_hash`` never leaves the server."""

    id: UUID
    email: str
    display_name: str
    role: str
    plan: str
    is_active: bool
    password_hash: str
    created_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def rename(self, display_name: str) -> None:
        self.display_name = clean_display_name(display_name, self.email)

    def change_role(self, role: str) -> None:
        self.role = check_role(role)

    def change_plan(self, plan: str, plans: tuple[str, ...]) -> None:
        self.plan = check_plan(plan, plans)
