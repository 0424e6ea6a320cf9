"""ASGI factory for uvicorn (`parley serve` and `uvicorn --factory`)."""

from __future__ import annotations

from litestar import Litestar

from entrypoints.http.app import create_app
from entrypoints.logging import configure_logging
from entrypoints.settings import load_settings


def app_factory() -> Litestar:
    settings = load_settings()
    configure_logging(settings.log_level, settings.json_logs)
    return create_app(settings)
