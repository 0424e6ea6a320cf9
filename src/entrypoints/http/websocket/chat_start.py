"""Starting a reply from a ``chat`` frame: SendMessage, in a new conversation if none is named."""

from __future__ import annotations

from uuid import UUID

from dishka import AsyncContainer

from application.chat.create_conversation import CreateConversation, CreateConversationCommand
from application.chat.delete_conversation import DeleteConversation
from application.chat.send_message import SendMessage, SendMessageCommand, SentMessage
from application.identity.principal import Principal
from domain.errors import DomainError
from domain.messages import check_content
from entrypoints.http.websocket.frames import ChatFrame


async def start_chat(
    container: AsyncContainer, principal: Principal, frame: ChatFrame, max_message_chars: int
) -> SentMessage:
    """The stored turn and its started reply; a refusal leaves nothing behind, not even
    the conversation it would have created."""
    if frame.conversation_id is not None:
        return await _send(container, principal, frame, frame.conversation_id)
    check_content(frame.content, max_message_chars)  # the cheap refusal before any write
    async with container() as request:
        create = await request.get(CreateConversation)
        created = await create(CreateConversationCommand(principal.user_id, model=frame.model))
    try:
        return await _send(container, principal, frame, created.id)
    except DomainError:  # quota, limits, context window...: undo the new conversation
        async with container() as request:
            await (await request.get(DeleteConversation))(principal.user_id, created.id)
        raise


async def _send(
    container: AsyncContainer, principal: Principal, frame: ChatFrame, conversation_id: UUID
) -> SentMessage:
    async with container() as request:
        send = await request.get(SendMessage)
        return await send(
            SendMessageCommand(
                owner_id=principal.user_id,
                conversation_id=conversation_id,
                content=frame.content,
                model=frame.model,
                temperature=frame.temperature,
                max_tokens=frame.max_tokens,
                plan=principal.plan,
                api_key_id=principal.api_key_id,
            )
        )
