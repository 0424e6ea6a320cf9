"""Import and export on both backends: idempotent, isolated, lossless (R1, R26, R28)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from application.ports.portability import ExportStore
from domain.imports import ImportEmpty, ImportUnsupported, ItemStatus
from tests.integration.portability.support import API, everything, export_for, import_file
from tests.support.identity import register
from tests.unit.portability.exports import (
    T0,
    Tree,
    chatgpt_conversation,
    message,
    simple_chatgpt,
    write_json,
    write_zip,
)


def branching_export(tmp_path: Path) -> Path:
    tree = Tree()
    tree.add(
        "sys",
        "root",
        message("sys", "system", [""], metadata={"is_visually_hidden_from_conversation": True}),
    )
    tree.add("u1", "sys", message("u1", "user", ["Plan a trip to Porto"], t=T0 + 1))
    tree.add("a-old", "u1", message("a-old", "assistant", ["draft"], t=T0 + 2))
    tree.add(
        "a-new",
        "u1",
        message(
            "a-new", "assistant", ["Day 1: Ribeira"], t=T0 + 3, metadata={"model_slug": "gpt-4o"}
        ),
    )
    tree.add("u2", "a-new", message("u2", "user", ["and day 2?"], t=None))
    tree.add(
        "a2",
        "u2",
        message("a2", "assistant", ["Day 2: Foz"], t=T0 + 5, metadata={"model_slug": "gpt-4o"}),
    )
    broken = simple_chatgpt("broken")
    broken["mapping"] = []
    return write_zip(
        tmp_path / "chatgpt.zip",
        {
            "conversations-000.json": [chatgpt_conversation("porto", tree, "a2", title="Porto")],
            "conversations-001.json": [broken, simple_chatgpt("second", title="Second")],
        },
    )


async def test_a_chatgpt_export_imports_the_visible_branch_and_a_second_import_skips_all(
    client, container, tmp_path: Path
) -> None:
    me = await register(client, "import")
    path = branching_export(tmp_path)

    first = await import_file(container, me.id, path)
    assert [(i.source_id, i.status) for i in first.items] == [
        ("porto", ItemStatus.IMPORTED),
        ("broken", ItemStatus.FAILED),
        ("second", ItemStatus.IMPORTED),
    ]
    assert first.items[1].error
    again = await import_file(container, me.id, path)
    assert [i.status for i in again.items] == [
        ItemStatus.SKIPPED,
        ItemStatus.FAILED,
        ItemStatus.SKIPPED,
    ]

    conversations = await everything(client, me.headers)
    assert len(conversations) == 2
    porto = next(c for c in conversations if c["title"] == "Porto")
    assert porto["source"] == {"kind": "chatgpt", "id": "porto"}
    assert porto["message_count"] == 4
    assert [(m["role"], m["content"], m["model"]) for m in porto["messages"]] == [
        ("user", "Plan a trip to Porto", None),
        ("assistant", "Day 1: Ribeira", "gpt-4o"),
        ("user", "and day 2?", None),
        ("assistant", "Day 2: Foz", "gpt-4o"),
    ]
    stamps = [datetime.fromisoformat(m["created_at"]) for m in porto["messages"]]
    assert stamps == [datetime.fromtimestamp(t, UTC) for t in (T0 + 1, T0 + 3, T0 + 3, T0 + 5)]


async def test_a_parley_export_imported_into_another_account_is_identical(
    client, container, tmp_path: Path
) -> None:
    alice = await register(client, "alice")
    await import_file(container, alice.id, branching_export(tmp_path))
    native = (
        await client.post(
            API, json={"title": "Native", "system_prompt": "Be brief."}, headers=alice.headers
        )
    ).json()
    sent = await client.post(
        f"{API}/{native['id']}/messages", json={"content": "hello there"}, headers=alice.headers
    )
    assert sent.status_code == 201
    await client.patch(f"{API}/{native['id']}", json={"archived": True}, headers=alice.headers)

    result = await export_for(container, alice.id)
    assert result.conversations == 3 and result.bytes > 0
    stored = (await container.get(ExportStore)).locate(
        result.export_id, UUID(alice.id), datetime.now(UTC)
    )
    document = json.loads(stored.path.read_text())
    assert (document["format"], document["version"]) == ("parley", 1)

    bob = await register(client, "bob")
    report = await import_file(container, bob.id, stored.path)
    assert (report.imported, report.skipped, report.failed) == (3, 0, 0)
    again = await import_file(container, bob.id, stored.path)
    assert (again.imported, again.skipped) == (0, 3)

    def comparable(conversations: list[dict]) -> list[dict]:
        drop = {"id", "conversation_id", "generation_id"}
        out = []
        for c in conversations:
            messages = [{k: v for k, v in m.items() if k not in drop} for m in c["messages"]]
            fields = {k: v for k, v in c.items() if k not in {"id", "messages", "source"}}
            out.append({**fields, "messages": messages})
        return out

    theirs, mine = await everything(client, alice.headers), await everything(client, bob.headers)
    assert comparable(mine) == comparable(theirs)
    assert [c["source"] for c in mine] == [
        c["source"] or {"kind": "parley", "id": c["id"]} for c in theirs
    ]
    # The native reply kept its usage and cost; the system prompt and archive flag came too.
    native_copy = next(c for c in mine if c["title"] == "Native")
    assert native_copy["archived"] is True and native_copy["system_prompt"] == "Be brief."
    assert native_copy["messages"][1]["usage"]["total_tokens"] > 0


async def test_reimporting_your_own_parley_export_skips_what_you_have(client, container) -> None:
    me = await register(client, "own")
    await client.post(API, json={"title": "Mine"}, headers=me.headers)
    result = await export_for(container, me.id)
    stored = (await container.get(ExportStore)).locate(
        result.export_id, UUID(me.id), datetime.now(UTC)
    )
    report = await import_file(container, me.id, stored.path)
    assert (report.imported, report.skipped) == (0, 1)


async def test_exports_download_for_the_owner_only_and_expire(client, container) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await client.post(API, json={"title": "Secret plans"}, headers=alice.headers)
    result = await export_for(container, alice.id)
    url = f"/api/v1/exports/{result.export_id}/download"

    foreign = await client.get(url, headers=bob.headers)
    assert foreign.status_code == 404 and foreign.json()["code"] == "EXPORT_NOT_FOUND"
    assert (await client.get(url)).status_code == 401
    own = await client.get(url, headers=alice.headers)
    assert own.status_code == 200
    assert own.headers["content-type"].startswith("application/json")
    assert "attachment" in own.headers["content-disposition"]
    assert [c["title"] for c in own.json()["conversations"]] == ["Secret plans"]
    assert int(own.headers["content-length"]) == result.bytes

    store = await container.get(ExportStore)
    expired_id = UUID(int=result.export_id.int + 1)
    sink = store.create(
        expired_id, UUID(alice.id), "parley", datetime.now(UTC) - timedelta(seconds=1)
    )
    stored = sink.finish()
    gone = await client.get(f"/api/v1/exports/{expired_id}/download", headers=alice.headers)
    assert gone.status_code == 410 and gone.json()["code"] == "EXPORT_EXPIRED"
    assert not stored.path.exists()
    assert (
        await client.get(f"/api/v1/exports/{expired_id}/download", headers=alice.headers)
    ).status_code == 404


async def test_a_markdown_export_is_a_zip_with_one_file_per_conversation(client, container) -> None:
    import io
    import zipfile

    from application.portability.export_conversations import ExportFormat

    me = await register(client, "md")
    for title in ("One", "Two"):
        created = (await client.post(API, json={"title": title}, headers=me.headers)).json()
        await client.post(
            f"{API}/{created['id']}/messages", json={"content": f"hi {title}"}, headers=me.headers
        )
    result = await export_for(container, me.id, ExportFormat.MARKDOWN)
    body = await client.get(f"/api/v1/exports/{result.export_id}/download", headers=me.headers)
    assert body.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(body.content)) as archive:
        names = archive.namelist()
        texts = [archive.read(n).decode() for n in names]
    assert len(names) == 2 and all(n.endswith(".md") for n in names)
    assert any(t.startswith("# One") and "hi One" in t for t in texts)


async def test_exporting_someone_elses_conversation_is_not_found(client, container) -> None:
    from domain.conversations import ConversationNotFound

    alice, bob = await register(client, "alice"), await register(client, "bob")
    theirs = (await client.post(API, json={"title": "A"}, headers=alice.headers)).json()
    with pytest.raises(ConversationNotFound):
        await export_for(container, bob.id, ids=(UUID(theirs["id"]),))


async def test_empty_and_unrecognised_files_fail_the_import_with_a_code(
    client, container, tmp_path: Path
) -> None:
    me = await register(client, "empty")
    with pytest.raises(ImportEmpty):
        await import_file(container, me.id, write_json(tmp_path / "conversations.json", []))
    broken = simple_chatgpt("b")
    broken["mapping"] = None
    with pytest.raises(ImportEmpty) as caught:
        await import_file(container, me.id, write_json(tmp_path / "bad.json", [broken]))
    assert caught.value.details == {
        "items": [{"source_id": "b", "error": "malformed conversation: mapping is not an object"}]
    }
    (tmp_path / "x.json").write_text('{"some": "thing"}')
    with pytest.raises(ImportUnsupported):
        await import_file(container, me.id, tmp_path / "x.json")


async def test_imports_are_not_metered_and_their_messages_become_searchable(
    client, container, tmp_path: Path
) -> None:
    from application.search.search_messages import SearchMessages, SearchMessagesQuery

    me = await register(client, "quota")
    before = (await client.get("/api/v1/me/dashboard", headers=me.headers)).json()
    tree = Tree()
    tree.add("u", "root", message("u", "user", ["marmalade recipe with seville oranges"]))
    tree.add("a", "u", message("a", "assistant", ["boil the peel slowly"]))
    await import_file(
        container, me.id, write_json(tmp_path / "c.json", [chatgpt_conversation("m1", tree, "a")])
    )
    after = (await client.get("/api/v1/me/dashboard", headers=me.headers)).json()
    assert after["usage"] == before["usage"]

    async with container() as request:
        search = await request.get(SearchMessages)
        hits = await search(
            SearchMessagesQuery(UUID(me.id), "seville oranges marmalade", "semantic", 5)
        )
    assert hits and hits[0].message.content == "marmalade recipe with seville oranges"


async def test_an_import_reports_progress_and_stops_when_cancelled(
    client, container, tmp_path: Path
) -> None:
    from application.portability.import_conversations import ImportCommand, ImportConversations

    me = await register(client, "cancel")
    path = write_json(tmp_path / "many.json", [simple_chatgpt(f"c{i}") for i in range(80)])
    seen: list[float] = []

    async def progress(fraction: float) -> None:
        seen.append(fraction)

    async def cancelled() -> bool:
        return len(seen) >= 1  # stop after the first batch

    use_case = await container.get(ImportConversations)
    report = await use_case(
        ImportCommand(UUID(me.id), path, on_progress=progress, cancelled=cancelled)
    )
    assert report.cancelled and 0 < report.imported < 80
    assert 0 < seen[0] < 1
    rest = await import_file(container, me.id, path)
    assert (rest.skipped, rest.imported) == (report.imported, 80 - report.imported)
