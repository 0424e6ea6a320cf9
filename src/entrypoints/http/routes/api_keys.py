"""/api/v1/api-keys: the caller's long-lived keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Router, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from application.identity.create_api_key import CreateApiKey, CreateApiKeyCommand
from application.identity.delete_api_key import DeleteApiKey, DeleteApiKeyCommand
from application.identity.list_api_keys import ListApiKeys, ListApiKeysQuery
from application.identity.principal import Principal
from domain.api_keys import ApiKey
from entrypoints.http.cursors import CURSOR_PATTERN, decode_cursor, encode_cursor


class CreateApiKeyBody(msgspec.Struct):
    """Unknown fields (owner, user_id, id, ...) are ignored: a key is always the caller's."""

    name: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=100,
            pattern=r"^[^\x00-\x1F]*[^\x00-\x1F\s][^\x00-\x1F]*$",
            description="Not blank; no control characters.",
        ),
    ]


class ApiKeyOut(msgspec.Struct):
    id: UUID
    name: str
    prefix: str
    created_at: datetime

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(id=key.id, name=key.name, prefix=key.prefix, created_at=key.created_at)


class CreatedApiKeyOut(msgspec.Struct):
    """``key`` is the secret, shown this once."""

    id: UUID
    name: str
    prefix: str
    key: str
    created_at: datetime


class ApiKeyList(msgspec.Struct):
    items: list[ApiKeyOut]
    next_cursor: str | None


@post("/", status_code=201, summary="Create an API key (the key is shown once)")
@inject
async def create_api_key(
    data: JSONBody[CreateApiKeyBody],
    principal: FromDishka[Principal],
    use_case: FromDishka[CreateApiKey],
) -> CreatedApiKeyOut:
    created = await use_case(CreateApiKeyCommand(principal, data.name))
    key = created.key
    return CreatedApiKeyOut(key.id, key.name, key.prefix, created.secret, key.created_at)


@get("/", summary="List your API keys (without secrets)")
@inject
async def list_api_keys(
    principal: FromDishka[Principal],
    use_case: FromDishka[ListApiKeys],
    limit: Annotated[int, QueryParameter(ge=1, description="Page size; capped at 100.")] = 20,
    cursor: Annotated[
        str | None,
        QueryParameter(pattern=CURSOR_PATTERN, description="next_cursor of the previous page"),
    ] = None,
) -> ApiKeyList:
    page = await use_case(ListApiKeysQuery(principal, limit, decode_cursor(cursor)))
    return ApiKeyList(
        items=[ApiKeyOut.of(k) for k in page.items],
        next_cursor=encode_cursor(page.next_after) if page.next_after else None,
    )


@delete("/{key_id:uuid}", status_code=204, summary="Delete one of your API keys")
@inject
async def delete_api_key(
    key_id: FromPath[UUID], principal: FromDishka[Principal], use_case: FromDishka[DeleteApiKey]
) -> None:
    await use_case(DeleteApiKeyCommand(principal, key_id))


ROUTES = [
    Router(
        path="/api/v1/api-keys",
        tags=["api-keys"],
        route_handlers=[create_api_key, list_api_keys, delete_api_key],
    )
]
