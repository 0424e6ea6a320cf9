"""Sub-command groups contributed by each feature (user, chat, ...)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach feature command groups; each feature adds one line here."""
    from entrypoints.cli import user

    app.add_typer(user.app, name="user")

    from entrypoints.cli import chat

    app.command("chat")(chat.chat)

    from entrypoints.cli import models

    app.command("models")(models.list_models)

    from entrypoints.cli import search

    app.command("reindex")(search.reindex)
    app.command("search")(search.search)

    from entrypoints.cli import health

    app.command("health")(health.health)

    from entrypoints.cli import notifications

    app.command("notifications")(notifications.notifications)
    app.command("notify")(notifications.notify)
