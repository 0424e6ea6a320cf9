"""Claude.ai and Open WebUI exports, format detection, and hostile archives."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.portability.archive import ArchiveLimits
from adapters.portability.sources import FileConversationSources
from domain.imports import ImportedConversation, ImportFormat, ImportRefused, ImportUnsupported
from domain.messages import Role
from tests.unit.portability.exports import (
    claude_conversation,
    claude_message,
    openwebui_chat,
    simple_chatgpt,
    write_json,
    write_zip,
)


def read(path: Path, format: ImportFormat = ImportFormat.AUTO, **limits: int) -> list:
    return list(FileConversationSources(ArchiveLimits(**limits)).open(path, format))


def test_claude_messages_text_parts_and_thinking(tmp_path: Path) -> None:
    messages = [
        claude_message("m1", "human", "Hi Claude", "2024-05-01T10:00:01Z"),
        claude_message(
            "m2",
            "assistant",
            "legacy text",
            "2024-05-01T10:00:05.123456Z",
            content=[
                {"type": "thinking", "thinking": "user greets me"},
                {"type": "text", "text": "Hello!"},
                {"type": "text", "text": "How can I help?"},
            ],
        ),
    ]
    path = write_json(
        tmp_path / "conversations.json", [claude_conversation("conv-1", messages), {"uuid": "x"}]
    )
    first, broken = read(path)
    assert isinstance(first, ImportedConversation)
    assert [(m.role, m.content) for m in first.messages] == [
        (Role.USER, "Hi Claude"),
        (Role.ASSISTANT, "Hello!\n\nHow can I help?"),
    ]
    assert first.messages[1].reasoning == "user greets me"
    assert first.messages[1].created_at == datetime(2024, 5, 1, 10, 0, 5, 123456, UTC)
    assert (first.source.kind, first.source.id, first.title) == ("claude", "conv-1", "Claude chat")
    assert broken.source_id == "x" and "malformed" in broken.reason


def test_claude_zip_with_users_and_projects_files(tmp_path: Path) -> None:
    conversation = claude_conversation(
        "c", [claude_message("m", "human", "hey", "2024-05-01T10:00:00Z")]
    )
    path = write_zip(
        tmp_path / "claude.zip",
        {"conversations.json": [conversation], "users.json": [{"uuid": "u"}]},
    )
    (entry,) = read(path)
    assert entry.source.kind == "claude"


def test_open_webui_follows_the_history_branch(tmp_path: Path) -> None:
    history = {
        "m1": {
            "id": "m1",
            "parentId": None,
            "childrenIds": ["m2", "m3"],
            "role": "user",
            "content": "hello",
            "timestamp": 1_714_557_601,
        },
        "m2": {
            "id": "m2",
            "parentId": "m1",
            "childrenIds": [],
            "role": "assistant",
            "content": "old reply",
            "timestamp": 1_714_557_602,
            "model": "llama3:8b",
        },
        "m3": {
            "id": "m3",
            "parentId": "m1",
            "childrenIds": [],
            "role": "assistant",
            "content": "new reply",
            "timestamp": 1_714_557_603,
            "model": "llama3:8b",
        },
    }
    path = write_json(tmp_path / "chats.json", [openwebui_chat("w1", history, "m3")])
    (entry,) = read(path)
    assert [(m.role, m.content, m.model) for m in entry.messages] == [
        (Role.USER, "hello", None),
        (Role.ASSISTANT, "new reply", "llama3:8b"),
    ]
    assert entry.system_prompt == "Be terse."
    assert entry.created_at == datetime.fromtimestamp(1_714_557_600, UTC)
    assert (entry.source.kind, entry.source.id) == ("openwebui", "w1")


def test_an_explicit_format_overrides_detection(tmp_path: Path) -> None:
    path = write_json(tmp_path / "conversations.json", [simple_chatgpt("c1")])
    (entry,) = read(path, ImportFormat.CLAUDE)
    assert (
        entry.source_id == "c1" and "malformed" in entry.reason
    )  # read as Claude: no chat_messages


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("conversations.json", b"[" + b" " * 50_000_000 + b"]")
    assert path.stat().st_size < 200_000
    with pytest.raises(ImportRefused, match="zip bomb"):
        read(path)


def test_too_many_entries_or_too_large_unpacked_is_refused(tmp_path: Path) -> None:
    path = write_zip(
        tmp_path / "many.zip", {f"f{i}.txt": "x" for i in range(20)} | {"conversations.json": []}
    )
    with pytest.raises(ImportRefused, match="entries"):
        read(path, max_entries=10)
    with pytest.raises(ImportRefused, match="unpacks to"):
        read(
            write_zip(tmp_path / "big.zip", {"conversations.json": [simple_chatgpt("c")]}),
            max_total_bytes=100,
        )


@pytest.mark.parametrize(
    "name", ["../conversations.json", "/etc/conversations.json", "a/../../x.json", "C:\\x.json"]
)
def test_entry_names_that_escape_are_refused(tmp_path: Path, name: str) -> None:
    path = write_zip(tmp_path / "evil.zip", {name: [], "conversations.json": []})
    with pytest.raises(ImportRefused, match="unsafe entry name"):
        read(path)


def test_a_zip_without_conversations_or_a_broken_zip(tmp_path: Path) -> None:
    with pytest.raises(ImportUnsupported):
        read(write_zip(tmp_path / "other.zip", {"readme.txt": "hi"}))
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(ImportRefused):
        read(broken)
