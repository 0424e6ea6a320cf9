"""Admin commands name a user by id (HTTP) or by email (CLI); resolve either."""

from __future__ import annotations

from uuid import UUID

from application.identity.principal import Principal
from application.ports.unit_of_work import UnitOfWork
from domain.errors import Forbidden
from domain.users import User, UserNotFound


def require_admin(actor: Principal | None) -> None:
    """``None`` is the operator at the CLI (trusted); a principal must be an admin."""
    if actor is not None and not actor.is_admin:
        raise Forbidden("this action needs the admin role")


async def find_user(uow: UnitOfWork, ref: UUID | str) -> User:
    if isinstance(ref, UUID):
        user = await uow.users.get(ref)
    else:
        user = await uow.users.get_by_email(ref.strip().lower())
    if user is None:
        raise UserNotFound(f"no user {ref}")
    return user
