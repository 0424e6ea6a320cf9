"""The index replica across restarts and crashes: the table is the truth, the file a head start."""

from __future__ import annotations

import uuid
from pathlib import Path

from dishka import AsyncContainer

from application.search.catch_up import CatchUpIndex
from application.search.maintenance import IndexMaintenance
from application.search.search_messages import SearchMessages, SearchMessagesQuery
from entrypoints.ioc import create_container
from tests.integration.search.seeding import (
    add_messages,
    delete_conversation,
    new_conversation,
    new_user,
    settings_with_data_dir,
)
from tests.support.backends import Backend


async def _semantic_ids(container: AsyncContainer, owner: uuid.UUID, q: str) -> list[uuid.UUID]:
    async with container() as request:
        hits = await (await request.get(SearchMessages))(
            SearchMessagesQuery(owner, q, mode="semantic", limit=100)
        )
    return [h.message.id for h in hits]


class Process:
    """One server process's view: a container on the shared database and its own data dir."""

    def __init__(self, backend: Backend, data_dir: Path) -> None:
        self.container = create_container(settings_with_data_dir(backend, data_dir))

    async def start(self) -> None:
        await (await self.container.get(IndexMaintenance)).start()

    async def stop(self) -> None:
        await (await self.container.get(IndexMaintenance)).stop()
        await self.container.close()

    async def crash(self) -> None:
        await self.container.close()  # no save: the file keeps what it had


async def test_vectors_survive_a_restart_through_the_saved_file(
    backend: Backend, tmp_path: Path
) -> None:
    first = Process(backend, tmp_path)
    await first.start()
    owner = await new_user(first.container)
    conversation = await new_conversation(first.container, owner)
    ids = await add_messages(first.container, owner, conversation, ["persimmon chutney"])
    await first.stop()
    assert (tmp_path / "search" / "vector-index.npz").is_file()

    second = Process(backend, tmp_path)
    report = await (await second.container.get(CatchUpIndex))(load_file=True)
    assert report.loaded_from_file
    assert report.added == 0  # nothing the file lacked for this owner or anyone else
    assert await _semantic_ids(second.container, owner, "persimmon chutney") == ids
    await second.stop()


async def test_catch_up_adds_rows_the_file_missed_and_drops_deleted_ones(
    backend: Backend, tmp_path: Path
) -> None:
    first = Process(backend, tmp_path / "a")
    await first.start()
    owner = await new_user(first.container)
    kept_id = await new_conversation(first.container, owner)
    doomed_id = await new_conversation(first.container, owner)
    await add_messages(first.container, owner, kept_id, ["gooseberry fool"])
    await add_messages(first.container, owner, doomed_id, ["gooseberry pie"])
    await first.stop()

    # While that process is down, another one writes a vector row (its crash came after
    # the row commit, before any index write that process 'a' could see) and deletes one.
    other = Process(backend, tmp_path / "b")
    late = await add_messages(other.container, owner, kept_id, ["gooseberry crumble"])
    await delete_conversation(other.container, owner, doomed_id)
    await other.crash()

    restarted = Process(backend, tmp_path / "a")
    report = await (await restarted.container.get(CatchUpIndex))(load_file=True)
    assert report.loaded_from_file
    assert report.added >= 1
    assert report.removed >= 1
    found = await _semantic_ids(restarted.container, owner, "gooseberry")
    assert late[0] in found
    assert len(found) == 2
    await restarted.stop()


async def test_messages_stored_without_vectors_are_embedded_by_catch_up(
    search_container: AsyncContainer,
) -> None:
    owner = await new_user(search_container)
    conversation = await new_conversation(search_container, owner)
    # The indexing queue never heard of these (a crash, or a full queue).
    ids = await add_messages(
        search_container, owner, conversation, ["kumquat marmalade"], index=False
    )
    assert await _semantic_ids(search_container, owner, "kumquat marmalade") == []
    report = await (await search_container.get(CatchUpIndex))(embed_backlog=True)
    assert report.embedded >= 1
    assert await _semantic_ids(search_container, owner, "kumquat marmalade") == ids
