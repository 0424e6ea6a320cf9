"""/api/v1/auth: register, sign in, rotate, sign out, own profile and password."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Router, get, patch, post
from litestar.params import JSONBody

from application.identity.change_password import ChangePassword, ChangePasswordCommand
from application.identity.get_me import GetMe
from application.identity.login import Login, LoginCommand
from application.identity.logout import Logout, LogoutCommand
from application.identity.principal import Principal
from application.identity.refresh import Refresh, RefreshCommand
from application.identity.register import Register, RegisterCommand
from application.identity.update_me import UpdateMe, UpdateMeCommand
from entrypoints.http.auth import PUBLIC
from entrypoints.http.middleware import scope_state
from entrypoints.http.routes.identity_dto import TokenPairOut, UserOut

# Long enough for any real password, short enough that nobody makes argon2 hash megabytes.
# The policy itself (8..128, not common) is the domain's, reported as WEAK_PASSWORD.
Secret = Annotated[str, msgspec.Meta(max_length=1024)]
Email = Annotated[str, msgspec.Meta(max_length=320)]
JwtText = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
DisplayName = Annotated[
    str,
    msgspec.Meta(max_length=100, pattern=r"^[^\x00-\x1F]*$", description="No control characters."),
]


class RegisterBody(msgspec.Struct):
    """Unknown fields (role, plan, id, ...) are ignored: they cannot be set here."""

    email: Email
    password: Secret
    display_name: DisplayName | None = None


class LoginBody(msgspec.Struct):
    email: Email
    password: Secret


class RefreshBody(msgspec.Struct):
    refresh_token: JwtText


class LogoutBody(msgspec.Struct):
    refresh_token: JwtText | None = None


class UpdateMeBody(msgspec.Struct):
    """Only ``display_name``; role, plan and email in the body have no effect."""

    display_name: DisplayName | None = None


class ChangePasswordBody(msgspec.Struct):
    current_password: Secret
    new_password: Secret


@post("/register", opt=PUBLIC, status_code=201, summary="Create an account and sign in")
@inject
async def register(data: JSONBody[RegisterBody], use_case: FromDishka[Register]) -> TokenPairOut:
    pair = await use_case(RegisterCommand(data.email, data.password, data.display_name))
    return TokenPairOut.of(pair)


@post("/login", opt=PUBLIC, status_code=200, summary="Sign in with email and password")
@inject
async def login(
    data: JSONBody[LoginBody], request: Request[Any, Any, Any], use_case: FromDishka[Login]
) -> TokenPairOut:
    client_ip = scope_state(request.scope).get("client_ip")
    pair = await use_case(LoginCommand(data.email, data.password, client_ip))
    return TokenPairOut.of(pair)


@post("/refresh", opt=PUBLIC, status_code=200, summary="Rotate the refresh token")
@inject
async def refresh(data: JSONBody[RefreshBody], use_case: FromDishka[Refresh]) -> TokenPairOut:
    return TokenPairOut.of(await use_case(RefreshCommand(data.refresh_token)))


@post("/logout", status_code=204, summary="End this session (and a given refresh token's)")
@inject
async def logout(
    principal: FromDishka[Principal],
    use_case: FromDishka[Logout],
    data: JSONBody[LogoutBody | None] = None,
) -> None:
    await use_case(LogoutCommand(principal, data.refresh_token if data else None))


@get("/me", summary="The signed-in user")
@inject
async def me(principal: FromDishka[Principal], use_case: FromDishka[GetMe]) -> UserOut:
    return UserOut.of(await use_case(principal))


@patch("/me", summary="Change the display name")
@inject
async def update_me(
    data: JSONBody[UpdateMeBody], principal: FromDishka[Principal], use_case: FromDishka[UpdateMe]
) -> UserOut:
    return UserOut.of(await use_case(UpdateMeCommand(principal, data.display_name)))


@post("/password", status_code=204, summary="Change the password; other sessions end")
@inject
async def change_password(
    data: JSONBody[ChangePasswordBody],
    principal: FromDishka[Principal],
    use_case: FromDishka[ChangePassword],
) -> None:
    await use_case(ChangePasswordCommand(principal, data.current_password, data.new_password))


ROUTES = [
    Router(
        path="/api/v1/auth",
        tags=["auth"],
        route_handlers=[register, login, refresh, logout, me, update_me, change_password],
    )
]
