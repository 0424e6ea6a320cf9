"""Background titles: after a new conversation's first complete exchange, an internal job
asks the model for a short title (the job keeps a title the owner set)."""

from __future__ import annotations

import structlog

from application.jobs.kinds.title import TitleConversation
from application.jobs.submit_internal import SubmitInternalJob
from application.ports.turn_hooks import FinishedTurn, TurnListener
from domain.messages import MessageStatus

log = structlog.get_logger("parley.jobs")


class TitleOnFirstExchange(TurnListener):
    """Queues the title job; a failure to queue it never reaches chat."""

    def __init__(self, submit: SubmitInternalJob) -> None:
        self._submit = submit

    async def turn_finished(self, turn: FinishedTurn) -> None:
        if not (
            turn.first_exchange and turn.stored and turn.reply.status is MessageStatus.COMPLETE
        ):
            return
        try:
            await self._submit(
                turn.owner_id,
                TitleConversation.kind,
                {"conversation_id": str(turn.conversation_id)},
            )
        except Exception as exc:
            log.warning(
                "title_job_not_queued",
                conversation_id=str(turn.conversation_id),
                error=type(exc).__name__,
            )
