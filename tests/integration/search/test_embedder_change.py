"""Changing the embedder: old vectors are never mixed with new ones; `reindex` rebuilds.

Runs on a private database: reindexing deletes every vector of the old embedder."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from application.search.catch_up import CatchUpIndex
from application.search.health import VectorIndexProbe
from application.search.index_status import ReindexRequired
from application.search.reindex import Reindex, ReindexCommand
from application.search.search_messages import SearchMessages, SearchMessagesQuery
from entrypoints.ioc import create_container
from tests.integration.search.seeding import add_messages, new_conversation, new_user
from tests.support.backends import Backend, postgres_backend, sqlite_backend


@pytest.fixture
def private_backend(backend: Backend, tmp_path: Path) -> Iterator[Backend]:
    made = sqlite_backend(tmp_path) if backend.name == "sqlite" else postgres_backend(tmp_path)
    yield made
    for cleanup in made.cleanup:
        cleanup()


def _container(backend: Backend, tmp_path: Path, dim: str):
    from tests.integration.search.seeding import settings_with_data_dir

    return create_container(
        settings_with_data_dir(backend, tmp_path / dim, PARLEY_EMBEDDINGS_DIM=dim)
    )


async def _search(container, owner: uuid.UUID, q: str, mode: str):
    async with container() as request:
        return await (await request.get(SearchMessages))(SearchMessagesQuery(owner, q, mode=mode))


async def test_semantic_search_refuses_until_reindex_then_works_with_the_new_embedder(
    private_backend: Backend, tmp_path: Path
) -> None:
    old = _container(private_backend, tmp_path, "384")
    owner = await new_user(old)
    conversation = await new_conversation(old, owner)
    ids = await add_messages(old, owner, conversation, ["saffron risotto", "saffron buns"])
    await old.close()

    new = _container(private_backend, tmp_path, "128")
    await (await new.get(CatchUpIndex))(load_file=True)
    with pytest.raises(ReindexRequired) as refused:
        await _search(new, owner, "saffron", "semantic")
    assert "parley reindex" in refused.value.detail
    assert [h.message.id for h in await _search(new, owner, "saffron", "text")]  # still served
    health = await (await new.get(VectorIndexProbe)).check()
    assert health.status == "degraded"
    assert "reindex" in (health.detail or "")

    progress: list[tuple[int, int]] = []
    report = await (await new.get(Reindex))(
        ReindexCommand(on_progress=lambda done, total: progress.append((done, total)))
    )
    assert report.deleted == 2
    assert report.embedded == 2
    assert progress[-1] == (2, 2)
    hits = await _search(new, owner, "saffron risotto", "semantic")
    assert hits[0].message.id == ids[0]
    assert (await (await new.get(VectorIndexProbe)).check()).status == "ok"
    await new.close()
