"""Identity policy knobs, built from settings by the composition root."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IdentityConfig:
    access_ttl_s: int = 900
    refresh_ttl_s: int = 14 * 86400
    session_max_age_s: int = 30 * 86400
    login_per_account_per_minute: int = 10
    login_per_ip_per_minute: int = 30
    plans: tuple[str, ...] = ("free", "pro", "unlimited")
    default_plan: str = "free"

    @property
    def revocation_ttl_s(self) -> int:
        """How long a revoked session must stay blocked: until its last access token dies
        (plus a minute of clock skew between instances)."""
        return self.access_ttl_s + 60
