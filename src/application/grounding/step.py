"""Grounding as a step of the chat turn: before the prompt goes upstream, ask the
conversation's context sources and quote what they return into the prompt as data."""

from __future__ import annotations

import dataclasses

from application.grounding.gather_context import GatherContext
from application.grounding.prompt import with_context
from application.ports.context_source import ContextQuery
from application.ports.turn_hooks import PromptDraft, PromptStep


class GroundingStep(PromptStep):
    """Business rules:
    - a conversation without context sources is left as it is (nothing asked, no record);
    - otherwise its sources are asked (bounded, never failing the turn, see
      ``GatherContext``), the block goes just before the user's new message, and how each
      source fared is recorded for the stored reply, ``ok`` or not.
    """

    def __init__(self, gather: GatherContext) -> None:
        self._gather = gather

    async def before_prompt(self, draft: PromptDraft) -> PromptDraft:
        if not draft.context_sources:
            return draft
        query = ContextQuery(draft.owner_id, draft.conversation_id, draft.user_message.content)
        grounding = await self._gather(draft.context_sources, query)
        return dataclasses.replace(
            draft, prompt=with_context(draft.prompt, grounding.block), context=grounding.results
        )
