"""A conversation: one user's thread of messages with a model and an optional system prompt."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.errors import InvalidInput, NotFound
from domain.text import refuse_nul

DEFAULT_TITLE = "New conversation"
MAX_TITLE_CHARS = 200
AUTO_TITLE_CHARS = 80


class ConversationNotFound(NotFound):
    """Missing, or someone else's: both look the same to the caller (never 403)."""

    code = "CONVERSATION_NOT_FOUND"
    title = "Conversation not found"


class InvalidTitle(InvalidInput):
    code = "INVALID_TITLE"
    title = "Invalid title"


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where an imported conversation came from: ``kind`` (chatgpt, claude, openwebui,
    parley) and its id there. One owner holds at most one conversation per source ref."""

    kind: str
    id: str


@dataclass(slots=True)
class Conversation:
    """Belongs to exactly one owner for its whole life; ``updated_at`` is the last activity."""

    id: UUID
    owner_id: UUID
    title: str
    model: str
    system_prompt: str | None
    archived: bool
    message_count: int
    created_at: datetime
    updated_at: datetime
    source: SourceRef | None = None
    summary: str | None = None
    """Written by a summarize job."""
    auto_title: bool = False
    """The title was never set by the owner (default, or taken from the first message)."""
    context_sources: tuple[str, ...] = field(default=())
    """Names of the configured context sources asked before each turn (grounded replies)."""

    @classmethod
    def start(
        cls,
        *,
        id: UUID,
        owner_id: UUID,
        model: str,
        now: datetime,
        title: str | None = None,
        system_prompt: str | None = None,
        context_sources: tuple[str, ...] = (),
    ) -> Conversation:
        return cls(
            id=id,
            owner_id=owner_id,
            title=DEFAULT_TITLE if title is None else clean_title(title),
            model=model,
            system_prompt=system_prompt or None,
            archived=False,
            message_count=0,
            created_at=now,
            updated_at=now,
            auto_title=title is None,
            context_sources=context_sources,
        )

    def rename(self, title: str) -> None:
        self.title = clean_title(title)
        self.auto_title = False

    def title_from_first_message(self, content: str) -> bool:
        """An untitled conversation is named after its first message, so lists are readable.
        True if the title changed."""
        if self.message_count == 0 and self.title == DEFAULT_TITLE:
            words = " ".join(content.split())
            if words:
                self.title = words[:AUTO_TITLE_CHARS]
                return True
        return False

    def touch(self, now: datetime) -> None:
        self.updated_at = max(self.updated_at, now)


def imported_title(title: str | None, first_message: str) -> str:
    """A foreign title made to fit: whitespace folded, cut to the limit; none (or blank):
    the first message's opening words, as for a new conversation."""
    words = " ".join((title or "").split())
    if words:
        return words[:MAX_TITLE_CHARS]
    words = " ".join(first_message.split())
    return words[:AUTO_TITLE_CHARS] if words else DEFAULT_TITLE


def clean_title(title: str) -> str:
    refuse_nul(title, "title")
    cleaned = " ".join(title.split())
    if not cleaned:
        raise InvalidTitle("the title must not be blank")
    if len(cleaned) > MAX_TITLE_CHARS:
        raise InvalidTitle(f"the title is longer than {MAX_TITLE_CHARS} characters")
    return cleaned
