"""`parley user ...`: account administration from the operator's shell.

Runs the same use cases as the admin API (as the trusted operator: no principal), through
the same container. Errors print a message and exit non-zero (see ``runtime``).
"""

from __future__ import annotations

import sys
from typing import TypeVar

import typer
from dishka import AsyncContainer

from application.identity.create_user import CreateUser, CreateUserCommand
from application.identity.list_users import ListUsers, ListUsersQuery
from application.identity.set_plan import SetPlan, SetPlanCommand
from application.identity.set_role import SetRole, SetRoleCommand
from domain.users import User
from entrypoints.cli.runtime import run_with_container
from entrypoints.settings import Settings

app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)

T = TypeVar("T")


async def _use_case(container: AsyncContainer, kind: type[T]) -> T:
    return await container.get(kind)


def _read_password(confirm: bool = True) -> str:
    """Hidden prompt on a terminal; otherwise one line from stdin (scripts, pipes)."""
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=confirm))
    line = sys.stdin.readline()
    if not line:
        typer.secho("error: no password given on stdin", fg="red", err=True)
        raise typer.Exit(2)
    return line.rstrip("\r\n")


def _describe(user: User) -> str:
    state = "" if user.is_active else "  (disabled)"
    return f"{user.email:<40} {user.role:<6} {user.plan:<12} {user.id}{state}"


@app.command("create")
def create(
    email: str = typer.Argument(..., help="Login email of the new account."),
    password: str | None = typer.Option(
        None, help="Password; prompted (hidden) when omitted, or read from stdin."
    ),
    role: str = typer.Option("user", help="user or admin."),
    plan: str | None = typer.Option(None, help="Plan name (default: the configured default)."),
    display_name: str | None = typer.Option(None, "--name", help="Display name."),
) -> None:
    """Create an account with a chosen role and plan."""
    secret = password if password is not None else _read_password()

    async def work(container: AsyncContainer, settings: Settings) -> User:
        async with container() as request:
            use_case = await _use_case(request, CreateUser)
            return await use_case(
                CreateUserCommand(email, secret, role=role, plan=plan, display_name=display_name)
            )

    user = run_with_container(work)
    typer.echo(f"created {_describe(user)}")


@app.command("list")
def list_users() -> None:
    """List every account: email, role, plan, id."""

    async def work(container: AsyncContainer, settings: Settings) -> list[User]:
        users: list[User] = []
        after = None
        async with container() as request:
            use_case = await _use_case(request, ListUsers)
            while True:
                page = await use_case(ListUsersQuery(limit=500, after=after))
                users.extend(page.items)
                if page.next_after is None:
                    return users
                after = page.next_after

    users = run_with_container(work)
    for user in users:
        typer.echo(_describe(user))
    typer.echo(f"{len(users)} user(s)")


@app.command("set-role")
def set_role(
    email: str = typer.Argument(..., help="The account's email."),
    role: str = typer.Argument(..., help="user or admin."),
) -> None:
    """Promote or demote a user; applies at their next request."""

    async def work(container: AsyncContainer, settings: Settings) -> User:
        async with container() as request:
            return await (await _use_case(request, SetRole))(SetRoleCommand(email, role))

    typer.echo(f"updated {_describe(run_with_container(work))}")


@app.command("set-plan")
def set_plan(
    email: str = typer.Argument(..., help="The account's email."),
    plan: str = typer.Argument(..., help="One of the configured plans."),
) -> None:
    """Move a user to another plan; applies at their next request."""

    async def work(container: AsyncContainer, settings: Settings) -> User:
        async with container() as request:
            return await (await _use_case(request, SetPlan))(SetPlanCommand(email, plan))

    typer.echo(f"updated {_describe(run_with_container(work))}")
