"""The chat playground at ``GET /``: one static page, its script and its stylesheet.

The files ship inside the package (``entrypoints/http/static``) and are read once, on
first request, never at import. The page is served with a strict CSP: scripts and styles
only from this origin, no inline code, no framing (assets under ``/static`` get the
middleware's API CSP). User text goes in as text nodes; a reply's Markdown is parsed by
the vendored marked and sanitised by the vendored DOMPurify into DOM nodes.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from entrypoints.http.auth import PUBLIC

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_CACHE = "no-cache"  # revalidate, so a new release's script is picked up at once

# Litestar appends "; charset=utf-8" to text/* media types itself.
HTML = "text/html"
JAVASCRIPT = "text/javascript"
CSS = "text/css"
SVG = "image/svg+xml"
VENDORED = {"marked.umd.js", "purify.min.js"}
"""Third-party scripts, unmodified (static/vendor/VENDORED.md): only these are served."""


@cache
def _asset(name: str) -> bytes:
    return resources.files("entrypoints.http").joinpath("static", *name.split("/")).read_bytes()


def _serve(name: str, media_type: str, headers: dict[str, str]) -> Response[bytes]:
    return Response(
        _asset(name), media_type=media_type, headers={"Cache-Control": _CACHE, **headers}
    )


@get("/", opt=PUBLIC, include_in_schema=False)
async def playground_page() -> Response[bytes]:
    return _serve("playground.html", HTML, {"Content-Security-Policy": PAGE_CSP})


@get("/static/playground.js", opt=PUBLIC, include_in_schema=False)
async def playground_script() -> Response[bytes]:
    return _serve("playground.js", JAVASCRIPT, {})  # the middleware adds the API CSP


@get("/static/playground.css", opt=PUBLIC, include_in_schema=False)
async def playground_styles() -> Response[bytes]:
    return _serve("playground.css", CSS, {})  # the middleware adds the API CSP


@get("/static/vendor/{name:str}", opt=PUBLIC, include_in_schema=False)
async def vendored_script(name: FromPath[str]) -> Response[bytes]:
    if name not in VENDORED:
        raise NotFoundException()
    return _serve(f"vendor/{name}", JAVASCRIPT, {})


@get(["/static/favicon.svg", "/favicon.ico"], opt=PUBLIC, include_in_schema=False)
async def favicon() -> Response[bytes]:
    return _serve("favicon.svg", SVG, {})


ROUTES = [
    playground_page,
    playground_script,
    playground_styles,
    vendored_script,
    favicon,
]
