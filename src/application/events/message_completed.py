"""``message.completed``: a stored reply finished; the owner's other sockets show it."""

from __future__ import annotations

from uuid import UUID

from application.chat.views import message_data
from application.events.push import push
from application.ports.event_bus import EventBus, EventType, UserEvent
from application.ports.turn_hooks import FinishedTurn, TurnListener
from domain.messages import Message


async def announce_reply(bus: EventBus, owner_id: UUID, reply: Message) -> None:
    """Push the stored reply (complete, cancelled or failed) to the owner's sockets on every
    instance. Best-effort: a bus outage never fails or delays chat beyond one publish."""
    event = UserEvent(EventType.MESSAGE_COMPLETED, owner_id, {"message": message_data(reply)})
    await push(bus, event, not_pushed="message_completed_not_pushed", message_id=str(reply.id))


class MessageCompletedListener(TurnListener):
    """Chat's turn listener for ``message.completed``: once a reply is stored and its final
    event logged, its owner's sockets are told (the socket that started it skips it: it
    streams the reply itself). A reply the database never took is not announced."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    async def turn_finished(self, turn: FinishedTurn) -> None:
        if turn.stored:
            await announce_reply(self._bus, turn.owner_id, turn.reply)
