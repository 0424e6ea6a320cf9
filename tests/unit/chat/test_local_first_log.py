"""The local-first log: a generation's own clients keep getting its events while the
shared log is down, and the shared log converges to the same events and ids afterwards."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from application.chat.local_first_log import LocalFirstGenerationLog
from application.ports.generation_log import (
    GenerationEvent,
    GenerationInfo,
    GenerationLogUnavailable,
    SharedGenerationLog,
)


class FlakySharedLog(SharedGenerationLog):
    """A shared log held in memory that can be taken down, lose everything (a restart
    without persistence), or hold a write until released."""

    def __init__(self) -> None:
        self.down = False
        self.infos: dict[uuid.UUID, GenerationInfo] = {}
        self.events: dict[uuid.UUID, list[GenerationEvent]] = {}
        self.writes = 0
        self.gate: asyncio.Event | None = None

    def _check(self) -> None:
        if self.down:
            raise GenerationLogUnavailable("down")

    async def begin(self, info: GenerationInfo) -> None:
        self._check()
        self.infos[info.generation_id] = info

    async def info(self, generation_id: uuid.UUID) -> GenerationInfo | None:
        self._check()
        return self.infos.get(generation_id)

    async def open(self, info: GenerationInfo, first: GenerationEvent) -> str:
        await self.begin(info)
        return await self.append(info.generation_id, first)

    async def append(self, generation_id: uuid.UUID, event: GenerationEvent) -> str:
        return (await self.append_many(generation_id, [event]))[0]

    async def append_many(
        self, generation_id: uuid.UUID, events: list[GenerationEvent]
    ) -> list[str]:
        if self.gate is not None:
            await self.gate.wait()
        self._check()
        if generation_id not in self.infos:
            raise GenerationLogUnavailable("lost")
        stored = self.events.setdefault(generation_id, [])
        for event in events:
            event_id = event.id or str(len(stored) + 1)
            assert int(event_id) == len(stored) + 1, "a gap or a duplicate in the shared log"
            stored.append(GenerationEvent(event.kind, event.data, event_id))
        self.writes += 1
        return [e.id for e in stored[-len(events) :]]

    async def restore(self, info: GenerationInfo, events: list[GenerationEvent]) -> None:
        self._check()
        self.infos[info.generation_id] = info
        self.events[info.generation_id] = list(events)

    def read(self, generation_id: uuid.UUID, after: str | None = None) -> AsyncIterator[Any]:
        raise AssertionError("local generations are read locally")

    async def snapshot(self, generation_id: uuid.UUID) -> list[GenerationEvent]:
        self._check()
        return list(self.events.get(generation_id, []))

    async def request_cancel(self, generation_id: uuid.UUID) -> None:
        self._check()

    async def wait_for_cancel(self, generation_id: uuid.UUID) -> None:
        await asyncio.Event().wait()

    def lose_everything(self) -> None:
        self.infos.clear()
        self.events.clear()


def new_info() -> GenerationInfo:
    return GenerationInfo(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4())


def delta(text: str) -> GenerationEvent:
    return GenerationEvent("delta", {"content": text})


async def read_all(log: LocalFirstGenerationLog, gid: uuid.UUID, after: str | None = None) -> list:
    return [(e.id, e.kind, e.data) async for e in log.read(gid, after)]


async def test_the_shared_log_gets_every_event_under_the_local_id() -> None:
    shared = FlakySharedLog()
    log = LocalFirstGenerationLog(shared)
    info = new_info()
    gid = info.generation_id
    assert await log.open(info, GenerationEvent("start", {})) == "1"
    assert await log.append_many(gid, [delta("a"), delta("b")]) == ["2", "3"]
    assert await log.append(gid, GenerationEvent("done", {})) == "4"
    assert [e.id for e in shared.events[gid]] == ["1", "2", "3", "4"]
    # Finished and written: the local copy is gone, and nothing is left behind.
    assert await log.snapshot(gid) == shared.events[gid]


async def test_a_local_reader_sees_no_event_the_shared_log_does_not_hold_yet() -> None:
    shared = FlakySharedLog()
    log = LocalFirstGenerationLog(shared)
    info = new_info()
    gid = info.generation_id
    await log.open(info, GenerationEvent("start", {}))
    shared.gate = asyncio.Event()
    writing = asyncio.create_task(log.append(gid, delta("held")))
    reader = asyncio.create_task(read_all(log, gid))
    await asyncio.sleep(0.01)
    assert [e.id for e in await log.snapshot(gid)] == ["1"]  # what a crash would keep
    shared.gate.set()
    await writing
    await log.append(gid, GenerationEvent("done", {}))
    assert [i for i, _, _ in await reader] == ["1", "2", "3"]


async def test_while_the_shared_log_is_down_the_local_reader_gets_the_whole_reply() -> None:
    shared = FlakySharedLog()
    log = LocalFirstGenerationLog(shared, retry_s=0.01)
    info = new_info()
    gid = info.generation_id
    await log.open(info, GenerationEvent("start", {}))
    reader = asyncio.create_task(read_all(log, gid))
    await log.append(gid, delta("before "))
    shared.down = True
    for word in ("during ", "the ", "outage"):
        await log.append(gid, delta(word))
    await log.append(gid, GenerationEvent("done", {"message": "stored"}))
    seen = await asyncio.wait_for(reader, 1)
    assert [i for i, _, _ in seen] == ["1", "2", "3", "4", "5", "6"]
    assert "".join(d.get("content", "") for _, _, d in seen) == "before during the outage"
    assert seen[-1][1] == "done"
    assert [e.id for e in shared.events[gid]] == ["1", "2"]  # what Redis got before it died


async def test_the_shared_log_converges_when_it_returns_even_empty() -> None:
    shared = FlakySharedLog()
    log = LocalFirstGenerationLog(shared, retry_s=0.01)
    info = new_info()
    gid = info.generation_id
    await log.open(info, GenerationEvent("start", {}))
    await log.append(gid, delta("a"))
    shared.down = True
    await log.append(gid, delta("b"))
    shared.lose_everything()  # restarted without persistence
    shared.down = False
    await log.append(gid, delta("c"))  # not written to the empty log as a tail
    await log.append(gid, GenerationEvent("done", {}))
    for _ in range(100):
        if len(shared.events.get(gid, [])) == 5:
            break
        await asyncio.sleep(0.01)
    assert [(e.id, e.data.get("content")) for e in shared.events[gid]] == [
        ("1", None), ("2", "a"), ("3", "b"), ("4", "c"), ("5", None),
    ]  # fmt: skip
    assert shared.infos[gid] == info


async def test_a_generation_that_keeps_running_after_the_restore_writes_straight_through() -> None:
    shared = FlakySharedLog()
    log = LocalFirstGenerationLog(shared, retry_s=0.01)
    info = new_info()
    gid = info.generation_id
    await log.open(info, GenerationEvent("start", {}))
    shared.down = True
    await log.append(gid, delta("a"))
    shared.down = False
    for _ in range(100):
        if len(shared.events.get(gid, [])) == 2:
            break
        await asyncio.sleep(0.01)
    await log.append(gid, delta("b"))
    await log.append(gid, GenerationEvent("done", {}))
    assert [e.id for e in shared.events[gid]] == ["1", "2", "3", "4"]


async def test_a_reply_that_never_reaches_the_shared_log_is_let_go_after_hold_s() -> None:
    shared = FlakySharedLog()
    now = [0.0]
    log = LocalFirstGenerationLog(shared, retry_s=0.01, hold_s=5, clock=lambda: now[0])
    info = new_info()
    shared.down = True
    await log.open(info, GenerationEvent("start", {}))
    await log.append(info.generation_id, GenerationEvent("done", {}))
    await asyncio.sleep(0.05)
    assert await log.info(info.generation_id) == info  # still held locally
    now[0] = 100.0
    await asyncio.sleep(0.05)
    with pytest.raises(GenerationLogUnavailable):
        await log.info(info.generation_id)  # gone here; the shared log is still down


async def test_a_local_cancel_needs_no_shared_log() -> None:
    shared = FlakySharedLog()
    log = LocalFirstGenerationLog(shared)
    info = new_info()
    await log.open(info, GenerationEvent("start", {}))
    shared.down = True
    waiting = asyncio.create_task(log.wait_for_cancel(info.generation_id))
    await log.request_cancel(info.generation_id)
    await asyncio.wait_for(waiting, 1)


async def test_generations_of_other_instances_go_to_the_shared_log() -> None:
    shared = FlakySharedLog()
    log = LocalFirstGenerationLog(shared)
    info = new_info()
    await shared.open(info, GenerationEvent("start", {}))
    assert await log.append(info.generation_id, GenerationEvent("error", {})) == "2"
    assert await log.info(info.generation_id) == info
