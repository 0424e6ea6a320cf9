"""Chat repositories: rows in, domain objects out; owner-scoped lookups; keyset pages.

What a chat turn runs (read the conversation and its recent history, count the messages,
insert the turn, finish the reply) is written as Core statements on the tables: no ORM
identity map, unit-of-work flush or per-row instance state, which a profile of a stored
turn showed to be most of its CPU once a conversation has some history.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Row,
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.models.chat import ConversationRow, MessageRow
from adapters.persistence.repositories.cursors import (
    decode_cursor,
    decode_time_cursor,
    encode_cursor,
    encode_time_cursor,
)
from adapters.persistence.repositories.grounding_json import (
    context_from_json,
    context_json,
    sources_from_json,
    sources_json,
)
from adapters.persistence.repositories.results import rowcount
from application.ports.conversations import ConversationRepository, MessageRepository
from domain.context_window import Turn
from domain.conversations import Conversation, SourceRef
from domain.messages import Message, MessageStatus, Role, TokenUsage
from domain.pagination import InvalidCursor, Page

NANO = Decimal("1e-9")
STREAMING = MessageStatus.STREAMING.value
PROMPT_STATUSES = (MessageStatus.COMPLETE.value, MessageStatus.CANCELLED.value)
CONVERSATIONS: Table = ConversationRow.__table__  # type: ignore[assignment]
MESSAGES: Table = MessageRow.__table__  # type: ignore[assignment]
_C, _M = CONVERSATIONS.c, MESSAGES.c

# Built once per process: the statements of every chat turn (bind parameters, no per-call
# construction or cache-key walk of a fresh statement).
_GET_CONVERSATION = select(CONVERSATIONS).where(
    _C.id == bindparam("p_id"), _C.owner_id == bindparam("p_owner_id")
)
_NOW = bindparam("p_now", type_=_C.updated_at.type)
_CLAIM_TURN = (
    update(CONVERSATIONS)
    .where(_C.id == bindparam("p_id"), _C.owner_id == bindparam("p_owner_id"))
    .values(
        message_count=_C.message_count + bindparam("p_added"),
        updated_at=case((_C.updated_at > _NOW, _C.updated_at), else_=_NOW),
    )
    .returning(*CONVERSATIONS.c)
)
_PROMPT_HISTORY = (
    select(_M.role, _M.content)
    .where(
        _M.conversation_id == bindparam("p_conversation_id"),
        _M.status.in_(PROMPT_STATUSES),
        _M.content != "",
    )
    .order_by(_M.position.desc())
    .limit(bindparam("p_limit"))
)
# A turn's context in one round trip: the conversation and its prompt history (each turn
# as [role, content, position], sorted here, so no aggregate order is relied on).
_HISTORY_ROWS = (
    select(_M.role, _M.content, _M.position)
    .where(
        _M.conversation_id == bindparam("p_history_of"),
        _M.status.in_(PROMPT_STATUSES),
        _M.content != "",
    )
    .order_by(_M.position.desc())
    .limit(bindparam("p_limit"))
    .subquery("h")
)
_HISTORY_ITEM = (_HISTORY_ROWS.c.role, _HISTORY_ROWS.c.content, _HISTORY_ROWS.c.position)
_CONTEXT_BY_DIALECT = {
    "postgresql": select(
        CONVERSATIONS,
        select(
            func.coalesce(
                func.json_agg(func.json_build_array(*_HISTORY_ITEM)),
                literal_column("'[]'::json"),
            )
        )
        .scalar_subquery()
        .label("history"),
    ).where(_C.id == bindparam("p_id"), _C.owner_id == bindparam("p_owner_id")),
    "sqlite": select(
        CONVERSATIONS,
        select(func.json_group_array(func.json_array(*_HISTORY_ITEM)))
        .scalar_subquery()
        .label("history"),
    ).where(_C.id == bindparam("p_id"), _C.owner_id == bindparam("p_owner_id")),
}
# PostgreSQL: a whole turn written in one self-committing statement. The conversation row
# (claimed: the next two positions, ``updated_at`` never back, the first message's title;
# or inserted, for a new one) is a data-modifying CTE; both messages are inserted at the
# positions it returned. Nothing is written unless all of it is.
_TURN_MESSAGE_COLUMNS = [c.name for c in MESSAGES.c if c.name != "sa_orm_sentinel"]
_NEW_CONVERSATION_COLUMNS = (
    "id", "owner_id", "title", "auto_title", "model", "system_prompt", "archived",
    "message_count", "created_at", "updated_at", "source_kind", "source_id", "context_sources",
)  # fmt: skip
_TITLE = bindparam("p_title", type_=_C.title.type)
_CLAIM_TWO_FIRST = (
    update(CONVERSATIONS)
    .where(_C.id == bindparam("p_id"), _C.owner_id == bindparam("p_owner_id"))
    .values(
        message_count=_C.message_count + 2,
        updated_at=case((_C.updated_at > _NOW, _C.updated_at), else_=_NOW),
        title=case((and_(_C.message_count == 0, _TITLE.is_not(None)), _TITLE), else_=_C.title),
    )
    .returning((_C.message_count - 2).label("first"))
)
_CLAIM_TWO = _CLAIM_TWO_FIRST.cte("turn_start")
_CREATE = (
    insert(CONVERSATIONS)
    .values({n: bindparam(f"c_{n}", type_=_C[n].type) for n in _NEW_CONVERSATION_COLUMNS})
    .returning(literal_column("0").label("first"))
    .cte("turn_start")
)


def _turn_insert(start: Any) -> Any:
    """INSERT of a turn's two messages (bind parameters ``u_*`` and ``r_*``) at the positions
    ``start.first`` and the next one."""

    def row(prefix: str, offset: int) -> Any:
        return select(
            *(
                (start.c.first + offset).label(name)
                if name == "position"
                else bindparam(f"{prefix}_{name}", type_=_M[name].type).label(name)
                for name in _TURN_MESSAGE_COLUMNS
            )
        ).select_from(start)

    rows = union_all(row("u", 0), row("r", 1))
    return insert(MESSAGES).from_select(_TURN_MESSAGE_COLUMNS, rows).returning(_M.position)


_STORE_TURN = _turn_insert(_CLAIM_TWO)
_STORE_NEW_TURN = _turn_insert(_CREATE)
_FINISH = (
    update(MESSAGES)
    .where(_M.id == bindparam("p_message_id"), _M.status == STREAMING)
    .values(
        content=bindparam("p_content"),
        status=bindparam("p_status"),
        model=bindparam("p_model"),
        prompt_tokens=bindparam("p_prompt_tokens"),
        completion_tokens=bindparam("p_completion_tokens"),
        cost_nano_usd=bindparam("p_cost_nano_usd"),
        error_code=bindparam("p_error_code"),
        lease_until=None,
        context=bindparam("p_context"),
    )
)
_INSERT_MESSAGES = insert(MESSAGES)


class SqlConversationRepository(ConversationRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, conversation: Conversation) -> None:
        await self._session.execute(insert(CONVERSATIONS), [_conversation_values(conversation)])

    async def get(self, conversation_id: UUID, owner_id: UUID) -> Conversation | None:
        result = await self._session.execute(
            _GET_CONVERSATION, {"p_id": conversation_id, "p_owner_id": owner_id}
        )
        row = result.first()
        return _conversation(row) if row is not None else None

    async def claim_turn(
        self, conversation_id: UUID, owner_id: UUID, added: int, now: datetime
    ) -> Conversation | None:
        result = await self._session.execute(
            _CLAIM_TURN,
            {"p_id": conversation_id, "p_owner_id": owner_id, "p_added": added, "p_now": now},
        )
        row = result.first()
        if row is None:
            return None
        conversation = _conversation(row)
        conversation.message_count -= added
        return conversation

    async def turn_context(
        self,
        conversation_id: UUID,
        owner_id: UUID,
        messages: MessageRepository,
        history_limit: int,
    ) -> tuple[Conversation, list[Turn]] | None:
        statement = _CONTEXT_BY_DIALECT.get(self._session.get_bind().dialect.name)
        if statement is None:
            return await super().turn_context(conversation_id, owner_id, messages, history_limit)
        result = await self._session.execute(
            statement,
            {
                "p_id": conversation_id,
                "p_owner_id": owner_id,
                "p_history_of": conversation_id,
                "p_limit": history_limit,
            },
        )
        row = result.first()
        if row is None:
            return None
        history = row.history
        if isinstance(history, str | bytes):
            history = json.loads(history)
        history.sort(key=lambda item: item[2])
        return _conversation(row), [Turn(role, content) for role, content, _ in history]

    async def store_turn(
        self,
        conversation: Conversation,
        user: Message,
        reply: Message,
        *,
        messages: MessageRepository,
        created: bool,
        title: str | None,
        now: datetime,
        lease_until: datetime,
    ) -> int | None:
        claim = {
            "p_id": conversation.id, "p_owner_id": conversation.owner_id, "p_now": now,
            "p_title": title,
        }  # fmt: skip
        if self._session.get_bind().dialect.name != "postgresql":
            # SQLite has no INSERT or UPDATE inside a WITH; there the turn's statements share
            # its transaction, and cost no network round trip: the same claim (first
            # position only), then both messages in one INSERT.
            claimed = 0 if created else await self._session.scalar(_CLAIM_TWO_FIRST, claim)
            if claimed is None:
                return None
            if created:
                await self.add(conversation)
            user.position, reply.position = claimed, claimed + 1
            await messages.add_turn(user, reply, lease_until=lease_until)
            return int(claimed)
        values = {f"u_{k}": v for k, v in _message_values(user).items()}
        values.update({f"r_{k}": v for k, v in _message_values(reply, lease_until).items()})
        if created:
            stored = _conversation_values(conversation)
            values.update({f"c_{name}": stored[name] for name in _NEW_CONVERSATION_COLUMNS})
        else:
            values.update(claim)
        result = await self._session.execute(_STORE_NEW_TURN if created else _STORE_TURN, values)
        positions: list[int] = list(result.scalars())
        if not positions:
            return None  # deleted since it was read
        first = min(positions)
        user.position, reply.position = first, first + 1
        return first

    async def page(
        self,
        owner_id: UUID,
        *,
        limit: int,
        cursor: str | None = None,
        query: str | None = None,
        archived: bool | None = None,
        message_matches: Collection[UUID] | None = None,
    ) -> Page[Conversation]:
        c = ConversationRow
        stmt = select(c).where(c.owner_id == owner_id)
        if archived is not None:
            stmt = stmt.where(c.archived == archived)
        if query:
            pattern = f"%{_escape_like(query)}%"
            in_messages: ColumnElement[bool] = exists().where(
                MessageRow.conversation_id == c.id,
                MessageRow.content.ilike(pattern, escape="\\"),
            )
            if message_matches is not None:
                in_messages = c.id.in_(list(message_matches))
            stmt = stmt.where(or_(c.title.ilike(pattern, escape="\\"), in_messages))
        if cursor is not None:
            updated_at, last_id = decode_time_cursor(cursor, key="u")
            stmt = stmt.where(
                or_(c.updated_at < updated_at, and_(c.updated_at == updated_at, c.id < last_id))
            )
        stmt = stmt.order_by(c.updated_at.desc(), c.id.desc()).limit(limit + 1)
        rows = list(await self._session.scalars(stmt))
        items = [_conversation(r) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_time_cursor(last.updated_at, last.id, key="u")
        return Page(items, next_cursor)

    async def save(self, conversation: Conversation) -> None:
        await self._session.execute(
            update(ConversationRow)
            .where(ConversationRow.id == conversation.id)
            .values(
                title=conversation.title,
                auto_title=conversation.auto_title,
                model=conversation.model,
                system_prompt=conversation.system_prompt,
                archived=conversation.archived,
                updated_at=conversation.updated_at,
                context_sources=sources_json(conversation.context_sources),
            )
            .execution_options(synchronize_session=False)
        )

    async def set_summary(self, conversation_id: UUID, owner_id: UUID, summary: str) -> bool:
        c = ConversationRow
        result = await self._session.execute(
            update(c)
            .where(c.id == conversation_id, c.owner_id == owner_id)
            .values(summary=summary)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) > 0

    async def retitle(self, conversation_id: UUID, owner_id: UUID, *, old: str, new: str) -> bool:
        c = ConversationRow
        result = await self._session.execute(
            update(c)
            .where(c.id == conversation_id, c.owner_id == owner_id, c.title == old)
            .values(title=new)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) > 0

    async def delete(self, conversation_id: UUID, owner_id: UUID) -> bool:
        # Messages go with it: ON DELETE CASCADE (SQLite runs with foreign_keys=ON).
        result = await self._session.execute(
            delete(ConversationRow)
            .where(ConversationRow.id == conversation_id, ConversationRow.owner_id == owner_id)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) > 0

    async def with_source(self, owner_id: UUID, source: SourceRef) -> UUID | None:
        c = ConversationRow
        found = await self._session.scalar(
            select(c.id).where(
                c.owner_id == owner_id, c.source_kind == source.kind, c.source_id == source.id
            )
        )
        return found

    async def with_sources(
        self, owner_id: UUID, sources: Collection[SourceRef]
    ) -> dict[SourceRef, UUID]:
        c = ConversationRow
        found: dict[SourceRef, UUID] = {}
        by_kind: dict[str, list[str]] = {}
        for source in sources:
            by_kind.setdefault(source.kind, []).append(source.id)
        for kind, ids in by_kind.items():
            rows = await self._session.execute(
                select(c.source_id, c.id).where(
                    c.owner_id == owner_id, c.source_kind == kind, c.source_id.in_(ids)
                )
            )
            found.update({SourceRef(kind, str(source_id)): cid for source_id, cid in rows})
        return found

    async def add_imported(self, conversation: Conversation, messages: Collection[Message]) -> None:
        # Table-level (Core) inserts, one executemany for the messages: an import stores
        # thousands of rows a second. The ORM's bulk path would split the rows into runs
        # by which columns are NULL (user and assistant rows alternate), one statement each.
        source = conversation.source
        connection = await self._session.connection()
        if connection.dialect.name == "postgresql":
            # Do not wait for the WAL flush at commit: a crash may lose the last moment of
            # an import, which is idempotent and runs again (at least once), never data a
            # user typed. Halves the time of a large import on a busy disk.
            await connection.execute(text("SET LOCAL synchronous_commit TO OFF"))
        await connection.execute(
            insert(CONVERSATIONS).values(
                id=conversation.id,
                owner_id=conversation.owner_id,
                title=conversation.title,
                model=conversation.model,
                system_prompt=conversation.system_prompt,
                archived=conversation.archived,
                message_count=conversation.message_count,
                created_at=conversation.created_at,
                updated_at=conversation.updated_at,
                source_kind=source.kind if source else None,
                source_id=source.id if source else None,
            )
        )
        if messages:
            rows = [_message_values(m) for m in messages]
            await connection.execute(insert(MESSAGES), rows)

    async def set_archived(
        self, owner_id: UUID, ids: Collection[UUID], archived: bool
    ) -> set[UUID]:
        if not ids:
            return set()
        c = ConversationRow
        rows = await self._session.scalars(
            update(c)
            .where(c.owner_id == owner_id, c.id.in_(list(ids)))
            .values(archived=archived)
            .returning(c.id)
            .execution_options(synchronize_session=False)
        )
        return set(rows)

    async def delete_many(self, owner_id: UUID, ids: Collection[UUID]) -> set[UUID]:
        if not ids:
            return set()
        c = ConversationRow
        rows = await self._session.scalars(
            delete(c)
            .where(c.owner_id == owner_id, c.id.in_(list(ids)))
            .returning(c.id)
            .execution_options(synchronize_session=False)
        )
        return set(rows)


class SqlMessageRepository(MessageRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, message: Message, *, lease_until: datetime | None = None) -> None:
        await self._session.execute(_INSERT_MESSAGES, [_message_values(message, lease_until)])

    async def add_turn(
        self, user: Message, reply: Message, *, lease_until: datetime | None = None
    ) -> None:
        # One INSERT of both rows: the hot path of every chat turn.
        await self._session.execute(
            _INSERT_MESSAGES, [_message_values(user, None), _message_values(reply, lease_until)]
        )

    async def prompt_history(self, conversation_id: UUID, limit: int) -> list[Turn]:
        result = await self._session.execute(
            _PROMPT_HISTORY, {"p_conversation_id": conversation_id, "p_limit": limit}
        )
        return [Turn(row[0], row[1]) for row in reversed(result.all())]

    async def get(self, message_id: UUID) -> Message | None:
        row = await self._session.get(MessageRow, message_id)
        return message_from_row(row) if row is not None else None

    async def page(
        self, conversation_id: UUID, *, limit: int, cursor: str | None = None
    ) -> Page[Message]:
        stmt = select(MessageRow).where(MessageRow.conversation_id == conversation_id)
        if cursor is not None:
            stmt = stmt.where(MessageRow.position > _position_key(cursor))
        rows = list(
            await self._session.scalars(stmt.order_by(MessageRow.position).limit(limit + 1))
        )
        next_cursor = encode_cursor({"p": rows[limit - 1].position}) if len(rows) > limit else None
        return Page([message_from_row(r) for r in rows[:limit]], next_cursor)

    async def recent(self, conversation_id: UUID, limit: int) -> list[Message]:
        rows = await self._session.scalars(
            select(MessageRow)
            .where(MessageRow.conversation_id == conversation_id)
            .order_by(MessageRow.position.desc())
            .limit(limit)
        )
        return [message_from_row(r) for r in reversed(list(rows))]

    async def finish(self, message: Message) -> bool:
        usage = message.usage
        result = await self._session.execute(
            _FINISH,
            {
                "p_message_id": message.id,
                "p_content": message.content,
                "p_status": message.status.value,
                "p_model": message.model,
                "p_prompt_tokens": usage.prompt_tokens if usage else None,
                "p_completion_tokens": usage.completion_tokens if usage else None,
                "p_cost_nano_usd": _nano(message.cost_usd),
                "p_error_code": message.error_code,
                "p_context": context_json(message.context),
            },
        )
        return rowcount(result) == 1

    async def renew_leases(self, message_ids: Collection[UUID], until: datetime) -> None:
        if not message_ids:
            return
        await self._session.execute(
            update(MessageRow)
            .where(MessageRow.id.in_(list(message_ids)), MessageRow.status == STREAMING)
            .values(lease_until=until)
            .execution_options(synchronize_session=False)
        )

    async def orphaned(self, now: datetime, limit: int) -> list[Message]:
        rows = await self._session.scalars(
            select(MessageRow)
            .where(
                MessageRow.status == STREAMING,
                or_(MessageRow.lease_until.is_(None), MessageRow.lease_until < now),
            )
            .order_by(MessageRow.created_at)
            .limit(limit)
        )
        return [message_from_row(r) for r in rows]


def _conversation_values(conversation: Conversation) -> dict[str, Any]:
    source = conversation.source
    return {
        "id": conversation.id,
        "owner_id": conversation.owner_id,
        "title": conversation.title,
        "auto_title": conversation.auto_title,
        "model": conversation.model,
        "system_prompt": conversation.system_prompt,
        "archived": conversation.archived,
        "message_count": conversation.message_count,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "source_kind": source.kind if source else None,
        "source_id": source.id if source else None,
        "context_sources": sources_json(conversation.context_sources),
    }


def _message_values(message: Message, lease_until: datetime | None = None) -> dict[str, Any]:
    usage = message.usage
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "position": message.position,
        "role": message.role.value,
        "content": message.content,
        "status": message.status.value,
        "model": message.model,
        "prompt_tokens": usage.prompt_tokens if usage else None,
        "completion_tokens": usage.completion_tokens if usage else None,
        "cost_nano_usd": _nano(message.cost_usd),
        "error_code": message.error_code,
        "generation_id": message.generation_id,
        "lease_until": lease_until,
        "created_at": message.created_at,
        "reasoning": message.reasoning,
        "context": context_json(message.context),
    }


def _conversation(row: ConversationRow | Row[Any]) -> Conversation:
    return Conversation(
        id=row.id,
        owner_id=row.owner_id,
        title=row.title,
        model=row.model,
        system_prompt=row.system_prompt,
        archived=row.archived,
        message_count=row.message_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
        source=SourceRef(row.source_kind, row.source_id)
        if row.source_kind is not None and row.source_id is not None
        else None,
        summary=row.summary,
        auto_title=row.auto_title,
        context_sources=sources_from_json(row.context_sources),
    )


def message_from_row(row: MessageRow) -> Message:
    usage = None
    if row.prompt_tokens is not None and row.completion_tokens is not None:
        usage = TokenUsage(row.prompt_tokens, row.completion_tokens)
    return Message(
        id=row.id,
        conversation_id=row.conversation_id,
        role=Role(row.role),
        content=row.content,
        status=MessageStatus(row.status),
        created_at=row.created_at,
        model=row.model,
        usage=usage,
        cost_usd=Decimal(row.cost_nano_usd) * NANO,
        error_code=row.error_code,
        generation_id=row.generation_id,
        position=row.position,
        reasoning=row.reasoning,
        context=context_from_json(row.context),
    )


def _nano(amount: Decimal) -> int:
    return int((amount / NANO).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _position_key(cursor: str) -> int:
    position = decode_cursor(cursor, ("p",))["p"]
    if not isinstance(position, int) or isinstance(position, bool):
        raise InvalidCursor("the cursor is not one this API returned")
    return position
