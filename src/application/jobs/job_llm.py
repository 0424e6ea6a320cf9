"""Model calls made by jobs, on behalf of the job's owner.

They go through the gateway use case, so the same router (retries, fallbacks, breakers),
quota reservation and usage ledger apply as for chat. Calls stream: a cancelled job
closes its stream, and what the model produced until then is settled, not lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from application.gateway.complete_chat import CompleteChat, CompleteChatCommand
from application.identity.principal import Principal
from application.ports.llm import ChatMessage
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.users import UserNotFound


class JobLLM:
    def __init__(self, complete: CompleteChat, uow_factory: UnitOfWorkFactory) -> None:
        self._complete = complete
        self._uow_factory = uow_factory

    async def ask(
        self,
        owner_id: UUID,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        model: str | None = None,
        counts_as_message: bool = True,
    ) -> str:
        principal = await self._principal(owner_id)
        command = CompleteChatCommand(
            principal, model, tuple(messages), max_tokens=max_tokens, stream=True,
            counts_as_message=counts_as_message, send_limited=False,
        )  # fmt: skip
        reply = await self._complete(command)
        parts: list[str] = []
        if reply.chunks is not None:
            try:
                async for routed in reply.chunks:
                    if routed.chunk.delta:
                        parts.append(routed.chunk.delta)
            finally:  # settles the quota, also when the job is cancelled mid-stream
                closer = getattr(reply.chunks, "aclose", None)
                if closer is not None:
                    await closer()
        elif reply.completion is not None:
            parts.append(reply.completion.completion.content)
        return "".join(parts).strip()

    async def _principal(self, owner_id: UUID) -> Principal:
        """The owner as they are now (a plan change applies to the next call)."""
        async with self._uow_factory() as uow:
            user = await uow.users.get(owner_id)
        if user is None or not user.is_active:
            raise UserNotFound("the job's owner no longer exists")
        return Principal(user.id, user.role, user.plan, "jwt")
