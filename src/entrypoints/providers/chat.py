"""Chat wiring (filled by the chat work)."""

from __future__ import annotations

from dishka import Provider

from entrypoints.settings import Settings


def providers(settings: Settings) -> list[Provider]:
    return []
