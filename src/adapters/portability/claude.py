"""Claude.ai's export (``conversations.json``): a list of conversations with ``chat_messages``.

Messages come in order, ``sender`` ``human`` or ``assistant``, with a plain ``text`` and, in
newer exports, typed ``content`` parts (text, thinking, tool use and results). When messages
carry ``parent_message_uuid`` links the branch ending at the last message is taken.
"""

from __future__ import annotations

import json
from typing import Any

from adapters.portability.timestamps import from_iso
from domain.conversations import SourceRef
from domain.imports import ImportedConversation, ImportedMessage, ImportEntry, UnreadableEntry
from domain.messages import Role

KIND = "claude"
SENDERS = {"human": Role.USER, "user": Role.USER, "assistant": Role.ASSISTANT}


def translate(raw: Any) -> ImportEntry:
    if not isinstance(raw, dict):
        return UnreadableEntry("", None, "the entry is not a conversation object")
    source_id = str(raw.get("uuid") or raw.get("id") or "")[:200]
    title = raw.get("name") if isinstance(raw.get("name"), str) else None
    if not source_id:
        return UnreadableEntry("", title, "the conversation has no uuid")
    try:
        chat = raw["chat_messages"]
        if not isinstance(chat, list):
            raise TypeError("chat_messages is not a list")
        created = from_iso(raw.get("created_at"))
        messages = _messages(_branch(chat), created)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return UnreadableEntry(source_id, title, f"malformed conversation: {exc}")
    if not messages:
        return UnreadableEntry(source_id, title, "the conversation has no messages")
    return ImportedConversation(
        source=SourceRef(KIND, source_id),
        title=title,
        messages=tuple(messages),
        created_at=created or messages[0].created_at,
        updated_at=from_iso(raw.get("updated_at")) or messages[-1].created_at,
    )


def _branch(chat: list[Any]) -> list[dict[str, Any]]:
    entries = [m for m in chat if isinstance(m, dict)]
    by_id = {m.get("uuid"): m for m in entries if m.get("uuid")}
    linked = entries and all("parent_message_uuid" in m for m in entries)
    if not linked:
        return entries
    path: list[dict[str, Any]] = []
    seen: set[Any] = set()
    node: dict[str, Any] | None = entries[-1]
    while node is not None and node.get("uuid") not in seen:
        seen.add(node.get("uuid"))
        path.append(node)
        node = by_id.get(node.get("parent_message_uuid"))
    return list(reversed(path))


def _messages(chat: list[dict[str, Any]], created: Any) -> list[ImportedMessage]:
    out: list[ImportedMessage] = []
    last_time = created
    for entry in chat:
        role = SENDERS.get(str(entry.get("sender")))
        if role is None:
            continue
        stamp = from_iso(entry.get("created_at")) or last_time
        last_time = stamp
        text, reasoning = _content(entry)
        if not text.strip():
            continue
        out.append(
            ImportedMessage(
                role=role,
                content=text.strip(),
                created_at=stamp,
                reasoning=reasoning if role is Role.ASSISTANT else None,
            )
        )
    return out


def _content(entry: dict[str, Any]) -> tuple[str, str | None]:
    parts = entry.get("content")
    pieces: list[str] = []
    thinking: list[str] = []
    if isinstance(parts, list) and parts:
        for part in parts:
            if not isinstance(part, dict):
                continue
            kind = part.get("type")
            if kind == "text" and isinstance(part.get("text"), str):
                pieces.append(part["text"])
            elif kind == "thinking" and isinstance(part.get("thinking"), str):
                thinking.append(part["thinking"])
            elif kind == "tool_use":
                body = json.dumps(part.get("input"), ensure_ascii=False, indent=2)
                pieces.append(f"```json\n// {part.get('name') or 'tool'}\n{body}\n```")
            elif kind == "tool_result":
                pieces.append(f"```output\n{_tool_text(part.get('content'))}\n```")
    else:
        text = entry.get("text")
        pieces.append(text if isinstance(text, str) else "")
    for attachment in [*(entry.get("attachments") or ()), *(entry.get("files") or ())]:
        if isinstance(attachment, dict) and attachment.get("file_name"):
            pieces.append(f"[attachment: {attachment['file_name']}]")
    return "\n\n".join(p for p in pieces if p.strip()), "\n\n".join(thinking) or None


def _tool_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            c["text"] for c in content if isinstance(c, dict) and isinstance(c.get("text"), str)
        )
    return ""
