"""/api/v1/search: semantic, text and hybrid search over the caller's own messages."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec
from dishka import AsyncContainer
from dishka.integrations.litestar import FromDishka, inject
from litestar import Router, get
from litestar.params import QueryParameter

from application.chat.views import MessageView, message_view
from application.identity.principal import Principal
from application.search.maintenance import IndexMaintenance
from application.search.search_messages import SearchMessages, SearchMessagesQuery
from application.search.similar_prompts import SimilarPrompts, SimilarPromptsQuery
from domain.search import MAX_QUERY_CHARS


class SearchItem(msgspec.Struct):
    message: MessageView
    conversation_id: UUID
    score: float


class SearchResults(msgspec.Struct):
    items: list[SearchItem]


class SimilarPrompt(msgspec.Struct):
    message: MessageView
    score: float


class SimilarPromptResults(msgspec.Struct):
    items: list[SimilarPrompt]


Query = Annotated[
    str,
    QueryParameter(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        pattern=r"\S",
        description="What to look for (not blank).",
    ),
]


@get(
    "/",
    summary="Search your messages",
    description="Only your own messages. `semantic` ranks by embedding cosine similarity "
    "(score in [-1, 1]), `text` by full-text relevance (stemmed words, all must occur), "
    "`hybrid` fuses both rankings by reciprocal rank fusion (score: the fused value).",
)
@inject
async def search_messages(
    q: Query,
    principal: FromDishka[Principal],
    use_case: FromDishka[SearchMessages],
    mode: Annotated[
        Literal["semantic", "text", "hybrid"], QueryParameter(description="Ranking to use.")
    ] = "hybrid",
    limit: Annotated[int, QueryParameter(ge=1, description="Results; capped at 100.")] = 20,
    conversation_id: Annotated[
        UUID | None, QueryParameter(description="Only messages of this conversation of yours.")
    ] = None,
) -> SearchResults:
    hits = await use_case(SearchMessagesQuery(principal.user_id, q, mode, limit, conversation_id))
    return SearchResults(
        items=[
            SearchItem(message_view(hit.message), hit.message.conversation_id, hit.score)
            for hit in hits
        ]
    )


@get(
    "/similar-prompts",
    summary="Your past prompts most like a new one",
    description="Only your own prompts (user messages), best first; "
    "score is the cosine similarity (higher is closer).",
)
@inject
async def similar_prompts(
    q: Query,
    principal: FromDishka[Principal],
    use_case: FromDishka[SimilarPrompts],
    limit: Annotated[int, QueryParameter(ge=1, description="Results; capped at 100.")] = 5,
) -> SimilarPromptResults:
    hits = await use_case(SimilarPromptsQuery(principal.user_id, q, limit))
    return SimilarPromptResults(
        items=[SimilarPrompt(message_view(hit.message), hit.score) for hit in hits]
    )


async def start_search_index(container: AsyncContainer) -> None:
    """Load the saved index and catch up with the database before serving."""
    await (await container.get(IndexMaintenance)).start()


async def stop_search_index(container: AsyncContainer) -> None:
    """Let queued indexing finish briefly, then save the index for a fast next start."""
    await (await container.get(IndexMaintenance)).stop()


ROUTES = [
    Router(
        path="/api/v1/search", tags=["search"], route_handlers=[search_messages, similar_prompts]
    )
]
