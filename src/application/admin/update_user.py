"""UpdateUser: an admin changes a user's role, plan and/or active flag in one request."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.identity.config import IdentityConfig
from application.identity.principal import Principal
from application.identity.set_active import SetActive, SetActiveCommand
from application.identity.set_plan import SetPlan, SetPlanCommand
from application.identity.set_role import SetRole, SetRoleCommand
from application.identity.user_lookup import require_admin
from application.ports.unit_of_work import UnitOfWork
from domain.users import User, UserNotFound, check_plan, check_role


@dataclass(frozen=True, slots=True)
class UpdateUserCommand:
    actor: Principal
    user_id: UUID
    role: str | None = None
    plan: str | None = None
    is_active: bool | None = None


class UpdateUser:
    """Business rules:
    - admins only (the route checks too: defence in depth);
    - every field is validated before anything changes, so a bad plan does not leave
      a half-applied role change;
    - the identity use cases apply each change: a role or plan change applies from the
      user's next request, a deactivation ends every session at once.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        set_role: SetRole,
        set_plan: SetPlan,
        set_active: SetActive,
        config: IdentityConfig,
    ) -> None:
        self._uow = uow
        self._set_role = set_role
        self._set_plan = set_plan
        self._set_active = set_active
        self._config = config

    async def __call__(self, command: UpdateUserCommand) -> User:
        require_admin(command.actor)
        if command.role is not None:
            check_role(command.role)
        if command.plan is not None:
            check_plan(command.plan, self._config.plans)
        async with self._uow as uow:
            user = await uow.users.get(command.user_id)
        if user is None:
            raise UserNotFound(f"no user {command.user_id}")
        if command.role is not None and command.role != user.role:
            user = await self._set_role(SetRoleCommand(user.id, command.role, command.actor))
        if command.plan is not None and command.plan != user.plan:
            user = await self._set_plan(SetPlanCommand(user.id, command.plan, command.actor))
        if command.is_active is not None and command.is_active != user.is_active:
            user = await self._set_active(
                SetActiveCommand(user.id, command.is_active, command.actor)
            )
        return user
