"""The chat playground at ``GET /``: a strict-CSP page whose script never renders text as HTML."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser

from httpx import AsyncClient

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class _Page(HTMLParser):
    """Collects what a CSP cares about: script bodies, inline styles and handlers, asset URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.script_bodies: list[str] = []
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script":
            self.scripts.append(named)
            self._in_script = True
        if tag == "style":
            self.inline.append("<style>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.inline.append(f"{tag}[{name}]")
            if name in ("src", "href", "action", "formaction") and value is not None:
                self.urls.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.script_bodies.append(data)


async def _page(client: AsyncClient) -> tuple[str, _Page]:
    response = await client.get("/")
    assert response.status_code == 200, response.text
    parser = _Page()
    parser.feed(response.text)
    return response.text, parser


async def test_root_is_the_playground_page_with_a_strict_csp(client: AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers.get_list("content-security-policy") == [PAGE_CSP]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"]
    assert "<title>Parley playground</title>" in response.text


async def test_page_has_no_inline_scripts_styles_or_handlers(client: AsyncClient) -> None:
    _, page = await _page(client)
    assert page.scripts, "the page loads its script"
    assert page.script_bodies == []
    assert all(script.get("src") for script in page.scripts)
    assert page.inline == []


async def test_page_references_only_same_origin_assets(client: AsyncClient) -> None:
    _, page = await _page(client)
    assert "/static/playground.js" in page.urls
    assert "/static/playground.css" in page.urls
    for url in page.urls:
        assert url.startswith("/") and not url.startswith("//"), url
        assert (await client.get(url)).status_code == 200, url


async def test_assets_have_correct_content_types(client: AsyncClient) -> None:
    script = await client.get("/static/playground.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["x-content-type-options"] == "nosniff"
    styles = await client.get("/static/playground.css")
    assert styles.status_code == 200
    assert styles.headers["content-type"] == "text/css; charset=utf-8"


async def test_script_never_assigns_html_strings(client: AsyncClient) -> None:
    source = (await client.get("/static/playground.js")).text
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source, sink
    assert re.search(r"new\s+Function\s*\(", source) is None
    assert "textContent" in source
    # Markdown goes through the sanitiser, which hands back DOM nodes, not a string.
    assert "DOMPurify.sanitize(" in source and "RETURN_DOM_FRAGMENT: true" in source


VENDORED = {
    "marked.umd.js": "bb95d4c15f1289f78486eaacebf3bb18688475ed58a040ef762ed49337090542",
    "purify.min.js": "8053ee2a6a09f9d50f7fcd6fb7f07072f52c7f3fa9aa12147cab4feaf65ee970",
}


async def test_vendored_libraries_are_the_pinned_releases(client: AsyncClient) -> None:
    for name, digest in VENDORED.items():
        served = await client.get(f"/static/vendor/{name}")
        assert served.status_code == 200
        assert served.headers["content-type"] == "text/javascript; charset=utf-8"
        assert hashlib.sha256(served.content).hexdigest() == digest, name
    assert (await client.get("/static/vendor/VENDORED.md")).status_code == 404
    assert (await client.get("/static/vendor/other.js")).status_code == 404


async def test_the_favicon_is_served_so_browsers_log_no_404(client: AsyncClient) -> None:
    for path in ("/favicon.ico", "/static/favicon.svg"):
        icon = await client.get(path)
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"


async def test_script_keeps_tokens_to_its_tab_and_stays_same_origin(client: AsyncClient) -> None:
    source = (await client.get("/static/playground.js")).text
    # sessionStorage (one tab, gone when it closes) lets a reload resume a reply.
    assert "localStorage" not in source
    assert "document.cookie" not in source
    assert re.search(r"https?://", source) is None
    for needle in (
        '"/auth/" + kind',
        "/conversations",
        "text/event-stream",
        "/generations/",
        "/cancel",
    ):
        assert needle in source, needle


async def test_playground_is_public_and_not_in_the_schema(client: AsyncClient) -> None:
    schema = await client.get("/schema/openapi.json")
    if schema.status_code == 200:
        paths = schema.json()["paths"]
        assert "/" not in paths
        assert not any(path.startswith("/static/") for path in paths)


async def test_unknown_static_asset_is_a_404(client: AsyncClient) -> None:
    response = await client.get("/static/nope.js")
    assert response.status_code == 404
