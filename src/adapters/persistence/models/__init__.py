"""ORM models. Importing this package registers every table on ``metadata``."""

from advanced_alchemy.base import orm_registry

from adapters.persistence.models import chat, health, identity, jobs, notifications, search, usage

metadata = orm_registry.metadata

__all__ = [
    "chat",
    "health",
    "identity",
    "jobs",
    "metadata",
    "notifications",
    "search",
    "usage",
]
