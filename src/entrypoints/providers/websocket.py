"""WebSocket wiring: the process's socket registry and what every socket shares."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide

from adapters.memory.rate_limiter import MemoryRateLimiter
from application.identity.authenticate import Authenticate
from application.ports.event_bus import EventBus
from application.ports.rate_limiter import RateLimiter
from application.usage.fallback_rate_limiter import FallbackRateLimiter
from application.usage.rate_limits import RateLimits
from entrypoints.http.websocket.registry import SocketRegistry
from entrypoints.http.websocket.services import SocketServices
from entrypoints.settings import Settings


class WebSocketProvider(Provider):
    scope = Scope.APP

    @provide
    async def registry(
        self, settings: Settings, authenticate: Authenticate, bus: EventBus
    ) -> AsyncIterator[SocketRegistry]:
        registry = SocketRegistry(authenticate, settings.ws.recheck_s, bus)
        yield registry
        await registry.aclose()

    @provide
    def services(
        self,
        settings: Settings,
        authenticate: Authenticate,
        limiter: RateLimiter,
        registry: SocketRegistry,
        rate_limits: RateLimits,
    ) -> SocketServices:
        # Frame limits degrade like route limits when Redis is down: per instance,
        # never unlimited. Chat sends are limited by SendMessage itself, like every send.
        frames = (
            FallbackRateLimiter(limiter, MemoryRateLimiter()) if settings.redis.url else limiter
        )
        return SocketServices.build(settings, authenticate, frames, registry, rate_limits)


def providers(settings: Settings) -> list[Provider]:
    return [WebSocketProvider()]
