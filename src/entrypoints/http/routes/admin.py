"""/api/v1/admin: users, platform statistics and API usage (role admin)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Router, get, patch
from litestar.params import FromPath, JSONBody, Parameter

from application.admin.api_usage import GetApiUsage
from application.admin.platform_stats import GetPlatformStats
from application.admin.update_user import UpdateUser, UpdateUserCommand
from application.identity.list_users import ListUsers, ListUsersQuery
from application.identity.principal import Principal
from entrypoints.http.cursors import CURSOR_PATTERN, decode_cursor, encode_cursor
from entrypoints.http.routes.admin_dto import AdminUserList, AdminUserOut, ApiUsageOut, StatsOut
from entrypoints.http.routes.usage_dto import problems

ADMIN = {"admin": True}
PeriodName = Literal["1d", "7d", "30d", "month"]
ERRORS = problems(400, 401, 403, 429, 503)


class UpdateUserBody(msgspec.Struct):
    """Only the fields present change."""

    role: Literal["user", "admin"] | None = None
    plan: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    is_active: bool | None = None


@get("/users", summary="List users (oldest first)", responses=ERRORS)
@inject
async def list_users(
    principal: FromDishka[Principal],
    use_case: FromDishka[ListUsers],
    limit: Annotated[int, Parameter(ge=1, le=100, description="Page size (max 100).")] = 20,
    cursor: Annotated[
        str | None,
        Parameter(pattern=CURSOR_PATTERN, description="next_cursor of the previous page"),
    ] = None,
) -> AdminUserList:
    page = await use_case(ListUsersQuery(limit, decode_cursor(cursor), principal))
    return AdminUserList(
        items=[AdminUserOut.of(u) for u in page.items],
        next_cursor=encode_cursor(page.next_after) if page.next_after else None,
    )


@patch(
    "/users/{user_id:uuid}",
    summary="Change a user's role, plan or active flag",
    responses={**ERRORS, **problems(404)},
)
@inject
async def update_user(
    user_id: FromPath[UUID],
    data: JSONBody[UpdateUserBody],
    principal: FromDishka[Principal],
    use_case: FromDishka[UpdateUser],
) -> AdminUserOut:
    """A role or plan change applies from the user's next request; deactivating ends
    every session of the user at once, and their API keys stop working."""
    command = UpdateUserCommand(principal, user_id, data.role, data.plan, data.is_active)
    return AdminUserOut.of(await use_case(command))


@get(
    "/stats",
    summary="Platform totals: users, conversations, messages, tokens, cost, cache",
    responses=ERRORS,
)
@inject
async def stats(
    principal: FromDishka[Principal], use_case: FromDishka[GetPlatformStats]
) -> StatsOut:
    return StatsOut.of(await use_case(principal))


@get("/api-usage", summary="Requests, errors and p50/p95 latency per route", responses=ERRORS)
@inject
async def api_usage(
    principal: FromDishka[Principal],
    use_case: FromDishka[GetApiUsage],
    period: Annotated[
        PeriodName, Parameter(description="Last 1, 7 or 30 days, or this calendar month.")
    ] = "1d",
) -> ApiUsageOut:
    """Routes are templates; errors are 5xx responses; latency is the time to the response
    headers (for a stream, its first byte), over every instance."""
    return ApiUsageOut.of(await use_case(principal, period))


ROUTES = [
    Router(
        path="/api/v1/admin",
        tags=["admin"],
        opt=ADMIN,
        route_handlers=[list_users, update_user, stats, api_usage],
    )
]
