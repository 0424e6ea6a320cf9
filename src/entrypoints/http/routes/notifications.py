"""/api/v1/notifications: what the caller was told.

The list is also the resync path for pushes a socket missed: every notification is stored
before it is pushed.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Router, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from application.identity.principal import Principal
from application.notifications.list_notifications import (
    GetNotification,
    ListNotifications,
    ListNotificationsQuery,
)
from application.notifications.mark_read import MAX_IDS, MarkNotificationsRead, MarkReadCommand
from application.notifications.views import NotificationView, notification_view

Limit = Annotated[
    int | None,
    QueryParameter(ge=1, description="Page size: default 20; values above 100 count as 100."),
]
Cursor = Annotated[
    str | None, QueryParameter(max_length=512, description="next_cursor of the previous page")
]


class NotificationList(msgspec.Struct):
    items: list[NotificationView]
    unread_count: int
    """All of your unread notifications, whatever the page or filter."""
    next_cursor: str | None


class MarkReadBody(msgspec.Struct, forbid_unknown_fields=True):
    """``ids``: your notifications among them become read (others' ids are ignored);
    ``all: true``: every one of yours does."""

    ids: Annotated[list[UUID], msgspec.Meta(max_length=MAX_IDS)] = msgspec.field(
        default_factory=list
    )
    all: bool = False


@get("/", summary="List your notifications, newest first, with the unread count")
@inject
async def list_notifications(
    principal: FromDishka[Principal],
    use_case: FromDishka[ListNotifications],
    unread: Annotated[bool, QueryParameter(description="Only unread ones")] = False,
    limit: Limit = None,
    cursor: Cursor = None,
) -> NotificationList:
    page = await use_case(ListNotificationsQuery(principal.user_id, unread, limit, cursor))
    return NotificationList(
        [notification_view(n) for n in page.items], page.unread_count, page.next_cursor
    )


@get("/{notification_id:uuid}", summary="Read one of your notifications")
@inject
async def get_notification(
    notification_id: FromPath[UUID],
    principal: FromDishka[Principal],
    use_case: FromDishka[GetNotification],
) -> NotificationView:
    return notification_view(await use_case(principal.user_id, notification_id))


@post("/mark-read", status_code=204, summary="Mark some (ids) or all of your notifications read")
@inject
async def mark_read(
    data: JSONBody[MarkReadBody],
    principal: FromDishka[Principal],
    use_case: FromDishka[MarkNotificationsRead],
) -> None:
    await use_case(MarkReadCommand(principal.user_id, tuple(data.ids), data.all))


ROUTES = [
    Router(
        path="/api/v1/notifications",
        tags=["notifications"],
        route_handlers=[list_notifications, get_notification, mark_read],
    )
]
