"""The indexing queue: chat never waits, failures never stop it, order is kept."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from application.ports.message_vectors import MessageToIndex
from application.search.hooks import SearchIndexingHooks
from application.search.indexing_queue import ForgetConversation, IndexingQueue


class RecordingIndexer:
    def __init__(self, fail_first: int = 0, gate: asyncio.Event | None = None) -> None:
        self.batches: list[list[MessageToIndex]] = []
        self.forgotten: list[ForgetConversation] = []
        self.events: list[str] = []
        self._fail_first = fail_first
        self._gate = gate

    async def index(self, messages: Sequence[MessageToIndex]) -> int:
        if self._gate is not None:
            await self._gate.wait()
        if self._fail_first:
            self._fail_first -= 1
            raise RuntimeError("embedding endpoint down")
        self.batches.append(list(messages))
        self.events += [f"index:{m.content}" for m in messages]
        return len(messages)

    async def forget(self, job: ForgetConversation) -> None:
        self.forgotten.append(job)
        self.events.append(f"forget:{job.conversation_id}")


def _message(content: str, conversation: uuid.UUID | None = None) -> MessageToIndex:
    return MessageToIndex(uuid.uuid4(), conversation or uuid.uuid4(), uuid.uuid4(), "user", content)


async def test_hooks_return_before_anything_is_embedded() -> None:
    gate = asyncio.Event()
    indexer = RecordingIndexer(gate=gate)
    queue = IndexingQueue(indexer.index, indexer.forget)
    hooks = SearchIndexingHooks(queue)
    await hooks.message_saved(
        message_id=uuid.uuid4(),
        conversation_id=uuid.uuid4(),
        owner_id=uuid.uuid4(),
        role="user",
        content="hello",
    )
    assert indexer.batches == []  # the embedder is still blocked, yet the hook returned
    gate.set()
    await queue.drain()
    assert [m.content for m in indexer.batches[0]] == ["hello"]
    await queue.stop()


async def test_messages_submitted_together_are_embedded_in_one_batch() -> None:
    indexer = RecordingIndexer()
    queue = IndexingQueue(indexer.index, indexer.forget)
    for i in range(10):
        queue.submit(_message(f"m{i}"))
    await queue.drain()
    assert len(indexer.batches) == 1
    assert len(indexer.batches[0]) == 10
    await queue.stop()


async def test_a_failing_batch_is_dropped_and_the_queue_keeps_working() -> None:
    indexer = RecordingIndexer(fail_first=1)
    queue = IndexingQueue(indexer.index, indexer.forget)
    queue.submit(_message("lost"))
    await queue.drain()
    queue.submit(_message("kept"))
    await queue.drain()
    assert queue.failed_batches == 1
    assert [m.content for b in indexer.batches for m in b] == ["kept"]
    await queue.stop()


async def test_a_full_queue_refuses_instead_of_blocking() -> None:
    gate = asyncio.Event()
    indexer = RecordingIndexer(gate=gate)
    queue = IndexingQueue(indexer.index, indexer.forget, maxsize=2)
    accepted = [queue.submit(_message(f"m{i}")) for i in range(5)]
    assert accepted.count(False) >= 2
    assert queue.dropped == accepted.count(False)
    gate.set()
    await queue.stop()


async def test_a_deletion_is_processed_after_the_messages_queued_before_it() -> None:
    indexer = RecordingIndexer()
    queue = IndexingQueue(indexer.index, indexer.forget)
    conversation = uuid.uuid4()
    queue.submit(_message("before", conversation))
    queue.submit(ForgetConversation(conversation, uuid.uuid4()))
    queue.submit(_message("after"))
    await queue.drain()
    assert indexer.events == ["index:before", f"forget:{conversation}", "index:after"]
    await queue.stop()
