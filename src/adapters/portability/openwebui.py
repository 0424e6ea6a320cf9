"""Open WebUI's chat export: a JSON list of chats, each holding its message ``history``.

``chat.history.messages`` is a tree (``parentId``/``childrenIds``) with ``currentId`` the
shown leaf, like ChatGPT's; older exports only have the flat ``chat.messages`` list.
"""

from __future__ import annotations

from typing import Any

from adapters.portability.timestamps import from_epoch
from domain.conversations import SourceRef
from domain.imports import ImportedConversation, ImportedMessage, ImportEntry, UnreadableEntry
from domain.messages import Role

KIND = "openwebui"
ROLES = {"user": Role.USER, "assistant": Role.ASSISTANT}


def translate(raw: Any) -> ImportEntry:
    if not isinstance(raw, dict):
        return UnreadableEntry("", None, "the entry is not a chat object")
    chat: dict[str, Any] = raw["chat"] if isinstance(raw.get("chat"), dict) else raw
    source_id = str(raw.get("id") or chat.get("id") or "")[:200]
    title = raw.get("title") or chat.get("title")
    title = title if isinstance(title, str) else None
    if not source_id:
        return UnreadableEntry("", title, "the chat has no id")
    try:
        created = from_epoch(raw.get("created_at")) or from_epoch(chat.get("timestamp"))
        nodes = _branch(chat)
        messages = _messages(nodes, created)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return UnreadableEntry(source_id, title, f"malformed chat: {exc}")
    if not messages:
        return UnreadableEntry(source_id, title, "the chat has no messages")
    system = chat.get("system")
    params: dict[str, Any] = chat["params"] if isinstance(chat.get("params"), dict) else {}
    system = system if isinstance(system, str) else params.get("system")
    return ImportedConversation(
        source=SourceRef(KIND, source_id),
        title=title,
        messages=tuple(messages),
        created_at=created or messages[0].created_at,
        updated_at=from_epoch(raw.get("updated_at")) or messages[-1].created_at,
        system_prompt=system if isinstance(system, str) and system.strip() else None,
        archived=raw.get("archived") is True,
    )


def _branch(chat: dict[str, Any]) -> list[dict[str, Any]]:
    history = chat.get("history")
    tree = history.get("messages") if isinstance(history, dict) else None
    if isinstance(tree, dict) and tree:
        current = history.get("currentId") if isinstance(history, dict) else None
        if current not in tree:
            current = _latest_leaf(tree)
        path: list[dict[str, Any]] = []
        seen: set[Any] = set()
        while current in tree and current not in seen:
            seen.add(current)
            node = tree[current]
            if not isinstance(node, dict):
                raise TypeError(f"message {current!r} is not an object")
            path.append(node)
            current = node.get("parentId")
        return list(reversed(path))
    flat = chat.get("messages")
    if isinstance(flat, list):
        return [m for m in flat if isinstance(m, dict)]
    raise TypeError("the chat has neither history nor messages")


def _latest_leaf(tree: dict[str, Any]) -> Any:
    leaves = [
        (m.get("timestamp") if isinstance(m.get("timestamp"), int | float) else 0, order, key)
        for order, (key, m) in enumerate(tree.items())
        if isinstance(m, dict) and not [c for c in m.get("childrenIds") or () if c in tree]
    ]
    return max(leaves)[2] if leaves else None


def _messages(nodes: list[dict[str, Any]], created: Any) -> list[ImportedMessage]:
    out: list[ImportedMessage] = []
    last_time = created
    for node in nodes:
        role = ROLES.get(str(node.get("role")))
        if role is None:
            continue  # system notes and tool plumbing
        stamp = from_epoch(node.get("timestamp")) or last_time
        last_time = stamp
        text = _text(node.get("content"))
        if not text.strip():
            continue
        model = node.get("model") if isinstance(node.get("model"), str) else None
        out.append(
            ImportedMessage(
                role=role,
                content=text.strip(),
                created_at=stamp,
                model=model if role is Role.ASSISTANT else None,
            )
        )
    return out


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multimodal: [{type: text, text}, {type: image_url, ...}]
        return "\n".join(
            c["text"] if isinstance(c.get("text"), str) else "[image]"
            for c in content
            if isinstance(c, dict)
        )
    return ""
