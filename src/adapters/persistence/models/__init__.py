"""ORM models. Importing this package registers every table on ``metadata``."""

from advanced_alchemy.base import orm_registry

from adapters.persistence.models import chat, health, identity, notifications, search, usage

metadata = orm_registry.metadata

__all__ = ["chat", "health", "identity", "metadata", "notifications", "search", "usage"]
