"""`parley reindex` and `parley search` as an operator runs them."""

from __future__ import annotations

import pytest

from tests.integration.search.seeding import add_messages, email_of, new_conversation, new_user
from tests.support.backends import Backend
from tests.support.cli import run_cli

pytestmark = pytest.mark.e2e


async def test_reindex_embeds_unindexed_messages_and_search_finds_them(
    backend: Backend, container
) -> None:
    owner = await new_user(container)
    conversation = await new_conversation(container, owner)
    await add_messages(container, owner, conversation, ["elderflower cordial recipe"], index=False)
    reindexed = run_cli("reindex", env=backend.env)
    assert reindexed.returncode == 0, reindexed.stderr + reindexed.stdout
    assert "reindexed with parley-hashing-v1-384" in reindexed.stdout

    found = run_cli(
        "search",
        "elderflower cordial",
        "--user",
        email_of(owner),
        "--mode",
        "semantic",
        env=backend.env,
    )
    assert found.returncode == 0, found.stderr
    assert "elderflower cordial recipe" in found.stdout
    assert str(conversation) in found.stdout


def test_search_for_an_unknown_user_exits_non_zero(backend: Backend) -> None:
    result = run_cli("search", "anything", "--user", "nobody@example.com", env=backend.env)
    assert result.returncode == 4
    assert "nobody@example.com" in result.stderr
