"""Response bodies of the admin routes: documented fields only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

import msgspec

from application.admin.api_usage import ApiUsageReport
from application.admin.platform_stats import PlatformStats
from domain.users import User
from entrypoints.http.routes.identity_dto import UserOut
from entrypoints.http.routes.usage_dto import money


class AdminUserOut(msgspec.Struct):
    id: UUID
    email: str
    display_name: str
    role: Literal["user", "admin"]
    plan: str
    is_active: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> AdminUserOut:
        base = UserOut.of(user)
        return cls(
            base.id, base.email, base.display_name, base.role, base.plan, user.is_active,
            base.created_at,
        )  # fmt: skip


class AdminUserList(msgspec.Struct):
    items: list[AdminUserOut]
    next_cursor: str | None


class StatsOut(msgspec.Struct):
    """All-time totals; ``cache_hit_rate`` is null before any cached lookup (or when the
    cache cannot be asked)."""

    users: int
    active_users: int
    conversations: int
    messages: int
    tokens: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: str
    cache_hits: int | None
    cache_misses: int | None
    cache_hit_rate: float | None

    @classmethod
    def of(cls, s: PlatformStats) -> StatsOut:
        c, u = s.counts, s.counts.usage
        rate = s.cache.hit_rate if s.cache is not None else None
        return cls(
            c.users, c.active_users, c.conversations, c.messages, u.total_tokens,
            u.prompt_tokens, u.completion_tokens, money(u.cost_usd),
            s.cache.hits if s.cache else None, s.cache.misses if s.cache else None,
            round(rate, 4) if rate is not None else None,
        )  # fmt: skip


class RouteUsageOut(msgspec.Struct):
    method: str
    route: str
    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None


class ApiUsageOut(msgspec.Struct):
    period: str
    start: date
    end: date
    routes: list[RouteUsageOut]

    @classmethod
    def of(cls, r: ApiUsageReport) -> ApiUsageOut:
        routes = [
            RouteUsageOut(x.method, x.route, x.requests, x.errors, x.p50_ms, x.p95_ms)
            for x in r.routes
        ]
        return cls(r.period.name, r.period.start, r.period.end, routes)
