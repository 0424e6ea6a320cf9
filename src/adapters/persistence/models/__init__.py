"""ORM models. Importing this package registers every table on ``metadata``."""

from advanced_alchemy.base import orm_registry

from adapters.persistence.models import chat, identity, jobs, notifications, search, usage

metadata = orm_registry.metadata

__all__ = ["chat", "identity", "jobs", "metadata", "notifications", "search", "usage"]
