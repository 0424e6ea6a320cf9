"""Per-process cache of what authentication reads from the database.

Entries are stored under the user's identity epoch (see ``TokenStore``) and are used only
while the epoch the store reports on the current request is the same; a short maximum
age bounds staleness even if an epoch bump was lost. Bounded LRU, so memory stays flat.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_AGE_S = 5.0

K = TypeVar("K")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class UserState:
    """The part of a user row that authentication depends on."""

    role: str
    plan: str
    is_active: bool


@dataclass(frozen=True, slots=True)
class KeyOwner:
    """An API key digest resolved to its key and owner."""

    key_id: UUID
    user_id: UUID


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    value: T
    epoch: int
    loaded_at: float


class _Lru(Generic[K, T]):
    def __init__(self, max_entries: int, max_age_s: float, now: Callable[[], float]) -> None:
        self._items: OrderedDict[K, _Entry[T]] = OrderedDict()
        self._max_entries = max_entries
        self._max_age_s = max_age_s
        self._now = now

    def get(self, key: K) -> _Entry[T] | None:
        entry = self._items.get(key)
        if entry is None:
            return None
        if self._now() - entry.loaded_at > self._max_age_s:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return entry

    def put(self, key: K, value: T, epoch: int) -> None:
        self._items[key] = _Entry(value, epoch, self._now())
        self._items.move_to_end(key)
        while len(self._items) > self._max_entries:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class AuthCache:
    """Process-wide (APP scope); holds no secrets: API keys are keyed by their digest."""

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._users: _Lru[UUID, UserState] = _Lru(max_entries, max_age_s, now)
        self._keys: _Lru[str, KeyOwner] = _Lru(max_entries, max_age_s, now)

    def user(self, user_id: UUID, epoch: int) -> UserState | None:
        """The cached state, if it was loaded under this very epoch and is fresh."""
        entry = self._users.get(user_id)
        return entry.value if entry is not None and entry.epoch == epoch else None

    def put_user(self, user_id: UUID, state: UserState, epoch: int) -> None:
        self._users.put(user_id, state, epoch)

    def key(self, digest: str) -> tuple[KeyOwner, int] | None:
        """The cached owner of a key digest and the epoch it was loaded under."""
        entry = self._keys.get(digest)
        return (entry.value, entry.epoch) if entry is not None else None

    def put_key(self, digest: str, owner: KeyOwner, epoch: int) -> None:
        self._keys.put(digest, owner, epoch)

    @property
    def size(self) -> int:
        return len(self._users) + len(self._keys)
