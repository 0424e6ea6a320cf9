"""Identity wiring (filled by the identity work)."""

from __future__ import annotations

from dishka import Provider, Scope

from application.identity.authenticate import Authenticate
from entrypoints.settings import Settings


def providers(settings: Settings) -> list[Provider]:
    identity = Provider()
    identity.provide(Authenticate, scope=Scope.REQUEST)
    return [identity]
