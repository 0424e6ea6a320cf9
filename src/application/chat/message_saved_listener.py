"""Chat's ``MessageHooks`` (search indexing) as a turn listener: both messages of a turn,
the reply only if it completed."""

from __future__ import annotations

import structlog

from application.ports.message_hooks import MessageHooks
from application.ports.turn_hooks import FinishedTurn, TurnListener
from domain.messages import MessageStatus

log = structlog.get_logger("parley.chat")


class MessageSavedListener(TurnListener):
    def __init__(self, hooks: MessageHooks) -> None:
        self._hooks = hooks

    async def turn_finished(self, turn: FinishedTurn) -> None:
        saved = [turn.user_message]
        if turn.reply.status is MessageStatus.COMPLETE:
            saved.append(turn.reply)
        for message in saved:
            try:
                await self._hooks.message_saved(
                    message_id=message.id,
                    conversation_id=turn.conversation_id,
                    owner_id=turn.owner_id,
                    role=message.role.value,
                    content=message.content,
                )
            except Exception:  # one message's failure must not skip the other
                log.exception("message_saved_hook_failed", message_id=str(message.id))
