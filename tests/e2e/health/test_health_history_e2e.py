"""Health history across two real `parley serve` instances sharing one database: every
periodic slot is checked once (never twice, whichever instance wins it), and the admin
API and `parley health --history` both report it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from adapters.persistence.database import create_engine
from entrypoints.settings import load_settings
from tests.support.backends import Backend
from tests.support.cli import run_cli
from tests.support.identity import unique_email
from tests.support.server import RunningServer, run_server

pytestmark = pytest.mark.e2e
ENV = {"PARLEY_HEALTH_HISTORY_INTERVAL_S": "1"}


@pytest.fixture(scope="module")
def pair(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, RunningServer]]:
    tmp = tmp_path_factory.mktemp("health-history")
    env = {**backend.env, **ENV}
    with run_server(env, tmp) as first, run_server(env, tmp) as second:
        yield first, second


async def slots_and_checks(backend: Backend, start: datetime, end: datetime) -> tuple[int, int]:
    """Claimed slots and recorded `database` checks between two instants. Other tests in
    this session share the database, so only the relation between the two counts holds."""
    engine = create_engine(load_settings(backend.env, "/nonexistent.toml").database_url)
    window = {"start": start, "end": end}
    try:
        async with engine.connect() as conn:
            slots = await conn.scalar(
                sa.text("SELECT count(*) FROM health_check_slots"
                        " WHERE slot_at >= :start AND slot_at < :end"), window
            )  # fmt: skip
            checks = await conn.scalar(
                sa.text("SELECT count(*) FROM health_checks WHERE component = 'database'"
                        " AND slot_at >= :start AND slot_at < :end"), window
            )  # fmt: skip
            return int(slots or 0), int(checks or 0)
    finally:
        await engine.dispose()


async def test_two_instances_check_each_slot_once_and_both_report_it(
    backend: Backend, pair: tuple[RunningServer, RunningServer]
) -> None:
    email = unique_email("ops")
    made = run_cli("user", "create", email, "--password", "Ops-pass-0123!", "--role", "admin",
                   env=backend.env)  # fmt: skip
    assert made.returncode == 0, made.stderr
    async with httpx.AsyncClient(timeout=10) as http:
        login = await http.post(
            f"{pair[0].base_url}/api/v1/auth/login",
            json={"email": email, "password": "Ops-pass-0123!"},
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        report: dict = {}
        for _ in range(60):  # about four slots of one second
            reply = await http.get(f"{pair[1].base_url}/api/v1/admin/health-history",
                                   headers=headers)  # fmt: skip
            report = reply.json()
            if report["components"].get("database", {}).get("checks", 0) >= 4:
                break
            await asyncio.sleep(0.25)
    components = report["components"]
    assert {"database", "llm", "vector_index"} <= set(components), report
    database = components["database"]
    assert database["checks"] >= 4 and database["failures"] == 0 and database["uptime_ratio"] == 1
    # Every claimed slot got exactly one check, whichever instance claimed it: never two
    # (the primary key would refuse it and the round would fail), never none.
    # Rounds of the last two seconds may still be running and are excluded; on a busy
    # machine the settled ones can lag the report, so wait (bounded) for three of them.
    since = datetime.now(UTC) - timedelta(hours=1)
    for _ in range(40):
        settled = datetime.now(UTC) - timedelta(seconds=2)
        slots, checks = await slots_and_checks(backend, since, settled)
        if slots >= 3:
            break
        await asyncio.sleep(0.5)
    assert slots >= 3 and checks == slots
    for server in pair:
        assert "health_history_round_failed" not in server.logs()
    shown = run_cli("health", "--history", env=backend.env)
    assert shown.returncode == 0, shown.stderr
    line = next(row for row in shown.stdout.splitlines() if row.strip().startswith("database"))
    assert "100.00%" in line, shown.stdout
