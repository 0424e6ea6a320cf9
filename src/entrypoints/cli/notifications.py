"""`parley notifications` and `parley notify`: the notification use cases from the shell."""

from __future__ import annotations

import json

import typer
from dishka import AsyncContainer

from application.notifications.list_notifications import (
    ListNotifications,
    ListNotificationsQuery,
    NotificationPage,
)
from application.notifications.mark_read import MarkNotificationsRead, MarkReadCommand
from application.notifications.notify_user import NotifyUser, NotifyUserCommand
from domain.notifications import Notification
from entrypoints.cli.runtime import run_with_container, user_by_email
from entrypoints.settings import Settings


def notifications(
    user: str = typer.Option(..., "--user", help="Email of the user whose notifications to list."),
    unread: bool = typer.Option(False, "--unread", help="Only unread ones."),
    limit: int = typer.Option(20, help="How many, newest first (capped at 100)."),
    mark_read: bool = typer.Option(
        False, "--mark-read", help="Then mark every one of the user's notifications read."
    ),
) -> None:
    """List a user's notifications, newest first, as GET /api/v1/notifications does."""

    async def work(container: AsyncContainer, settings: Settings) -> tuple[NotificationPage, int]:
        owner = await user_by_email(container, user)
        async with container() as request:
            listing = await request.get(ListNotifications)
            page = await listing(ListNotificationsQuery(owner.id, unread, limit))
            marked = 0
            if mark_read:
                marked = await (await request.get(MarkNotificationsRead))(
                    MarkReadCommand(owner.id, all=True)
                )
        return page, marked

    page, marked = run_with_container(work)
    typer.echo(f"{page.unread_count} unread")
    for item in page.items:
        flag = " " if item.read else "*"
        typer.echo(f"{flag} {item.created_at:%Y-%m-%d %H:%M:%S}  {item.id}  {item.kind:<16} "
                   f"{item.title}")  # fmt: skip
    if mark_read:
        typer.echo(f"marked {marked} read")


def notify(
    user: str = typer.Option(..., "--user", help="Email of the user to notify."),
    title: str = typer.Option(..., "--title", help="Short title."),
    body: str = typer.Option("", "--body", help="Longer text."),
    kind: str = typer.Option("announcement", "--kind", help="What it is about."),
    data: str = typer.Option("{}", "--data", help="JSON object attached to the notification."),
) -> None:
    """Notify a user as the server does (stored, then pushed to their open sockets)."""
    try:
        extra = json.loads(data)
    except ValueError:
        extra = None
    if not isinstance(extra, dict):
        typer.secho("error: --data must be a JSON object (VALIDATION_ERROR)", fg="red", err=True)
        raise typer.Exit(3)

    async def work(container: AsyncContainer, settings: Settings) -> Notification:
        owner = await user_by_email(container, user)
        notify_user = await container.get(NotifyUser)
        return await notify_user(NotifyUserCommand(owner.id, kind, title, body, extra))

    typer.echo(str(run_with_container(work).id))
