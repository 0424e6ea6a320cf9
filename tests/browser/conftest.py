"""Headless Chromium (Debian's `chromium` package) driven by Playwright against a real
`parley serve`. Playwright never downloads a browser here: `executable_path` points at the
system one. Without it the tests are skipped, except under CI=true, where they fail
(`.ci/run` installs it)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest

from tests.support.backends import IN_CI, Backend
from tests.support.server import RunningServer, run_server

CHROMIUM = os.environ.get("PARLEY_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
GAP_MS = 40  # the fake model's gap between tokens: slow enough to stop and reload mid-reply


@pytest.fixture(scope="module")
def server(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    if backend.name != "sqlite":
        pytest.skip("the page is the same on every backend; the browser runs it once")
    env = {**backend.env, "PARLEY_FAKE_GAP_MS": str(GAP_MS)}
    with run_server(env, tmp_path_factory.mktemp("browser")) as running:
        yield running


@pytest.fixture(scope="module")
async def browser():
    if not os.path.exists(CHROMIUM):
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        await launched.close()


@dataclass
class Watched:
    """A page and everything it complained about: console errors, uncaught exceptions,
    failed requests, dialogs (an `alert` would mean injected script ran)."""

    page: object
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture
async def watched(browser, server: RunningServer) -> AsyncIterator[Watched]:
    context = await browser.new_context(
        base_url=server.base_url, viewport={"width": 1200, "height": 760}
    )
    page = await context.new_page()
    seen = Watched(page)
    page.on("console", lambda m: m.type == "error" and seen.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: seen.problems.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: seen.problems.append(f"failed: {r.url} {r.failure}"))
    page.on(
        "response",
        lambda r: r.status >= 400 and seen.problems.append(f"http {r.status}: {r.url}"),
    )

    async def on_dialog(dialog) -> None:
        seen.dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    yield seen
    await context.close()
