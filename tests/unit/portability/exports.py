"""Builders for foreign export files, written from the formats as their vendors document
and ship them (shapes only; every value here is made up)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

T0 = 1_700_000_000.0


def message(
    mid: str,
    role: str,
    parts: list[Any] | None = None,
    *,
    t: float | None = T0,
    content_type: str = "text",
    metadata: dict[str, Any] | None = None,
    recipient: str = "all",
    omit_metadata: bool = False,
    **content: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {"content_type": content_type, **content}
    if parts is not None:
        body["parts"] = parts
    msg: dict[str, Any] = {
        "id": mid,
        "author": {"role": role, "name": None, "metadata": {}},
        "create_time": t,
        "update_time": None,
        "content": body,
        "status": "finished_successfully",
        "end_turn": True,
        "weight": 1.0,
        "recipient": recipient,
    }
    if not omit_metadata:
        msg["metadata"] = metadata if metadata is not None else {}
    return msg


class Tree:
    """A ChatGPT ``mapping`` grown node by node."""

    def __init__(self) -> None:
        self.mapping: dict[str, Any] = {
            "root": {"id": "root", "message": None, "parent": None, "children": []}
        }

    def add(self, node_id: str, parent: str, msg: dict[str, Any] | None) -> str:
        self.mapping[node_id] = {"id": node_id, "message": msg, "parent": parent, "children": []}
        self.mapping[parent]["children"].append(node_id)
        return node_id


def chatgpt_conversation(
    cid: str, tree: Tree, current: str | None, *, title: str | None = "A chat", **extra: Any
) -> dict[str, Any]:
    conversation = {
        "title": title,
        "create_time": T0,
        "update_time": T0 + 100,
        "mapping": tree.mapping,
        "moderation_results": [],
        "current_node": current,
        "plugin_ids": None,
        "conversation_id": cid,
        "conversation_template_id": None,
        "gizmo_id": None,
        "is_archived": False,
        "safe_urls": [],
        "default_model_slug": "gpt-4o",
        "id": cid,
        **extra,
    }
    if current is None:
        del conversation["current_node"]
    return conversation


def simple_chatgpt(cid: str, turns: int = 2, *, title: str | None = None) -> dict[str, Any]:
    tree = Tree()
    parent = "root"
    for i in range(turns):
        parent = tree.add(
            f"{cid}-u{i}", parent, message(f"{cid}-u{i}", "user", [f"q{i} of {cid}"], t=T0 + i * 10)
        )
        parent = tree.add(
            f"{cid}-a{i}",
            parent,
            message(
                f"{cid}-a{i}",
                "assistant",
                [f"a{i} of {cid}"],
                t=T0 + i * 10 + 5,
                metadata={"model_slug": "gpt-4o"},
            ),
        )
    return chatgpt_conversation(cid, tree, parent, title=title or f"chat {cid}")


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def write_zip(path: Path, entries: dict[str, Any]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data if isinstance(data, bytes | str) else json.dumps(data))
    return path


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def claude_conversation(
    uuid: str, messages: list[dict[str, Any]], name: str = "Claude chat"
) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "name": name,
        "created_at": "2024-05-01T10:00:00.000000Z",
        "updated_at": "2024-05-01T10:05:00.000000Z",
        "account": {"uuid": "acc-1"},
        "chat_messages": messages,
    }


def claude_message(
    uuid: str, sender: str, text: str, at: str, content: list[Any] | None = None
) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "uuid": uuid,
        "text": text,
        "sender": sender,
        "created_at": at,
        "updated_at": at,
        "attachments": [],
        "files": [],
    }
    if content is not None:
        msg["content"] = content
    return msg


def openwebui_chat(
    cid: str, history: dict[str, Any], current: str, title: str = "WebUI chat"
) -> dict[str, Any]:
    return {
        "id": cid,
        "user_id": "u-1",
        "title": title,
        "chat": {
            "id": "",
            "title": title,
            "models": ["llama3:8b"],
            "params": {"system": "Be terse."},
            "history": {"messages": history, "currentId": current},
            "messages": list(history.values()),
            "tags": [],
            "timestamp": 1_714_557_600_000,
        },
        "updated_at": 1_714_557_900,
        "created_at": 1_714_557_600,
        "share_id": None,
        "archived": False,
        "pinned": False,
        "meta": {},
        "folder_id": None,
    }
