"""Settings groups for limits, plans, usage accounting, the response cache and metrics.

Kept beside ``settings.py`` (which includes them) so this feature's knobs stay together.
``[plans.<name>]`` tables come from ``parley.toml``; every other field also reads
``PARLEY_<GROUP>_<FIELD>``.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct, field


def _doc(text: str) -> Meta:
    return Meta(description=text)


class LimitsSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """Request rate limits per route group: sliding windows, one per minute by default; a
    limit string (``1/second;10/minute``) sets several windows and wins over *_per_minute."""

    enabled: Annotated[bool, _doc("Enforce request rate limits.")] = True
    default_per_minute: Annotated[
        int, _doc("Requests per minute per user, API key, or IP (anonymous)."), Meta(ge=1)
    ] = 600
    chat_per_minute: Annotated[
        int,
        _doc("Chat sends per minute per user: REST, SSE, WebSocket and /v1 together."),
        Meta(ge=1),
    ] = 60
    chat: Annotated[
        str,
        _doc("Chat sends per user as windows, e.g. `1/second;10/minute` (empty: per_minute)."),
    ] = ""
    default: Annotated[
        str,
        _doc("Other requests per caller as windows, e.g. `20/second;600/minute`."),
    ] = ""
    login: Annotated[
        str,
        _doc("Sign-in requests per IP as windows (empty: auth.login_per_ip_per_minute)."),
    ] = ""


class PlanSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """One ``[plans.<name>]`` table; an omitted limit is unlimited."""

    monthly_tokens: Annotated[int, Meta(ge=0)] | None = None
    monthly_messages: Annotated[int, Meta(ge=0)] | None = None
    concurrent_streams: Annotated[int, Meta(ge=0)] | None = None
    monthly_jobs: Annotated[int, Meta(ge=0)] | None = None
    allowed_models: list[str] = field(default_factory=list)


def default_plans() -> dict[str, PlanSettings]:
    # Stream caps are generous: one chat client may stream a couple of dozen replies at
    # once (several tabs and sockets); the cap exists to stop one user holding hundreds.
    return {
        "free": PlanSettings(
            monthly_tokens=200_000, monthly_messages=2_000, concurrent_streams=24, monthly_jobs=200
        ),
        "pro": PlanSettings(
            monthly_tokens=5_000_000,
            monthly_messages=50_000,
            concurrent_streams=64,
            monthly_jobs=5_000,
        ),
        "unlimited": PlanSettings(),
    }


class UsageSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    flush_interval_s: Annotated[
        float, _doc("Write usage aggregates and request statistics this often."), Meta(gt=0)
    ] = 1.0
    hold_ttl_s: Annotated[
        float,
        _doc("A quota reservation not settled by then is dropped (crashed process)."),
        Meta(gt=0),
    ] = 600.0


class CacheSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """Response cache for opted-in (`X-Parley-Cache: on`) temperature-0 /v1 completions."""

    enabled: Annotated[bool, _doc("Serve opted-in identical completions from the cache.")] = True
    ttl_s: Annotated[int, _doc("How long a cached completion is replayed."), Meta(ge=1)] = 3600
    max_entries: Annotated[
        int, _doc("Entries kept by the in-process cache (Redis: its own eviction)."), Meta(ge=1)
    ] = 1000


class MetricsSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    enabled: Annotated[bool, _doc("Serve GET /metrics (Prometheus text format).")] = True
    token: Annotated[
        str, _doc("If set, /metrics needs `Authorization: Bearer <token>`; empty: public.")
    ] = ""
