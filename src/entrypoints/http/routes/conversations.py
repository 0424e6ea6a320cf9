"""/api/v1/conversations: the caller's conversations and their message history."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from dishka.integrations.litestar import FromDishka, inject
from litestar import Router, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import UNSET, UnsetType

from application.chat.create_conversation import CreateConversation, CreateConversationCommand
from application.chat.delete_conversation import DeleteConversation
from application.chat.get_conversation import GetConversation
from application.chat.list_conversations import ListConversations, ListConversationsQuery
from application.chat.list_messages import ListMessages, ListMessagesQuery
from application.chat.update_conversation import UpdateConversation, UpdateConversationCommand
from application.chat.views import ConversationView, conversation_view, message_view
from application.identity.principal import Principal
from entrypoints.http.routes.chat_dto import (
    ConversationList,
    CreateConversationBody,
    MessageList,
    UpdateConversationBody,
)
from entrypoints.http.routes.chat_messages import (
    cancel_generation,
    generation_events,
    send,
    send_new,
)

Limit = Annotated[
    int | None,
    QueryParameter(ge=1, description="Page size: default 20; values above 100 count as 100."),
]
Cursor = Annotated[
    str | None, QueryParameter(max_length=512, description="next_cursor of the previous page")
]


@post("/", status_code=201, summary="Start a conversation")
@inject
async def create_conversation(
    data: JSONBody[CreateConversationBody],
    principal: FromDishka[Principal],
    use_case: FromDishka[CreateConversation],
) -> ConversationView:
    command = CreateConversationCommand(
        principal.user_id, data.title, data.model, data.system_prompt, tuple(data.context_sources)
    )
    return conversation_view(await use_case(command))


@get("/", summary="List your conversations, most recently active first")
@inject
async def list_conversations(
    principal: FromDishka[Principal],
    use_case: FromDishka[ListConversations],
    limit: Limit = None,
    cursor: Cursor = None,
    q: Annotated[
        str | None,
        QueryParameter(
            max_length=200, description="Case-insensitive text in the title or any message"
        ),
    ] = None,
    archived: Annotated[
        bool | None, QueryParameter(description="Only archived (true) or active (false) ones")
    ] = None,
) -> ConversationList:
    page = await use_case(ListConversationsQuery(principal.user_id, limit, cursor, q, archived))
    return ConversationList([conversation_view(c) for c in page.items], page.next_cursor)


@get("/{conversation_id:uuid}", summary="Read one of your conversations")
@inject
async def get_conversation(
    conversation_id: FromPath[UUID],
    principal: FromDishka[Principal],
    use_case: FromDishka[GetConversation],
) -> ConversationView:
    return conversation_view(await use_case(principal.user_id, conversation_id))


@patch("/{conversation_id:uuid}", summary="Rename, switch model or prompt, (un)archive")
@inject
async def update_conversation(
    conversation_id: FromPath[UUID],
    data: JSONBody[UpdateConversationBody],
    principal: FromDishka[Principal],
    use_case: FromDishka[UpdateConversation],
) -> ConversationView:
    command = UpdateConversationCommand(
        principal.user_id,
        conversation_id,
        title=data.title,
        model=data.model,
        system_prompt=data.system_prompt,
        archived=data.archived,
        context_sources=UNSET
        if isinstance(data.context_sources, UnsetType)
        else tuple(data.context_sources),
    )
    return conversation_view(await use_case(command))


@delete(
    "/{conversation_id:uuid}", status_code=204, summary="Delete a conversation and its messages"
)
@inject
async def delete_conversation(
    conversation_id: FromPath[UUID],
    principal: FromDishka[Principal],
    use_case: FromDishka[DeleteConversation],
) -> None:
    await use_case(principal.user_id, conversation_id)


@get("/{conversation_id:uuid}/messages", summary="List a conversation's messages, oldest first")
@inject
async def list_messages(
    conversation_id: FromPath[UUID],
    principal: FromDishka[Principal],
    use_case: FromDishka[ListMessages],
    limit: Limit = None,
    cursor: Cursor = None,
) -> MessageList:
    page = await use_case(ListMessagesQuery(principal.user_id, conversation_id, limit, cursor))
    return MessageList([message_view(m) for m in page.items], page.next_cursor)


ROUTES = [
    Router(
        path="/api/v1/conversations",
        tags=["conversations"],
        route_handlers=[
            create_conversation,
            list_conversations,
            get_conversation,
            update_conversation,
            delete_conversation,
            list_messages,
            send,
            send_new,
            generation_events,
            cancel_generation,
        ],
    )
]
