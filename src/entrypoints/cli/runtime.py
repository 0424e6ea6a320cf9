"""Run a CLI command's coroutine against the same container the API uses."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import typer
from dishka import AsyncContainer

from domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from domain.users import User
from entrypoints.logging import configure_logging
from entrypoints.settings import Settings, SettingsError, load_settings

T = TypeVar("T")

EXIT_BY_KIND: list[tuple[type[DomainError], int]] = [
    (InvalidInput, 3),
    (NotFound, 4),
    (Conflict, 5),
    (Unauthenticated, 6),
    (Forbidden, 6),
    (Unavailable, 7),
]


async def user_by_email(container: AsyncContainer, email: str) -> User:
    """The account an operator names by email (USER_NOT_FOUND if none)."""
    from application.identity.find_user_by_email import FindUserByEmail

    return await (await container.get(FindUserByEmail))(email)


def exit_code_for(error: DomainError) -> int:
    """Exit codes by error kind, like HTTP statuses: scripts can tell 'not found' apart."""
    for kind, code in EXIT_BY_KIND:
        if isinstance(error, kind):
            return code
    return 1


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        typer.secho(f"configuration error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None


def run_with_container(
    work: Callable[[AsyncContainer, Settings], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Build settings and container, run ``work``, close the container; map domain errors
    to a message on stderr and a non-zero exit code."""
    from entrypoints.ioc import create_container

    settings = settings or settings_or_exit()
    configure_logging("warning", settings.json_logs)

    async def main() -> T:
        container = create_container(settings)
        try:
            return await work(container, settings)
        finally:
            await container.close()

    return _run(main())


def run_async(
    work: Callable[[Settings], Coroutine[Any, Any, T]], settings: Settings | None = None
) -> T:
    """``run_with_container`` for work that needs only the settings (no container to build)."""
    settings = settings or settings_or_exit()
    configure_logging("warning", settings.json_logs)
    return _run(work(settings))


def _run(main: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(main)
    except DomainError as exc:
        typer.secho(f"error: {exc.detail} ({exc.code})", fg="red", err=True)
        raise typer.Exit(exit_code_for(exc)) from None
