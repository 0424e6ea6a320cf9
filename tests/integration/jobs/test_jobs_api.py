"""/api/v1/jobs on both backends: kinds, progress, cancel, isolation, validation, quota,
and background titles. SQLite runs jobs in the API process; PostgreSQL + Redis in a worker."""

from __future__ import annotations

import asyncio
import re
import uuid

from tests.integration.chat.support import API, new_conversation, sign_up
from tests.integration.jobs.support import JOBS, submit, wait_for, wait_for_progress

JOB_FIELDS = {
    "id",
    "kind",
    "status",
    "progress",
    "params",
    "result",
    "error",
    "attempts",
    "created_at",
    "started_at",
    "finished_at",
    "cancel_requested",
}


async def test_summarize_stores_the_summary_on_the_conversation(jobs_client) -> None:
    me = await sign_up(jobs_client)
    conversation = await new_conversation(jobs_client, me, title="Trip")
    url = f"{API}/{conversation['id']}"
    sent = await jobs_client.post(f"{url}/messages", json={"content": "Lisbon in May"}, headers=me)
    assert sent.status_code == 201
    job = await submit(
        jobs_client, me, "summarize_conversation", conversation_id=conversation["id"]
    )
    assert set(job) == JOB_FIELDS
    assert (job["status"], job["progress"], job["attempts"]) == ("queued", 0.0, 0)
    done = await wait_for(jobs_client, me, job["id"])
    assert done["status"] == "succeeded", done
    assert done["progress"] == 1.0 and done["attempts"] == 1 and done["error"] is None
    summary = done["result"]["summary"]
    assert "Lisbon in May" in summary  # the fake model echoes the transcript it was given
    assert (await jobs_client.get(url, headers=me)).json()["summary"] == summary


async def test_research_reports_progress_per_step_and_returns_sections(jobs_client) -> None:
    me = await sign_up(jobs_client)
    job = await submit(jobs_client, me, "research", topic="tidal energy", steps=2)
    assert job["params"] == {"topic": "tidal energy", "steps": 2}
    seen = set()
    for step in range(1, 4):
        partial = await wait_for_progress(jobs_client, me, job["id"], step / 4)
        seen.add(partial["progress"])
    done = await wait_for(jobs_client, me, job["id"])
    assert done["status"] == "succeeded", done
    sections = done["result"]["sections"]
    assert len(sections) == 2 and all(s["title"] and s["content"] for s in sections)
    assert done["result"]["report"].startswith("# tidal energy")
    assert any(0 < p < 1 for p in seen), seen
    usage = (await jobs_client.get("/api/v1/me/usage?period=month", headers=me)).json()
    assert usage["totals"]["total_tokens"] > 0  # the job's model calls were metered


async def test_cancelling_a_running_job_stops_it_and_stores_cancelled(jobs_client) -> None:
    me = await sign_up(jobs_client)
    job = await submit(jobs_client, me, "research", topic="a long one", steps=8)
    await wait_for_progress(jobs_client, me, job["id"], 0.1)
    accepted = await jobs_client.post(f"{JOBS}/{job['id']}/cancel", headers=me)
    assert accepted.status_code == 202
    done = await wait_for(jobs_client, me, job["id"])
    assert done["status"] == "cancelled" and done["progress"] < 1, done
    again = await jobs_client.post(f"{JOBS}/{job['id']}/cancel", headers=me)
    assert (again.status_code, again.json()["code"]) == (409, "JOB_FINISHED")


async def test_other_users_get_404_for_jobs_they_do_not_own(jobs_client) -> None:
    owner, intruder = await sign_up(jobs_client), await sign_up(jobs_client)
    job = await submit(jobs_client, owner, "research", topic="secrets", steps=1)
    for response in (
        await jobs_client.get(f"{JOBS}/{job['id']}", headers=intruder),
        await jobs_client.post(f"{JOBS}/{job['id']}/cancel", headers=intruder),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "JOB_NOT_FOUND")
    assert (await jobs_client.get(JOBS, headers=intruder)).json()["items"] == []
    conversation = await new_conversation(jobs_client, owner)
    theirs = await jobs_client.post(
        JOBS,
        json={"kind": "summarize_conversation", "params": {"conversation_id": conversation["id"]}},
        headers=intruder,
    )
    assert (theirs.status_code, theirs.json()["code"]) == (404, "CONVERSATION_NOT_FOUND")
    assert (await wait_for(jobs_client, owner, job["id"]))["status"] == "succeeded"


async def test_bad_kinds_and_params_are_refused_with_nothing_queued(jobs_client) -> None:
    me = await sign_up(jobs_client)
    cases = [
        ({"kind": "mine_bitcoin", "params": {}}, "UNKNOWN_JOB_KIND"),
        (
            {"kind": "title_conversation", "params": {"conversation_id": str(uuid.uuid4())}},
            "UNKNOWN_JOB_KIND",
        ),  # internal kinds are not for clients
        ({"kind": "research", "params": {"topic": "x", "steps": 9}}, "VALIDATION_ERROR"),
        ({"kind": "research", "params": {"topic": "   "}}, "VALIDATION_ERROR"),
        ({"kind": "research", "params": {"topic": "x", "colour": "red"}}, "VALIDATION_ERROR"),
        (
            {"kind": "summarize_conversation", "params": {"conversation_id": "nope"}},
            "VALIDATION_ERROR",
        ),
        ({"kind": "export", "params": {"format": "pdf"}}, "VALIDATION_ERROR"),
    ]
    for body, code in cases:
        response = await jobs_client.post(JOBS, json=body, headers=me)
        assert (response.status_code, response.json()["code"]) == (400, code), body
    reindex = await jobs_client.post(JOBS, json={"kind": "reindex"}, headers=me)
    assert reindex.status_code == 403
    assert (await jobs_client.get(JOBS, headers=me)).json() == {"items": [], "next_cursor": None}


async def test_jobs_are_listed_newest_first_with_filters_and_cursors(jobs_client) -> None:
    me = await sign_up(jobs_client)
    ids = [
        (await submit(jobs_client, me, "research", topic=f"t{i}", steps=1))["id"] for i in range(3)
    ]
    for job_id in ids:
        await wait_for(jobs_client, me, job_id)
    first = (await jobs_client.get(f"{JOBS}?limit=2", headers=me)).json()
    rest = (
        await jobs_client.get(f"{JOBS}?limit=2&cursor={first['next_cursor']}", headers=me)
    ).json()
    assert [j["id"] for j in first["items"] + rest["items"]] == ids[::-1]
    assert rest["next_cursor"] is None
    done = (await jobs_client.get(f"{JOBS}?status=succeeded&kind=research", headers=me)).json()
    assert len(done["items"]) == 3
    assert (await jobs_client.get(f"{JOBS}?status=queued", headers=me)).json()["items"] == []


async def test_a_new_conversation_gets_a_title_after_its_first_exchange(jobs_client) -> None:
    me = await sign_up(jobs_client)
    untitled = await new_conversation(jobs_client, me)
    # Set by the owner, even if it is the same as the first message: never replaced.
    named = await new_conversation(jobs_client, me, title="hi")
    for conversation in (named, untitled):  # the named one's title job runs first
        url = f"{API}/{conversation['id']}/messages"
        assert (await jobs_client.post(url, json={"content": "hi"}, headers=me)).status_code == 201
    title = "hi"
    for _ in range(400):
        title = (await jobs_client.get(f"{API}/{untitled['id']}", headers=me)).json()["title"]
        if title != "hi":
            break
        await asyncio.sleep(0.05)
    assert title.startswith("Echo:"), title  # the fake model's answer became the title
    assert (await jobs_client.get(f"{API}/{named['id']}", headers=me)).json()["title"] == "hi"
    assert (await jobs_client.get(JOBS, headers=me)).json()["items"] == []  # internal job


async def test_the_dashboard_counts_jobs_this_month(jobs_client) -> None:
    me = await sign_up(jobs_client)
    await submit(jobs_client, me, "research", topic="count me", steps=1)
    board = (await jobs_client.get("/api/v1/me/dashboard", headers=me)).json()
    assert board["counts"]["jobs_this_month"] == 1
    assert board["plan"]["monthly_jobs"] == 200
    assert board["remaining"]["jobs"] == 199


async def test_readiness_reports_the_queue_and_metrics_count_finished_jobs(
    jobs_client, jobs_settings
) -> None:
    me = await sign_up(jobs_client)
    job = await submit(jobs_client, me, "research", topic="metrics", steps=1)
    await wait_for(jobs_client, me, job["id"])
    queue = (await jobs_client.get("/health/ready")).json()["components"]["queue"]
    assert queue["status"] == "ok", queue
    # At least this module's worker: another module of the same run may share the queue's
    # key prefix and have a worker seen alive in the last 30 s too.
    alive = re.search(r"workers alive (\d+)", queue["detail"])
    assert "depth" in queue["detail"] and alive is not None and int(alive[1]) >= 1, queue
    if jobs_settings.redis.url:
        return  # jobs ran in the worker: its metrics are its own (`parley worker --metrics-port`)
    metrics = (await jobs_client.get("/metrics")).text
    assert 'parley_jobs_finished_total{kind="research",status="succeeded"}' in metrics
    assert 'parley_job_duration_seconds_count{kind="research"}' in metrics


async def test_a_finished_job_notifies_its_owner_once_and_a_cancel_does_not(jobs_client) -> None:
    me = await sign_up(jobs_client)
    done = await submit(jobs_client, me, "research", topic="notify me", steps=1)
    await wait_for(jobs_client, me, done["id"])
    dropped = await submit(jobs_client, me, "research", topic="never mind", steps=8)
    await jobs_client.post(f"{JOBS}/{dropped['id']}/cancel", headers=me)
    await wait_for(jobs_client, me, dropped["id"])
    listed = (await jobs_client.get("/api/v1/notifications", headers=me)).json()
    about = [n for n in listed["items"] if n["kind"] == "job.finished"]
    assert [n["data"]["job_id"] for n in about] == [done["id"]], listed
    assert about[0]["data"]["status"] == "succeeded" and about[0]["read"] is False
    assert about[0]["title"] == "Research finished"
