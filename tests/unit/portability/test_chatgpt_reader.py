"""ChatGPT exports: the visible branch, in order, with everything a reader saw and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.portability.sources import FileConversationSources
from domain.imports import ImportedConversation, ImportFormat, UnreadableEntry
from domain.messages import Role
from tests.unit.portability.exports import (
    T0,
    Tree,
    chatgpt_conversation,
    message,
    simple_chatgpt,
    write_json,
    write_zip,
)


def read(path: Path, format: ImportFormat = ImportFormat.AUTO) -> list:
    return list(FileConversationSources().open(path, format))


def only(entries: list) -> ImportedConversation:
    assert len(entries) == 1 and isinstance(entries[0], ImportedConversation), entries
    return entries[0]


def contents(conversation: ImportedConversation) -> list[tuple[Role, str]]:
    return [(m.role, m.content) for m in conversation.messages]


def test_the_branch_ending_at_current_node_is_imported_in_order(tmp_path: Path) -> None:
    tree = Tree()
    tree.add(
        "sys",
        "root",
        message("sys", "system", [""], metadata={"is_visually_hidden_from_conversation": True}),
    )
    tree.add("u1", "sys", message("u1", "user", ["first question"], t=T0 + 1))
    # Regeneration: two answers to u1; the user went on from the second one.
    tree.add("a1-old", "u1", message("a1-old", "assistant", ["first draft"], t=T0 + 2))
    tree.add(
        "a1-new",
        "u1",
        message(
            "a1-new", "assistant", ["better answer"], t=T0 + 3, metadata={"model_slug": "gpt-4o"}
        ),
    )
    # An edited follow-up question: two user children of a1-new.
    tree.add("u2-old", "a1-new", message("u2-old", "user", ["abandoned edit"], t=T0 + 4))
    tree.add("u2", "a1-new", message("u2", "user", ["follow-up"], t=T0 + 5))
    tree.add(
        "a2",
        "u2",
        message("a2", "assistant", ["final answer"], t=T0 + 6, metadata={"model_slug": "o1"}),
    )
    tree.add(
        "a-newest-elsewhere",
        "u2-old",
        message("x", "assistant", ["newer but not shown"], t=T0 + 99),
    )
    path = write_json(tmp_path / "conversations.json", [chatgpt_conversation("c1", tree, "a2")])

    conversation = only(read(path))

    assert contents(conversation) == [
        (Role.USER, "first question"),
        (Role.ASSISTANT, "better answer"),
        (Role.USER, "follow-up"),
        (Role.ASSISTANT, "final answer"),
    ]
    assert [m.model for m in conversation.messages] == [None, "gpt-4o", None, "o1"]
    assert conversation.messages[0].created_at == datetime.fromtimestamp(T0 + 1, UTC)
    assert (conversation.source.kind, conversation.source.id, conversation.title) == (
        "chatgpt",
        "c1",
        "A chat",
    )


def test_without_a_usable_current_node_the_most_recent_leaf_is_shown(tmp_path: Path) -> None:
    for current in (None, "not-in-mapping"):
        tree = Tree()
        tree.add("u1", "root", message("u1", "user", ["q"], t=T0))
        tree.add("a-old", "u1", message("a-old", "assistant", ["older"], t=T0 + 1))
        tree.add("a-new", "u1", message("a-new", "assistant", ["newer"], t=T0 + 2))
        conversation = chatgpt_conversation("c", tree, "x")
        if current is None:
            del conversation["current_node"]
        else:
            conversation["current_node"] = current
        path = write_json(tmp_path / "conversations.json", [conversation])
        assert contents(only(read(path))) == [(Role.USER, "q"), (Role.ASSISTANT, "newer")]


def test_hidden_system_and_tool_internal_nodes_are_left_out(tmp_path: Path) -> None:
    tree = Tree()
    tree.add("sys", "root", message("sys", "system", ["You are ChatGPT"]))
    tree.add(
        "ctx",
        "sys",
        message(
            "ctx", "user", None, content_type="user_editable_context", user_profile="I like cats"
        ),
    )
    tree.add(
        "hidden",
        "ctx",
        message(
            "hidden", "user", ["hidden"], metadata={"is_visually_hidden_from_conversation": True}
        ),
    )
    tree.add("u", "hidden", message("u", "user", ["search the web"]))
    tree.add("call", "u", message("call", "assistant", ['search("x")'], recipient="browser"))
    tree.add("tool", "call", message("tool", "tool", ["raw browser dump"]))
    tree.add("a", "tool", message("a", "assistant", ["here is what I found"]))
    path = write_json(tmp_path / "conversations.json", [chatgpt_conversation("c", tree, "a")])
    assert contents(only(read(path))) == [
        (Role.USER, "search the web"),
        (Role.ASSISTANT, "here is what I found"),
    ]


def test_null_timestamps_take_the_parents_and_missing_metadata_is_fine(tmp_path: Path) -> None:
    tree = Tree()
    tree.add("u", "root", message("u", "user", ["q"], t=T0 + 10, omit_metadata=True))
    tree.add("a", "u", message("a", "assistant", ["a"], t=None, omit_metadata=True))
    path = write_json(
        tmp_path / "conversations.json", [chatgpt_conversation("c", tree, "a", title=None)]
    )
    conversation = only(read(path))
    assert [m.created_at for m in conversation.messages] == [
        datetime.fromtimestamp(T0 + 10, UTC)
    ] * 2
    assert conversation.title is None  # named after the first message when stored


def test_multimodal_parts_keep_text_and_leave_a_placeholder_for_images(tmp_path: Path) -> None:
    tree = Tree()
    image = {
        "content_type": "image_asset_pointer",
        "asset_pointer": "file-service://file-abc",
        "width": 10,
        "height": 10,
    }
    voice = {"content_type": "audio_transcription", "text": "spoken words"}
    tree.add(
        "u",
        "root",
        message("u", "user", ["what is this?", image, voice], content_type="multimodal_text"),
    )
    tree.add("a", "u", message("a", "assistant", ["a cat"]))
    path = write_json(tmp_path / "conversations.json", [chatgpt_conversation("c", tree, "a")])
    assert contents(only(read(path)))[0] == (Role.USER, "what is this?\n[image]\nspoken words")


def test_code_and_its_output_become_fenced_blocks_of_one_reply(tmp_path: Path) -> None:
    tree = Tree()
    tree.add("u", "root", message("u", "user", ["add 2 and 2"]))
    tree.add(
        "code",
        "u",
        message(
            "code",
            "assistant",
            None,
            content_type="code",
            language="python",
            text="print(2 + 2)",
            recipient="python",
        ),
    )
    tree.add("out", "code", message("out", "tool", None, content_type="execution_output", text="4"))
    tree.add("a", "out", message("a", "assistant", ["It is 4."], metadata={"model_slug": "gpt-4"}))
    path = write_json(tmp_path / "conversations.json", [chatgpt_conversation("c", tree, "a")])
    conversation = only(read(path))
    assert contents(conversation) == [
        (Role.USER, "add 2 and 2"),
        (Role.ASSISTANT, "```python\nprint(2 + 2)\n```\n\n```output\n4\n```\n\nIt is 4."),
    ]
    assert conversation.messages[1].model == "gpt-4"


def test_citations_and_content_references_become_markdown_links(tmp_path: Path) -> None:
    tree = Tree()
    tree.add("u", "root", message("u", "user", ["news?"]))
    text = "Rain tomorrow【1†source】. Sun later \ue200cite\ue202turn0search0\ue201."
    start = text.index("【")
    metadata = {
        "citations": [
            {
                "start_ix": start,
                "end_ix": start + len("【1†source】"),
                "metadata": {"title": "Met Office", "url": "https://weather.example/rain"},
            }
        ],
        "content_references": [
            {
                "matched_text": "\ue200cite\ue202turn0search0\ue201",
                "type": "grouped_webpages",
                "items": [{"title": "Sun Daily", "url": "https://sun.example/"}],
            }
        ],
    }
    tree.add("a", "u", message("a", "assistant", [text], metadata=metadata))
    path = write_json(tmp_path / "conversations.json", [chatgpt_conversation("c", tree, "a")])
    answer = only(read(path)).messages[1].content
    assert answer == (
        "Rain tomorrow ([Met Office](https://weather.example/rain)). "
        "Sun later  ([Sun Daily](https://sun.example/))."
    )


def test_quotes_and_browsing_results_are_kept_and_reasoning_is_kept_apart(tmp_path: Path) -> None:
    tree = Tree()
    tree.add("u", "root", message("u", "user", ["think hard"]))
    tree.add(
        "th",
        "u",
        message(
            "th",
            "assistant",
            None,
            content_type="thoughts",
            thoughts=[{"summary": "Plan", "content": "consider options"}],
        ),
    )
    tree.add(
        "rr",
        "th",
        message(
            "rr", "assistant", None, content_type="reasoning_recap", content="Thought for 4 seconds"
        ),
    )
    tree.add(
        "q",
        "rr",
        message(
            "q",
            "tool",
            None,
            content_type="tether_quote",
            url="https://e.example",
            title="E",
            text="quoted line",
        ),
    )
    tree.add("a", "q", message("a", "assistant", ["the answer"]))
    path = write_json(tmp_path / "conversations.json", [chatgpt_conversation("c", tree, "a")])
    reply = only(read(path)).messages[1]
    assert reply.content == "> quoted line\n>\n> — [E](https://e.example)\n\nthe answer"
    assert reply.reasoning == "**Plan**\nconsider options\n\nThought for 4 seconds"


def test_a_cycle_in_parent_links_ends_the_walk(tmp_path: Path) -> None:
    tree = Tree()
    tree.add("u", "root", message("u", "user", ["q"]))
    tree.add("a", "u", message("a", "assistant", ["a"]))
    tree.mapping["root"]["parent"] = "a"  # corrupt: the root points back at the leaf
    path = write_json(tmp_path / "conversations.json", [chatgpt_conversation("c", tree, "a")])
    assert contents(only(read(path))) == [(Role.USER, "q"), (Role.ASSISTANT, "a")]


def test_a_split_zip_export_reads_every_part_in_order(tmp_path: Path) -> None:
    path = write_zip(
        tmp_path / "export.zip",
        {
            "conversations-001.json": [simple_chatgpt("c3")],
            "conversations-000.json": [simple_chatgpt("c1"), simple_chatgpt("c2")],
            "chat.html": "<html></html>",
            "user.json": {"id": "user-1"},
        },
    )
    entries = read(path)
    assert [e.source.id for e in entries] == ["c1", "c2", "c3"]
    assert all(len(e.messages) == 4 for e in entries)


def test_a_corrupt_entry_fails_alone(tmp_path: Path) -> None:
    broken = simple_chatgpt("bad")
    broken["mapping"] = "not a tree"
    path = write_json(
        tmp_path / "conversations.json", [simple_chatgpt("c1"), broken, 42, simple_chatgpt("c2")]
    )
    entries = read(path)
    assert [type(e).__name__ for e in entries] == [
        "ImportedConversation",
        "UnreadableEntry",
        "UnreadableEntry",
        "ImportedConversation",
    ]
    assert entries[1].source_id == "bad" and "malformed" in entries[1].reason


def test_truncated_json_keeps_what_came_before(tmp_path: Path) -> None:
    import json

    text = json.dumps([simple_chatgpt("c1"), simple_chatgpt("c2")])
    path = tmp_path / "conversations.json"
    path.write_text(text[: len(text) - 40])
    entries = read(path)
    assert isinstance(entries[0], ImportedConversation)
    assert isinstance(entries[-1], UnreadableEntry) and "not valid JSON" in entries[-1].reason


def test_an_empty_list_has_no_entries(tmp_path: Path) -> None:
    assert read(write_json(tmp_path / "conversations.json", [])) == []


@pytest.mark.parametrize(
    "content",
    [b'{"hello": "world"}', b"not json at all", b'["just", "strings"]', b"", b'[{"foo": 1}]'],
)
def test_unrecognised_files_are_unsupported(tmp_path: Path, content: bytes) -> None:
    from domain.imports import ImportUnsupported

    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(ImportUnsupported):
        read(path)
