"""ChatGPT's data export (``conversations.json``): each conversation is a tree of nodes.

The imported conversation is the branch the user last saw: from ``current_node`` up through
``parent`` links (or, when that node is missing, from the most recent leaf). Nodes without a
message, system and hidden messages, and tool-internal traffic are left out; what a reader of
the original page saw (text, code and its output, quotes, image placeholders) is kept, with
citations turned into Markdown links and the model's reasoning kept apart from its answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adapters.portability.timestamps import from_epoch
from domain.conversations import SourceRef
from domain.imports import ImportedConversation, ImportedMessage, ImportEntry, UnreadableEntry
from domain.messages import Role

KIND = "chatgpt"
HIDDEN_CONTENT = frozenset({"user_editable_context", "model_editable_context"})
SHOWN_TOOL_CONTENT = frozenset(
    {"execution_output", "tether_browsing_display", "tether_quote", "multimodal_text"}
)
REASONING_CONTENT = frozenset({"thoughts", "reasoning_recap"})
ROLES = {"user": Role.USER, "assistant": Role.ASSISTANT, "tool": Role.ASSISTANT}


def translate(raw: Any) -> ImportEntry:
    if not isinstance(raw, dict):
        return UnreadableEntry("", None, "the entry is not a conversation object")
    source_id = _source_id(raw)
    title = raw.get("title") if isinstance(raw.get("title"), str) else None
    try:
        mapping = raw["mapping"]
        if not isinstance(mapping, dict):
            raise TypeError("mapping is not an object")
        created = from_epoch(raw.get("create_time"))
        messages = _Turns(created).build(visible_branch(mapping, raw.get("current_node")))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return UnreadableEntry(source_id, title, f"malformed conversation: {exc}")
    if not messages:
        return UnreadableEntry(source_id, title, "the conversation has no visible messages")
    updated = from_epoch(raw.get("update_time"))
    return ImportedConversation(
        source=SourceRef(KIND, source_id),
        title=title,
        messages=tuple(messages),
        created_at=created or messages[0].created_at,
        updated_at=updated or messages[-1].created_at,
        archived=raw.get("is_archived") is True,
    )


def visible_branch(mapping: dict[str, Any], current: Any) -> list[dict[str, Any]]:
    """Nodes from the root to the shown leaf; a cycle in ``parent`` links ends the walk."""
    start = current if isinstance(current, str) and current in mapping else _latest_leaf(mapping)
    path: list[dict[str, Any]] = []
    seen: set[str] = set()
    node_id = start
    while isinstance(node_id, str) and node_id in mapping and node_id not in seen:
        seen.add(node_id)
        node = mapping[node_id]
        if not isinstance(node, dict):
            raise TypeError(f"node {node_id!r} is not an object")
        path.append(node)
        node_id = node.get("parent")
    path.reverse()
    return path


def _latest_leaf(mapping: dict[str, Any]) -> str | None:
    best: tuple[float, int] | None = None
    chosen = None
    for order, (node_id, node) in enumerate(mapping.items()):
        if not isinstance(node, dict):
            continue
        children = [c for c in node.get("children") or () if c in mapping]
        if children:
            continue
        message = node.get("message")
        stamp = message.get("create_time") if isinstance(message, dict) else None
        key = (float(stamp) if isinstance(stamp, int | float) else float("-inf"), order)
        if best is None or key > best:
            best, chosen = key, node_id
    return chosen


@dataclass
class _Turns:
    """Folds the branch's nodes into messages: consecutive assistant-side nodes (a code
    call, its output, the answer) make one assistant message; reasoning waits for it."""

    last_time: datetime | None
    messages: list[ImportedMessage] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)

    def build(self, branch: list[dict[str, Any]]) -> list[ImportedMessage]:
        for node in branch:
            message = node.get("message")
            if isinstance(message, dict):
                self._add(message)
        return self.messages

    def _add(self, message: dict[str, Any]) -> None:
        created = from_epoch(message.get("create_time")) or self.last_time
        self.last_time = created
        author = message.get("author") or {}
        role = author.get("role") if isinstance(author, dict) else None
        metadata = message.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        content = message.get("content")
        content = content if isinstance(content, dict) else {}
        kind = content.get("content_type")
        if role not in ROLES or metadata.get("is_visually_hidden_from_conversation") is True:
            return
        if kind in HIDDEN_CONTENT:
            return
        if kind in REASONING_CONTENT:
            if (text := render(content, metadata).strip()) and role == "assistant":
                self.reasoning.append(text)
            return
        if role == "tool" and kind not in SHOWN_TOOL_CONTENT:
            return  # browsing plumbing, memory writes, errors of internal tools
        if role == "assistant" and message.get("recipient") not in (None, "all") and kind != "code":
            return  # a call addressed to a tool, not to the user
        text = render(content, metadata).strip()
        if not text:
            return
        model = metadata.get("model_slug") if isinstance(metadata.get("model_slug"), str) else None
        self._append(ROLES[role], text, created, model)

    def _append(self, role: Role, text: str, created: datetime | None, model: str | None) -> None:
        previous = self.messages[-1] if self.messages else None
        # Reasoning belongs to the answer that follows it; with no answer before the next
        # user turn it is dropped rather than shown as someone else's words.
        reasoning = ("\n\n".join(self.reasoning) or None) if role is Role.ASSISTANT else None
        self.reasoning = []
        if previous is not None and role is Role.ASSISTANT and previous.role is Role.ASSISTANT:
            joined = [r for r in (previous.reasoning, reasoning) if r]
            self.messages[-1] = ImportedMessage(
                role=role,
                content=f"{previous.content}\n\n{text}",
                created_at=previous.created_at,
                model=model or previous.model,
                reasoning="\n\n".join(joined) or None,
            )
            return
        self.messages.append(
            ImportedMessage(
                role=role,
                content=text,
                created_at=created,
                model=model if role is Role.ASSISTANT else None,
                reasoning=reasoning,
            )
        )


def render(content: dict[str, Any], metadata: dict[str, Any]) -> str:
    kind = content.get("content_type")
    if kind == "code":
        language = content.get("language")
        language = language if isinstance(language, str) and language != "unknown" else ""
        return f"```{language}\n{_str(content.get('text'))}\n```"
    if kind == "execution_output":
        return f"```output\n{_str(content.get('text'))}\n```"
    if kind == "tether_quote":
        quote = "\n".join(f"> {line}" for line in _str(content.get("text")).splitlines())
        source = _link(content.get("title") or content.get("domain"), content.get("url"))
        return f"{quote}\n>\n> — {source}" if source else quote
    if kind == "tether_browsing_display":
        return _str(content.get("result") or content.get("summary"))
    if kind == "thoughts":
        thoughts = content.get("thoughts") or []
        return "\n\n".join(
            "\n".join(p for p in (_bold(t.get("summary")), _str(t.get("content"))) if p)
            for t in thoughts
            if isinstance(t, dict)
        )
    if kind == "reasoning_recap":
        return _str(content.get("content"))
    if isinstance(content.get("parts"), list):
        text = "\n".join(p for p in (_part(part) for part in content["parts"]) if p)
        return cite(text, metadata)
    return _str(content.get("text"))


def _part(part: Any) -> str:
    if isinstance(part, str):
        return part
    if not isinstance(part, dict):
        return ""
    kind = part.get("content_type")
    if kind == "image_asset_pointer":
        return "[image]"
    if kind == "audio_asset_pointer":
        return "[audio]"
    if kind == "audio_transcription" or isinstance(part.get("text"), str):
        return _str(part.get("text"))
    return "[attachment]"


def cite(text: str, metadata: dict[str, Any]) -> str:
    """Citations (by character range) and content references (by marker text) become links."""
    citations = [c for c in metadata.get("citations") or () if isinstance(c, dict)]
    for citation in sorted(citations, key=lambda c: -_int(c.get("start_ix"))):
        start, end = _int(citation.get("start_ix")), _int(citation.get("end_ix"))
        meta: dict[str, Any] = (
            citation["metadata"] if isinstance(citation.get("metadata"), dict) else {}
        )
        link = _link(meta.get("title"), meta.get("url"))
        if 0 <= start <= end <= len(text) and link:
            text = f"{text[:start]} ({link}){text[end:]}"
    for ref in metadata.get("content_references") or ():
        if not isinstance(ref, dict) or not isinstance(ref.get("matched_text"), str):
            continue
        marker = ref["matched_text"]
        if not marker or marker not in text:
            continue
        items = [i for i in ref.get("items") or () if isinstance(i, dict)]
        links = [link for i in items if (link := _link(i.get("title"), i.get("url")))]
        replacement = f" ({', '.join(links)})" if links else _str(ref.get("alt"))
        text = text.replace(marker, replacement, 1)
    return text


def _link(title: Any, url: Any) -> str:
    if not isinstance(url, str) or not url:
        return ""
    label = title if isinstance(title, str) and title.strip() else url
    return f"[{label.strip()}]({url})"


def _bold(value: Any) -> str:
    return f"**{value}**" if isinstance(value, str) and value else ""


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else -1


def _source_id(raw: dict[str, Any]) -> str:
    for key in ("conversation_id", "id"):
        if isinstance(raw.get(key), str) and raw[key]:
            return str(raw[key])[:200]
    # No id at all: derive a stable one, so a second import of the same file still skips.
    basis = repr((raw.get("title"), raw.get("create_time"), raw.get("current_node")))
    return "sha256:" + hashlib.sha256(basis.encode()).hexdigest()[:40]
