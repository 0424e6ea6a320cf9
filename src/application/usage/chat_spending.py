"""How chat turns reserve and settle quota: the few lines SendMessage and RunGeneration
call, kept here so the chat use cases stay about chat."""

from __future__ import annotations

from uuid import UUID

from application.ports.spend_guard import SpendGuard, SpendRequest, SpendTicket
from application.ports.unit_of_work import UnitOfWork
from domain.catalog import ModelSpec
from domain.messages import Message


async def reserve_chat_turn(
    spending: SpendGuard,
    uow: UnitOfWork,
    *,
    owner_id: UUID,
    plan: str | None,
    api_key_id: UUID | None,
    spec: ModelSpec,
    prompt_tokens: int,
    max_tokens: int,
    stream: bool,
) -> SpendTicket:
    """Reserve before the turn is stored, reading through the turn's own unit of work
    (``plan`` None: the account's plan is read, as for the CLI, which has no principal)."""
    request = SpendRequest(owner_id, plan, api_key_id, spec, prompt_tokens, max_tokens, stream)
    return await spending.reserve(request, uow)


async def settle_chat_reply(
    spending: SpendGuard, ticket: SpendTicket | None, reply: Message, prompt_tokens: int
) -> None:
    """Settle with the stored reply's usage. A reply that failed part-way has no reported
    usage but did consume tokens upstream: it is charged an estimate (4 characters a
    token); a reply without any text is a release."""
    if ticket is None:
        return
    model_id = reply.model or ticket.model_id
    if reply.usage is not None:
        usage = reply.usage
        await spending.settle(
            ticket,
            model_id=model_id,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )
    elif reply.content:
        await spending.settle(
            ticket,
            model_id=model_id,
            prompt_tokens=prompt_tokens,
            completion_tokens=(len(reply.content) + 3) // 4,
        )
    else:
        await spending.release(ticket)
