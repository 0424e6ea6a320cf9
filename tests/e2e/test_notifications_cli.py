"""`parley notify` and `parley notifications` as an operator runs them, on both backends."""

from __future__ import annotations

from tests.integration.search.seeding import email_of, new_user
from tests.support.backends import Backend
from tests.support.cli import run_cli


async def test_a_notification_made_at_the_cli_is_listed_then_marked_read(
    backend: Backend, container
) -> None:
    email = email_of(await new_user(container))
    made = run_cli("notify", "--user", email, "--title", "Maintenance tonight",
                   "--kind", "announcement", env=backend.env)  # fmt: skip
    assert made.returncode == 0, made.stderr
    notification_id = made.stdout.strip()

    listed = run_cli("notifications", "--user", email, "--mark-read", env=backend.env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == "1 unread"
    assert lines[1].startswith("* ") and notification_id in lines[1]
    assert "announcement" in lines[1] and "Maintenance tonight" in lines[1]
    assert lines[-1] == "marked 1 read"

    again = run_cli("notifications", "--user", email, env=backend.env)
    assert again.stdout.splitlines()[0] == "0 unread"
    assert again.stdout.splitlines()[1].startswith("  ")


def test_unknown_users_and_bad_data_exit_with_their_error_kind(backend: Backend) -> None:
    unknown = run_cli("notifications", "--user", "nobody@example.com", env=backend.env)
    assert unknown.returncode == 4 and "nobody@example.com" in unknown.stderr
    bad = run_cli("notify", "--user", "x@example.com", "--title", "t", "--data", "[1]",
                  env=backend.env)  # fmt: skip
    assert bad.returncode == 3 and "VALIDATION_ERROR" in bad.stderr
