"""Redis quota ledger: each operation is one Lua script, so reserve-check-hold is atomic
across every API instance. Time comes from the Redis server, so instances with
skewed clocks agree on when a hold expires.

Keys per account share a hash tag (``{account}``), so they stay in one cluster slot:
- ``quota:{a}:<period>``  hash: settled ``tokens``, ``messages``, and ``seeded``;
- ``quota:{a}:holds``     hash: hold id -> "tokens:messages:stream";
- ``quota:{a}:expiry``    sorted set: hold id scored by its expiry (ms).
"""

from __future__ import annotations

import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.redis.autopipeline import AutoPipeline
from application.ports.quota_ledger import (
    Denial,
    Hold,
    QuotaAsk,
    QuotaLedger,
    QuotaLedgerUnavailable,
    QuotaLimits,
    QuotaState,
    Reservation,
)

# Settled counters outlive their month long enough for late settles and dashboards.
COUNTERS_TTL_S = 40 * 86400

# Drops expired holds, then sums the live ones. Returns {tokens, messages, streams}.
_LIVE_HOLDS = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now_ms)
if #expired > 0 then
  redis.call('HDEL', KEYS[2], unpack(expired))
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now_ms)
end
local held_t, held_m, streams = 0, 0, 0
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do
  local t, m, s = string.match(v, '^(%d+):(%d+):(%d+)$')
  held_t = held_t + tonumber(t)
  held_m = held_m + tonumber(m)
  streams = streams + tonumber(s)
end
local used_t = tonumber(redis.call('HGET', KEYS[1], 'tokens') or '0')
local used_m = tonumber(redis.call('HGET', KEYS[1], 'messages') or '0')
"""

# ARGV: hold id, want tokens, min tokens, messages, stream (0/1), limit tokens,
# limit messages, limit streams (-1: unlimited), hold ttl (ms).
# Returns {status, grant, used_t, used_m, held_t, held_m, streams}; status 1 granted,
# -1 unseeded, 2 denied on tokens, 3 on messages, 4 on streams.
_RESERVE = (
    """
if redis.call('HEXISTS', KEYS[1], 'seeded') == 0 then return {-1, 0, 0, 0, 0, 0, 0} end
"""
    + _LIVE_HOLDS
    + """
local want_t, min_t = tonumber(ARGV[2]), tonumber(ARGV[3])
local want_m, want_s = tonumber(ARGV[4]), tonumber(ARGV[5])
local lim_t, lim_m, lim_s = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local state = {used_t, used_m, held_t, held_m, streams}
if want_s == 1 and lim_s >= 0 and streams >= lim_s then
  return {4, 0, unpack(state)}
end
if lim_m >= 0 and used_m + held_m + want_m > lim_m then return {3, 0, unpack(state)} end
local grant = want_t
if lim_t >= 0 then
  local left = lim_t - used_t - held_t
  if left < min_t then return {2, 0, unpack(state)} end
  if left < grant then grant = left end
end
local ttl = tonumber(ARGV[9])
redis.call('HSET', KEYS[2], ARGV[1], grant .. ':' .. want_m .. ':' .. want_s)
redis.call('ZADD', KEYS[3], now_ms + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return {1, grant, unpack(state)}
"""
)

# ARGV: hold id, tokens, messages, counters ttl (s).
_SETTLE = """
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'messages', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""

# ARGV: tokens, messages, counters ttl (s). Overwrites counters a settle made while unseeded:
# the database the seed comes from already holds those.
_SEED = """
if redis.call('HEXISTS', KEYS[1], 'seeded') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'tokens', ARGV[1], 'messages', ARGV[2], 'seeded', 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""

_STATE = (
    """
if redis.call('HEXISTS', KEYS[1], 'seeded') == 0 then return {-1} end
"""
    + _LIVE_HOLDS
    + """
return {1, used_t, used_m, held_t, held_m, streams}
"""
)

_DENIALS: dict[int, Denial] = {2: "tokens", 3: "messages", 4: "streams"}


class RedisQuotaLedger(QuotaLedger):
    def __init__(
        self, redis: Redis, key_prefix: str, calls: AutoPipeline | Redis | None = None
    ) -> None:
        """``calls``: where reserve and settle go (an ``AutoPipeline``, so those of
        concurrent requests share round trips); the client by default."""
        self._calls = calls if calls is not None else redis
        self._prefix = f"{key_prefix}quota:"
        self._reserve = redis.register_script(_RESERVE)
        self._settle = redis.register_script(_SETTLE)
        self._seed = redis.register_script(_SEED)
        self._state = redis.register_script(_STATE)

    def _keys(self, account: str, period: str) -> list[str]:
        base = f"{self._prefix}{{{account}}}"
        return [f"{base}:{period}", f"{base}:holds", f"{base}:expiry"]

    async def reserve(
        self, account: str, period: str, ask: QuotaAsk, limits: QuotaLimits, ttl_s: float
    ) -> Reservation:
        hold_id = uuid.uuid4().hex
        args: list[str | int] = [
            hold_id,
            ask.tokens,
            ask.min_tokens,
            ask.messages,
            int(ask.stream),
            _limit(limits.tokens),
            _limit(limits.messages),
            _limit(limits.streams),
            max(1, int(ttl_s * 1000)),
        ]
        try:
            reply = await self._reserve(
                keys=self._keys(account, period),
                args=args,
                client=self._calls,  # type: ignore[arg-type]
            )
        except (RedisError, OSError) as exc:
            raise QuotaLedgerUnavailable("quota accounting is unavailable; try again") from exc
        status, grant, *numbers = (int(x) for x in reply)
        if status == -1:
            return Reservation()
        state = QuotaState(*numbers)
        if status != 1:
            return Reservation(denied=_DENIALS[status], state=state)
        hold = Hold(hold_id, account, period, grant, ask.messages, ask.stream)
        return Reservation(hold=hold, state=state)

    async def settle(self, hold: Hold, *, tokens: int, messages: int) -> None:
        args: list[str | int] = [hold.id, max(0, tokens), max(0, messages), COUNTERS_TTL_S]
        try:
            await self._settle(
                keys=self._keys(hold.account, hold.period),
                args=args,
                client=self._calls,  # type: ignore[arg-type]
            )
        except (RedisError, OSError) as exc:
            raise QuotaLedgerUnavailable("quota accounting is unavailable") from exc

    async def seed(self, account: str, period: str, *, tokens: int, messages: int) -> None:
        try:
            await self._seed(
                keys=self._keys(account, period), args=[tokens, messages, COUNTERS_TTL_S]
            )
        except (RedisError, OSError) as exc:
            raise QuotaLedgerUnavailable("quota accounting is unavailable; try again") from exc

    async def state(self, account: str, period: str) -> QuotaState | None:
        try:
            reply = await self._state(keys=self._keys(account, period), args=[])
        except (RedisError, OSError) as exc:
            raise QuotaLedgerUnavailable("quota accounting is unavailable") from exc
        status, *numbers = (int(x) for x in reply)
        return None if status == -1 else QuotaState(*numbers)


def _limit(value: int | None) -> int:
    return -1 if value is None else value
