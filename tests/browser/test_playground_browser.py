"""The playground in a real browser: register, send without a conversation, stream over
the WebSocket (and over SSE as the fallback), Stop, resume after a reload, Markdown
rendered, hostile markup inert, search and usage; no console errors on the way.

The fake model echoes the user's message (``Echo: <message>``), so a message chooses
the reply: Markdown, markup, or enough words to stop or reload mid-stream."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.conftest import Watched
from tests.support.cli import run_cli
from tests.support.server import ROOT, RunningServer

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
LONG = " ".join(f"word{i}" for i in range(120))  # 120 tokens at 40 ms: about five seconds
TIMEOUT_MS = 20_000


async def register(w: Watched, query: str = "") -> str:
    page = w.page
    email = f"browser-{secrets.token_hex(5)}@example.com"
    await page.goto(f"/{query}")
    await page.fill("#email", email)
    await page.fill("#password", f"Browser-{secrets.token_urlsafe(10)}")
    await page.click("#register")
    await page.wait_for_selector("#chat-view:not([hidden])", timeout=TIMEOUT_MS)
    return email


async def send(w: Watched, text: str) -> None:
    await w.page.fill("#content", text)
    await w.page.press("#content", "Enter")  # the keyboard path


def last_reply(w: Watched):
    return w.page.locator("#messages li.assistant").last


async def wait_for_status(w: Watched, status: str) -> None:
    await w.page.wait_for_selector(f"#messages li.assistant.{status}", timeout=TIMEOUT_MS)


async def test_a_first_message_starts_a_conversation_and_renders_markdown(
    watched: Watched,
) -> None:
    page = watched.page
    await register(watched)
    assert await page.text_content("#transport") == "WebSocket"
    await send(watched, "**bold** and `inline` then\n\n```\nfn main() {}\n```\n\n- one\n- two")
    await wait_for_status(watched, "complete")
    reply = last_reply(watched)
    assert await reply.locator("strong").text_content() == "bold"
    assert await reply.locator("p code").text_content() == "inline"
    assert (await reply.locator("pre code").text_content()).strip() == "fn main() {}"
    font = await reply.locator("pre code").evaluate("n => getComputedStyle(n).fontFamily")
    assert "mono" in font.lower() or "consolas" in font.lower(), font
    assert await reply.locator("li").all_text_contents() == ["one", "two"]
    await page.wait_for_selector("#conversations button.active", timeout=TIMEOUT_MS)
    await expect(page.locator("#usage-text")).to_contain_text("remaining")
    if os.environ.get("PARLEY_UPDATE_SCREENSHOT"):
        await page.screenshot(path=str(ROOT / "docs" / "playground.png"))
    assert watched.problems == [] and watched.dialogs == []


async def test_hostile_markup_in_a_reply_is_shown_as_text_and_never_runs(
    watched: Watched,
) -> None:
    page = watched.page
    await register(watched)
    await send(
        watched,
        "look <img src=x onerror=alert(1)> and <script>alert(2)</script> [x](javascript:alert(3))",
    )
    await wait_for_status(watched, "complete")
    reply = last_reply(watched)
    await reply.locator("a").click()  # a javascript: link must not run either
    assert await page.locator("#messages img, #messages script, #messages [onerror]").count() == 0
    text = await reply.locator(".body").text_content()
    assert "<img src=x onerror=alert(1)>" in text and "<script>alert(2)</script>" in text
    assert not (await reply.locator("a").get_attribute("href") or "").startswith("javascript")
    assert watched.dialogs == []
    assert watched.problems == []


async def test_stop_ends_the_reply_and_it_is_stored_cancelled(
    watched: Watched, server: RunningServer
) -> None:
    page = watched.page
    await register(watched)
    await send(watched, LONG)
    await expect(last_reply(watched).locator(".body")).to_contain_text("word5")
    await page.keyboard.press("Escape")  # Stop from the keyboard
    await wait_for_status(watched, "cancelled")
    shown = await last_reply(watched).locator(".body").text_content()
    assert "word119" not in shown
    stored = await stored_reply(page, server)
    assert stored["status"] == "cancelled"
    assert stored["content"].split() == shown.split()
    assert watched.problems == []


async def test_a_reply_still_streaming_resumes_after_a_reload(
    watched: Watched, server: RunningServer
) -> None:
    page = watched.page
    await register(watched)
    await send(watched, LONG)
    await expect(last_reply(watched).locator(".body")).to_contain_text("word3")
    await page.reload()
    await page.wait_for_selector("#chat-view:not([hidden])", timeout=TIMEOUT_MS)
    await wait_for_status(watched, "complete")
    shown = await last_reply(watched).locator(".body").text_content()
    assert shown.split() == f"Echo: {LONG}".split()
    assert (await stored_reply(page, server))["content"] == f"Echo: {LONG}"
    # The reload aborts the old page's requests; nothing else may go wrong.
    assert [p for p in watched.problems if "ERR_ABORTED" not in p] == []


async def test_the_sse_fallback_streams_and_search_finds_history(watched: Watched) -> None:
    page = watched.page
    await register(watched, "?transport=sse")
    assert await page.text_content("#transport") == "SSE"
    await send(watched, "a distinctive pelican sentence")
    await wait_for_status(watched, "complete")
    await page.click("#new-conversation")
    assert await page.locator("#messages li").count() == 0
    await page.fill("#search", "pelican")
    await page.press("#search", "Enter")
    hit = page.locator("#search-results button").first
    await hit.wait_for(timeout=TIMEOUT_MS)
    assert "pelican" in await hit.text_content()
    await hit.focus()
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#messages li.assistant.complete", timeout=TIMEOUT_MS)
    assert watched.problems == []


async def stored_reply(page, server: RunningServer) -> dict:
    saved = await page.evaluate("JSON.parse(sessionStorage.getItem('parley.playground'))")
    headers = {"Authorization": f"Bearer {saved['access']}"}
    url = f"{server.base_url}/api/v1/conversations/{saved['conversationId']}/messages"
    async with httpx.AsyncClient(timeout=10) as http:
        items = (await http.get(url, headers=headers)).json()["items"]
    return items[-1]


def test_the_readme_shows_the_committed_screenshot() -> None:
    assert (ROOT / "docs" / "playground.png").stat().st_size > 10_000
    assert "docs/playground.png" in Path(ROOT / "README.md").read_text()


async def test_notifications_show_with_a_badge_as_text_and_can_be_marked_read(
    watched: Watched, server: RunningServer, backend
) -> None:
    page = watched.page
    email = await register(watched)
    title = "Export ready <img src=x onerror=alert(7)>"
    made = run_cli("notify", "--user", email, "--title", title, "--body", "3 conversations",
                   env=backend.env)  # fmt: skip
    assert made.returncode == 0, made.stderr
    await page.reload()  # the list is the resync path (the CLI's push reaches no socket here)
    badge = page.locator("#notifications-badge")
    await expect(badge).to_have_text("1")
    await page.click("#notifications-toggle")
    item = page.locator("#notifications-list li").first
    await expect(item).to_contain_text(title)  # shown as text, not markup
    assert await page.locator("#notifications-list img").count() == 0
    await page.click("#notifications-read")
    await expect(badge).to_be_hidden()
    assert watched.dialogs == [] and watched.problems == []
