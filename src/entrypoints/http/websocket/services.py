"""What every socket of the process shares, resolved once (APP scope) and handed to each."""

from __future__ import annotations

from dataclasses import dataclass

from application.identity.authenticate import Authenticate
from application.ports.rate_limiter import RateLimit, RateLimiter
from application.usage.rate_limits import RateLimits
from entrypoints.http.websocket.origin import OriginPolicy
from entrypoints.http.websocket.registry import SocketRegistry
from entrypoints.settings import Settings, WebSocketSettings


@dataclass(frozen=True, slots=True)
class SocketServices:
    authenticate: Authenticate
    limiter: RateLimiter
    handshakes: RateLimits
    """The ``default`` request limit, which each handshake counts against (per caller)."""
    registry: SocketRegistry
    origins: OriginPolicy
    limits: WebSocketSettings
    frame_rate: RateLimit

    @classmethod
    def build(
        cls,
        settings: Settings,
        authenticate: Authenticate,
        limiter: RateLimiter,
        registry: SocketRegistry,
        handshakes: RateLimits,
    ) -> SocketServices:
        return cls(
            authenticate=authenticate,
            limiter=limiter,
            handshakes=handshakes,
            registry=registry,
            origins=OriginPolicy(settings.http.cors_origins),
            limits=settings.ws,
            frame_rate=RateLimit(settings.ws.messages_per_minute, 60),
        )
