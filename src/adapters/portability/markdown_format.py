"""The ``markdown`` export: a zip with one readable ``.md`` file per conversation."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from typing import BinaryIO

from domain.conversations import Conversation
from domain.messages import Message, MessageStatus

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class MarkdownWriter:
    def __init__(self, out: BinaryIO) -> None:
        self._zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED)

    def add(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        self._zip.writestr(file_name(conversation), render(conversation, messages))

    def close(self) -> None:
        self._zip.close()


def file_name(conversation: Conversation) -> str:
    slug = _UNSAFE.sub("-", conversation.title).strip("-.").lower()[:60] or "conversation"
    return f"{conversation.created_at:%Y-%m-%d}-{slug}-{conversation.id.hex[:8]}.md"


def render(conversation: Conversation, messages: Sequence[Message]) -> str:
    lines = [
        f"# {conversation.title}",
        "",
        f"- model: {conversation.model}",
        f"- created: {conversation.created_at.isoformat()}",
        f"- updated: {conversation.updated_at.isoformat()}",
    ]
    if conversation.archived:
        lines.append("- archived")
    if conversation.system_prompt:
        lines += ["", "## System prompt", "", conversation.system_prompt]
    for message in messages:
        heading = message.role.value.capitalize()
        if message.model and message.role.value == "assistant":
            heading += f" ({message.model})"
        if message.status is not MessageStatus.COMPLETE:
            heading += f" [{message.status.value}]"
        lines += ["", f"## {heading}", f"_{message.created_at.isoformat()}_", ""]
        if message.reasoning:
            lines += [
                "<details><summary>Reasoning</summary>",
                "",
                message.reasoning,
                "",
                "</details>",
                "",
            ]
        lines.append(message.content)
    return "\n".join(lines) + "\n"
