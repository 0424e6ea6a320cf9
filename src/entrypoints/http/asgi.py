"""ASGI factory for uvicorn (`parley serve` and `uvicorn --factory`)."""

from __future__ import annotations

import gc

import structlog
from litestar import Litestar

from entrypoints.http.app import create_app
from entrypoints.logging import configure_logging
from entrypoints.settings import load_settings, unknown_env_vars


def app_factory() -> Litestar:
    settings = load_settings()
    configure_logging(settings.log_level, settings.json_logs)
    for name in unknown_env_vars():
        structlog.get_logger("parley").warning("unknown_setting_variable", variable=name)
    app = create_app(settings, drain_on_signals=True)
    # What exists now (modules, routes, the container) lives as long as the process: keep
    # later full collections from traversing it again, then collect normally from here on
    # (`parley serve` turns collection off while the server starts).
    gc.freeze()
    gc.enable()
    return app
